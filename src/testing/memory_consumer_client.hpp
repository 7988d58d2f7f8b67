#pragma once
// A kafka::ConsumerClient with no Kafka behind it: what samsa::testing::ConsumerTest runs a
// user's consumers on, and what the runtime's unit tests and the micro-benchmarks use
// (tests/support/ names it FakeConsumerClient). One member of one group whose partitions the test assigns and revokes,
// logs the test appends to, and a record of every call the runtime made (pause, resume,
// seek, store, commit, unassign), in order, so tests can assert the order of a rebalance.
//
// Semantics follow librdkafka's where the runtime depends on them:
// - a partition's position starts at its committed offset (0 when none); poll() hands out
//   the next message of an assigned, unpaused partition (round robin) and advances it;
// - pause() keeps the position (librdkafka resumes after the last message handed out);
//   seek() moves it; a pause outlives an unassignment and a new assignment, as in librdkafka;
// - store() is refused (ownership lost) for a partition not assigned; a commit takes the
//   given offsets; unassign() and close() commit what was stored, as the auto-commit does;
// - rebalances, asynchronous commit answers and errors are delivered inside poll().
// Thread-safe; events are called with no lock held.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kafka/consumer_client.hpp"
#include "samsa/topic_partition.hpp"

namespace samsa::testing {

class MemoryConsumerClient final : public kafka::ConsumerClient {
 public:
  using TP = TopicPartition;
  struct Record {
    std::string topic;
    /// Stable per topic (Fetched::topic_key): the client's one copy of the name; null for
    /// a record made by hand (borrowed()), which then uses its own `topic`.
    const std::string* topic_key = nullptr;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string key;
    /// An empty `key` is a null key unless this is set.
    bool has_key = false;
    std::string payload;
    bool has_payload = true;  // false: a tombstone
    std::int64_t timestamp_ms = -1;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  };

  MemoryConsumerClient() = default;
  ~MemoryConsumerClient() override;

  // --- The test's side. ---
  /// Appends messages with these payloads to topic/partition.
  void produce(const std::string& topic, std::int32_t partition, const std::vector<std::string>& payloads);
  /// Appends `r` (its topic, partition, key, payload, headers and timestamp; the offset is
  /// the log's next) and returns its offset.
  std::int64_t append(Record r);
  /// The offset the next poll() of a partition hands out, and its log's end.
  std::int64_t position(const std::string& topic, std::int32_t partition) const;
  std::int64_t log_end(const std::string& topic, std::int32_t partition) const;
  /// A rebalance asked for (rebalance_assign/revoke) has not reached poll() yet.
  bool rebalance_pending() const;
  /// The committed offset's metadata (empty: none).
  std::string committed_metadata(const std::string& topic, std::int32_t partition) const;
  /// The next poll() runs on_assigned(parts) (offsets: INVALID, "from the committed one").
  void rebalance_assign(const std::vector<TP>& parts);
  /// The next poll() runs on_revoked(parts, lost).
  void rebalance_revoke(const std::vector<TP>& parts, bool lost = false);
  /// The next poll() reports `error` through on_error, before any rebalance it serves (as
  /// librdkafka's error callback reports a failed connection before the group can form).
  void report_error(kafka::Status error);
  /// The next `n` commit() calls fail with `error` (then they succeed again).
  void fail_commits(int n, kafka::Status error);
  /// The next `n` seek() calls fail.
  void fail_seeks(int n);
  /// KIP-848's member epoch, as the broker has it and as the client knows it (both unset:
  /// member_epoch() is nullopt, as under the classic protocol). While they differ, every
  /// commit() is refused with stale_member_epoch, as the broker refuses a commit that
  /// carries an epoch other than the member's.
  void set_broker_epoch(std::int32_t epoch);
  void set_member_epoch(std::int32_t epoch);
  /// What assignment_lost() answers outside a lost revocation (librdkafka knows of a loss,
  /// e.g. a fenced member, before the revocation reaches poll()).
  void set_assignment_lost(bool lost) { lost_now_ = lost; }
  /// How many times member_epoch() was asked.
  int epoch_reads() const { return epoch_reads_.load(); }
  /// What the broker has committed for a partition (-1: nothing).
  std::int64_t committed(const std::string& topic, std::int32_t partition) const;
  /// Every call of the runtime that matters to a test, in order: "pause t/0", "resume t/0",
  /// "seek t/0@5" (or "seek t/0@5 failed"), "commit t/0@7" (commit() and auto-commits alike), "assign t[0,1]",
  /// "unassign t[0]", "close"; plus whatever the test adds with note().
  std::vector<std::string> calls() const;
  void note(const std::string& what);
  /// The calls so far that start with `prefix`.
  std::vector<std::string> calls_starting(const std::string& prefix) const;
  /// How many fetched messages the runtime still holds (not released).
  int outstanding() const { return outstanding_.load(); }
  bool paused(const std::string& topic, std::int32_t partition) const;
  int polls() const { return polls_.load(); }

