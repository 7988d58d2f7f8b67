#pragma once
// The commits of one consumer group: synchronous commits with the one retry policy,
// asynchronous ones, and the bookkeeping of what the broker confirmed (so a commit that
// librdkafka repeats, e.g. on unassign, is not reported twice). Every commit answer, of
// either kind, is recorded, logged and published here.
//
// Threads: commit_sync() from any thread (a job, a user thread, the listener); on_answer()
// from the listener thread (asynchronous answers) and from commit_sync()'s caller.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kafka/consumer_client.hpp"
#include "samsa/instrumentation.hpp"
#include "samsa/logger.hpp"
#include "samsa/topic_partition.hpp"

namespace samsa::runtime {

class Committer {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  /// Called for every partition offset the broker confirmed (any thread, no lock held).
  using Confirmed = std::function<void(const kafka::CommitOffset&)>;
  /// Called when a commit proved a broker alive.
  using Answered = std::function<void()>;

  Committer(kafka::ConsumerClient& client, const std::string& group, Logger& logger, const Monitor& monitor,
            Confirmed confirmed, Answered answered);

  /// Whether this member still owns a partition (asked before a commit is retried).
  using Owned = std::function<bool(const std::string& topic, std::int32_t partition)>;

  /// Commits exactly `offsets` and waits for the answer until `deadline`. Retries the
  /// transient coordinator errors (Status::retriable) up to 4 times with 100, 200, 400,
  /// 800 ms between tries, within the deadline; never REBALANCE_IN_PROGRESS, which cannot
  /// clear while the caller holds up the poll loop (the marks stay stored and are committed
  /// when the partitions are revoked). Returns the final error (ok on success or when
  /// `offsets` is empty). No answer before the deadline is timed_out, reported as a failed
  /// commit: the marks stay uncommitted and are committed again.
  ///
  /// STALE_MEMBER_EPOCH (KIP-848; docs/offsets.md, "A stale member epoch"): retried, within
  /// the deadline only, as soon as the client's member epoch differs from the one it had
  /// when it sent the refused commit, and then only for the partitions still owned:
  /// `owned` says so for each (empty: all), and nothing is owned while the client says the
  /// assignment is lost. A partition no longer owned is never committed again; the result
  /// is then an ownership loss (state) unless another error came. The deadline passing
  /// first returns the stale_member_epoch error (the marks stay stored).
  ///
  /// One synchronous commit of the group is in flight at a time: a caller waits for the one
  /// before it (within its deadline). librdkafka completes an assignment change only when
  /// no commit is in flight, and concurrent back-to-back commits starved a KIP-848
  /// revocation for over a minute.
  kafka::Status commit_sync(const std::vector<kafka::CommitOffset>& offsets, Deadline deadline,
                            const Owned& owned = {});
  /// Asks for an asynchronous commit of everything stored (logged when refused).
  void commit_async();
  /// Records, logs and publishes a commit's answer. `latency`: how long the commit took;
  /// negative (an asynchronous commit's answer): since the last commit_async().
  void on_answer(const kafka::CommitAnswer& answer, std::chrono::nanoseconds latency = std::chrono::nanoseconds(-1));

 private:
  /// Records the offsets the broker confirmed (none after a request error). Returns the
  /// entries to report: all of a failed commit; of a successful one, those whose offset the
  /// broker had not confirmed already.
  std::vector<TopicPartitionOffset> note(const kafka::CommitAnswer& answer);
  /// Waits until the client's member epoch is a current one other than `sent`, or the
  /// client says the assignment is lost, until `deadline`; false when the deadline passed
  /// first.
  bool await_new_epoch(std::int32_t sent, Deadline deadline);
  /// Drops from `offsets` the partitions this member no longer owns (logged). Returns
  /// whether any was dropped.
  bool keep_owned(std::vector<kafka::CommitOffset>& offsets, const Owned& owned);

  kafka::ConsumerClient& client_;
  const std::string& group_;
  Logger& logger_;
  const Monitor& monitor_;
  Confirmed confirmed_cb_;
  Answered answered_cb_;
  // The last offset the broker confirmed per partition, kept after the partition is given
  // up (librdkafka's commit on unassign repeats revoke()'s).
  std::mutex mu_;
  std::map<TopicPartition, std::int64_t> confirmed_;
  /// A synchronous commit is in flight (see commit_sync); under in_flight_mu_.
  std::mutex in_flight_mu_;
  std::condition_variable in_flight_cv_;
  bool in_flight_ = false;
  /// When commit_async() last asked (steady_clock ticks), for the answer's latency.
  std::atomic<std::chrono::steady_clock::rep> async_asked_{0};
};

/// "topic/partition@offset ..." of `offsets`, for logs.
std::string describe_offsets(const std::vector<kafka::CommitOffset>& offsets);

}  // namespace samsa::runtime
