#pragma once
// One event bus for what happens inside Samsa, for metrics, tracing and checkers (the
// verifiable consumer prints these as Kafka's VerifiableConsumer does).
//
// Threads: listeners are called synchronously on the thread where the event happens
// (listener, worker or librdkafka callback served by the listener); they must be quick
// and thread-safe, and must not throw.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace samsa {

enum class EventType {
  partitions_assigned,  ///< after the assignment was applied
  partitions_revoked,   ///< before the partitions are given up (after revoked() and the commit)
  batch_consumed,       ///< consume() returned without error; `offsets` has the batch's first offset, `count` its size
  hook_failed,          ///< a hook threw; `hook` names it ("consume", "after_fetch", "tick", ...), `error` has
                        ///< the message, `offsets` the partition and the failed batch's first offset (for
                        ///< consume/after_fetch, `count` its size) or its first unmarked offset (other hooks)
  offsets_committed,    ///< a commit finished (any origin); `error` empty on success
  partition_paused,     ///< paused in librdkafka; `reason` "back-pressure" (its queue is full; `count`
                        ///< messages queued), "error" (back-off; `offsets` has where it resumes) or "consumer"
                        ///< (the consumer's pause or seek; `offsets` has where it resumes)
  partition_resumed,    ///< resumed; `reason` as when it was paused
  dead_letter,          ///< a message that failed max_retries + 1 times was dispatched to the dead-letter
                        ///< topic named in `reason` (empty: skipped, dispatch = false) and marked; `offsets`
                        ///< has its offset
  shutdown_started,
  shutdown_finished,
};

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
  /// partition_paused, partition_resumed: why.
  std::string reason = {};
};

class Monitor {
 public:
  using Listener = std::function<void(const Event&)>;
  /// Adds a listener. Call before App::serve; not thread-safe against publish.
  void subscribe(Listener listener) { listeners_.push_back(std::move(listener)); }
  /// Calls every listener. An exception from a listener is swallowed: events are published
  /// from librdkafka callbacks and worker threads, where it could only terminate the process.
  void publish(const Event& event) const {
    for (const auto& l : listeners_) {
      try {
        l(event);
      } catch (...) {
      }
    }
  }
  bool empty() const { return listeners_.empty(); }

 private:
  std::vector<Listener> listeners_;
};

}  // namespace samsa