  /// A Fetched over `r`, released into nothing: for tests and benchmarks that feed a
  /// Partition by hand. `r` must outlive it.
  static kafka::Fetched borrowed(const Record& r);

  // --- kafka::ConsumerClient ---
  void set_events(kafka::ClientEvents* events) override { events_ = events; }
  kafka::Status subscribe(const std::vector<std::string>& topics) override;
  kafka::Fetched poll(std::chrono::milliseconds timeout) override;
  void wake() override;
  bool incremental() const override { return incremental_; }
  kafka::Status assign(const std::vector<TopicPartitionOffset>& parts) override;
  kafka::Status unassign(const std::vector<TopicPartitionOffset>& parts) override;
  kafka::Status pause(const std::string& topic, std::int32_t partition) override;
  kafka::Status resume(const std::string& topic, std::int32_t partition) override;
  kafka::Status seek(const std::string& topic, std::int32_t partition, std::int64_t offset,
                     std::chrono::milliseconds timeout) override;
  kafka::Status store(const std::string& topic, std::int32_t partition, std::int64_t offset,
                      const std::string& metadata) override;
  kafka::CommitAnswer commit(const std::vector<kafka::CommitOffset>& offsets, std::chrono::milliseconds timeout) override;
  kafka::Status commit_async() override;
  kafka::Status committed_metadata(const std::string& topic, std::int32_t partition, std::chrono::milliseconds timeout,
                                   std::string& metadata) override;
  bool assignment_lost() override { return lost_ || lost_now_; }
  std::optional<std::int32_t> member_epoch() override;
  std::optional<bool> topic_exists(const std::string&, std::chrono::milliseconds) override { return true; }
  /// 0 and the log's length.
  kafka::Status watermarks(const std::string& topic, std::int32_t partition, std::chrono::milliseconds timeout,
                           std::int64_t& low, std::int64_t& high) override;
  kafka::Status committed_offsets(const std::vector<TopicPartition>& parts,
                                  std::chrono::milliseconds timeout, std::vector<std::int64_t>& offsets) override;
  /// The first record whose timestamp_ms is >= timestamp_ms (records made by produce() have
  /// timestamp_ms = 1000 * offset), else the log's length.
  kafka::Status offset_for_time(const std::string& topic, std::int32_t partition, std::int64_t timestamp_ms,
                                std::chrono::milliseconds timeout, std::int64_t& offset) override;
  kafka::Status close() override;
  std::chrono::milliseconds max_poll_interval() const override { return std::chrono::milliseconds(300000); }
  bool stores_offset_metadata() const override { return true; }
  std::string version() const override { return "fake client"; }

  /// Incremental rebalances (cooperative) rather than eager; set before the first one.
  bool incremental_ = false;

 private:
  struct PartitionState {
    std::deque<Record> log;
    std::int64_t position = 0;
    std::int64_t stored = -1;
    std::string stored_metadata;
    std::int64_t committed = -1;
    std::string committed_metadata;
    bool assigned = false;
    bool paused = false;
  };
  struct Rebalance {
    bool assign;
    std::vector<TP> parts;
    bool lost;
  };
  static const kafka::Fetched::Source kSource;
  static const kafka::Fetched::Source kBorrowed;
  /// The partition's state, null when nothing touched it yet. Under mu_.
  const PartitionState* find(const std::string& topic, std::int32_t partition) const;
  void record(const std::string& what);  // under mu_
  /// Commits what was stored for `parts` (the auto-commit's part of unassign and close).
  void commit_stored(const std::vector<TP>& parts);  // under mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<TP, PartitionState> parts_;
  std::set<std::string> topics_;  // the topic keys: set nodes never move
  std::deque<Rebalance> rebalances_;
  std::deque<kafka::CommitAnswer> async_answers_;
  std::deque<kafka::Status> errors_;
  std::vector<std::string> calls_;
  std::vector<TP> order_;  // assigned partitions, for round robin
  std::size_t next_ = 0;
  int failing_commits_ = 0;
  kafka::Status commit_error_;
  int failing_seeks_ = 0;
  bool woken_ = false;
  std::atomic<bool> lost_{false};      // during a lost revocation
  std::atomic<bool> lost_now_{false};  // set_assignment_lost
  std::optional<std::int32_t> broker_epoch_, member_epoch_;
  std::atomic<int> epoch_reads_{0};
  kafka::ClientEvents* events_ = nullptr;
  std::atomic<int> outstanding_{0};
  std::atomic<int> polls_{0};
};

}  // namespace samsa::testing
