#pragma once
// The instrumentation bus: every event the runtime has, for metrics, health, tracing and
// checkers. Samsa's own /metrics, /health and status page are built on it, as a user's
// exporter would be.
//
// Two kinds of subscribers:
//  - subscribe(): called on the monitor's own thread, in the order the events were
//    published, off the hot path, at most kDeliveryInterval (50 ms) after the publication.
//    publish() only copies the event into a bounded queue (kQueueCapacity); when a
//    subscriber falls that far behind, newer events are dropped and counted (dropped()),
//    never blocking a listener or a worker.
//  - subscribe_inline(): called synchronously on the thread where the event happens
//    (listener, worker, or a librdkafka callback served by the listener), before the
//    runtime goes on: for checkers that need that ordering (e.g. partitions_revoked before
//    the partitions are given up). Must be quick and thread-safe.
// A subscriber must not throw: an exception is swallowed (events are published from
// librdkafka callbacks and worker threads, where it could only terminate the process).
// Subscribe before App::serve; subscribing is not thread-safe against publish.
// When no one subscribed, the runtime does not even build the events.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "samsa/group_member.hpp"

namespace samsa {

enum class EventType {
  /// The group's consumer polled: one event per 100 ms at most, for the polls since the
  /// last one (none while it did not poll): `polls` how many, `count` the messages they
  /// queued, `duration` the time spent in them (waits for a first message included).
  poll,
  /// after the assignment was applied; `duration` the time spent in the callback.
  partitions_assigned,
  /// before the partitions are given up (after revoked() and the commit); `duration` the
  /// time spent in the callback (waiting for jobs, revoked(), the commit).
  partitions_revoked,
  /// as partitions_revoked, when librdkafka reports the partitions lost (the session
  /// expired or the member was fenced): nothing could be committed for them.
  partitions_lost,
  /// consume() returned without error; `offsets` has the batch's first offset, `count`
  /// how many of its messages were handed to consume() (fewer than the batch when the
  /// consumer paused or sought, one message at a time), `last_offset` the last of them,
  /// `bytes` their payload bytes, `duration` the time after_fetch() and consume() took.
  batch_consumed,
  /// The marks of partitions were handed to librdkafka (stored, to be committed); `offsets`
  /// the offsets to commit (the next to consume), one per partition whose mark moved.
  offsets_marked,
  /// a hook threw; `hook` names it ("consume", "after_fetch", "tick", ...), `error` has
  /// the message, `offsets` the partition and the failed batch's first offset (for
  /// consume/after_fetch, `count` its size) or its first unmarked offset (other hooks);
  /// `attempt` the failure's number for that first unmarked message (0: not counted).
  hook_failed,
  /// A partition pauses after a failure and will retry; `offsets` has where it resumes,
  /// `attempt` the number of the coming attempt, `duration` the back-off.
  retry,
  /// a commit finished without error (any origin); `offsets` what the broker confirmed,
  /// `duration` the commit's latency (request to answer), negative when unknown: a commit
  /// librdkafka made by itself (its auto-commit timer, which commits the marked offsets).
  /// Its answer may repeat offsets confirmed already: those are left out, and `offsets`
  /// may be empty.
  offsets_committed,
  /// a commit failed; `error` the reason, `offsets` what was to be committed, `duration`
  /// the latency (negative: unknown, as above). What was marked stays marked and is
  /// committed again later.
  commit_failed,
  /// paused in librdkafka; `reason` "back-pressure" (its queue is full; `count`
  /// messages queued), "error" (back-off; `offsets` has where it resumes) or "consumer"
  /// (the consumer's pause or seek; `offsets` has where it resumes)
  partition_paused,
  partition_resumed,    ///< resumed; `reason` as when it was paused
  /// a message that failed max_retries + 1 times was dispatched to the dead-letter
  /// topic named in `reason` (empty: skipped, dispatch = false) and marked; `offsets`
  /// has its offset
  dead_letter,
  /// An error of the consumer group's client (librdkafka), or of one topic; `error` the
  /// text, `reason` librdkafka's error name, `offsets` the topic when there is one.
  error,
  /// librdkafka's statistics (kafka.statistics.interval.ms): `json` the document.
  statistics,
  /// The high watermarks (log-end offsets) of the group's assigned partitions, read from
  /// the brokers every lag_interval: `offsets` one per partition, `offset` the watermark;
  /// `committed` the offset the group coordinator had committed for each (-1: none, or it
  /// did not answer); `at` when the reading began.
  watermarks,
  /// The group as its coordinator describes it (DescribeConsumerGroups), read on the
  /// watermarks' thread every lag_interval: `members` every member of the group (of this
  /// process and of others) with its assigned partitions, sorted by member id; `reason`
  /// the group's state ("Stable", "PreparingRebalance", "CompletingRebalance", "Empty",
  /// "Dead"); `at` when the reading began. When the broker could not say (it cannot
  /// describe groups, or did not answer), `error` says why and `members` is empty: the
  /// members are unknown, not none.
  group_described,
  shutdown_started,
  /// A step of the graceful shutdown, named in `reason` ("jobs finished", "committed", ...),
  /// per consumer group.
  shutdown_step,
  shutdown_finished,
};

/// "partitions_assigned", ...
const char* to_string(EventType type);

struct TopicPartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1;
};

struct Event {
  EventType type;
  std::string consumer_group;
  std::vector<TopicPartitionOffset> offsets;
  std::size_t count = 0;
  std::string error;
  /// hook_failed: the hook's name.
  std::string hook = {};
  /// partition_paused, partition_resumed, dead_letter, error, shutdown_step: see EventType.
  std::string reason = {};
  /// See EventType (poll, rebalances, batch_consumed, commits, retry).
  std::chrono::nanoseconds duration{0};
  /// batch_consumed: payload bytes.
  std::uint64_t bytes = 0;
  /// poll: the polls this event stands for.
  std::uint64_t polls = 0;
  /// batch_consumed: the batch's last offset.
  std::int64_t last_offset = -1;
  /// hook_failed, retry.
  int attempt = 0;
  /// watermarks: the committed offsets, one per entry of `offsets`.
  std::vector<std::int64_t> committed = {};
  /// group_described: the group's members (empty, no allocation, for every other event).
  std::vector<GroupMember> members = {};
  /// statistics: librdkafka's JSON document.
  std::string json = {};
  /// When it happened; set by publish() when left empty.
  std::chrono::system_clock::time_point at{};
};

class Monitor {
 public:
  using Listener = std::function<void(const Event&)>;
  /// Most events waiting for the asynchronous subscribers (those being delivered included).
  static constexpr std::size_t kQueueCapacity = 100000;
  /// The asynchronous subscribers get what was published every kDeliveryInterval, or as
  /// soon as kWakeAt events wait (or flush() asks), in batches on the monitor's thread.
  static constexpr std::chrono::milliseconds kDeliveryInterval{50};
  static constexpr std::size_t kWakeAt = 512;

  Monitor() = default;
  /// Delivers what is queued, then stops the monitor's thread.
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  /// Adds an asynchronous subscriber (see the top of this file). Before App::serve.
  void subscribe(Listener listener);
  /// Adds a synchronous subscriber (see the top of this file). Before App::serve.
  void subscribe_inline(Listener listener);
  /// Calls the inline subscribers, and queues the event for the others. Any thread; never
  /// blocks on a subscriber.
  void publish(const Event& event) const;
  /// True when no one subscribed: the runtime skips building events.
  bool empty() const { return inline_.empty() && async_.empty(); }
  /// Blocks until every event published before the call was delivered to the
  /// asynchronous subscribers (or `timeout`); true when it was. Not from a subscriber.
  bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;
  /// Events not delivered to the asynchronous subscribers because the queue was full.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void run() const;

  std::vector<Listener> inline_;
  std::vector<Listener> async_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::condition_variable drained_cv_;
  mutable std::deque<Event> queue_;
  mutable std::uint64_t published_ = 0;  // under mu_: queued so far
  mutable std::uint64_t delivered_ = 0;  // under mu_: handed to the subscribers so far
  mutable std::atomic<std::uint64_t> dropped_{0};
  mutable int flushing_ = 0;  // under mu_: flush() calls waiting
  mutable std::size_t in_hand_ = 0;  // under mu_: events taken from queue_, being delivered
  bool stop_ = false;  // under mu_
  std::thread thread_;
};

}  // namespace samsa
