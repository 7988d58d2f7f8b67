#pragma once
// One assigned topic-partition: its consumer instance, its offset tracker, the batch being
// handled, and its error/pause state. Lives from assignment to revocation.
//
// Threads: the listener thread creates and destroys it and fills the batch; one worker at a
// time runs its hooks; the marking methods are thread-safe and may also be called from
// user threads while it lives.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "samsa/consumer.hpp"
#include "samsa/offset_tracker.hpp"
#include "samsa/routing.hpp"

namespace samsa::runtime {

class Listener;

class Partition {
 public:
  Partition(Listener& listener, const TopicRoute& route, TopicSettings settings,
            std::int32_t partition);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  const std::string& topic() const { return topic_; }
  std::int32_t partition() const { return partition_; }
  const TopicSettings& settings() const { return settings_; }
  Listener& listener() const { return listener_; }
  Consumer& consumer() const { return *consumer_; }

  // --- Offsets: thread-safe. ---

  /// Cumulative mark through `offset`. Returns false (and marks nothing) when not owned.
  bool mark(std::int64_t offset);
  bool owned() const { return owned_.load(std::memory_order_acquire); }
  /// After revocation or when the broker said the partition is not ours any more.
  void disown() { owned_.store(false, std::memory_order_release); }
  /// The offset to commit when it moved past what the broker confirmed, else kNone.
  std::int64_t uncommitted() const;
  /// Records a commit the broker confirmed.
  void committed(std::int64_t offset);
  /// Where to resume after an error (see OffsetTracker::first_unmarked).
  std::int64_t first_unmarked() const;
  /// Hands the mark to librdkafka (rd_kafka_offsets_store) when it moved since the last
  /// store, so the background auto-commit picks it up. One librdkafka call per change,
  /// not per mark. Returns false when librdkafka refused it because the partition is no
  /// longer assigned (ownership lost; the partition is then disowned).
  bool store();

  // --- The batch: filled by the listener thread, handled by one worker. ---

  /// Takes ownership of `m` (destroyed by clear_batch()).
  void add(rd_kafka_message_t* m) { raw_.push_back(m); }
  /// Destroys the batch's librdkafka messages. Listener thread, no job running.
  void clear_batch();

  /// The job for a batch: after_fetch, consume (per batch or per message), automatic
  /// marking, error capture, store. Runs on a worker; never throws.
  void run_batch();
  /// Runs a hook with an exception guard; never throws. The marks it makes are stored by
  /// the caller's next store_all() or commit (the listener stores once per poll, not once
  /// per hook).
  void run_hook(void (Consumer::*hook)(), const char* name);

  // --- Error state: written by the job, read by the listener after the job finished. ---
  bool failed() const { return failed_; }
  /// Consecutive failures (0 after a success), for the back-off.
  int attempt() const { return attempt_; }
  /// Pause bookkeeping, listener thread only.
  bool paused = false;
  /// The seek to the first unmarked offset failed: stay paused until it succeeds.
  bool rewind_pending = false;
  std::chrono::steady_clock::time_point resume_at{};
  /// True while queued in the listener's list of partitions with a batch.
  bool active = false;

 private:
  void fail(const std::exception* e, std::int64_t offset, std::size_t count);

  Listener& listener_;
  const TopicRoute& route_;
  const std::string topic_;
  const std::int32_t partition_;
  const TopicSettings settings_;
  std::unique_ptr<Consumer> consumer_;

  mutable std::mutex mu_;  // the tracker
  std::mutex store_mu_;    // serialises store(); taken before mu_, never inside it
  OffsetTracker tracker_;
  std::atomic<bool> owned_{true};
  std::atomic<bool> dirty_{false};

  std::vector<rd_kafka_message_t*> raw_;
  std::vector<Message> views_;
  bool failed_ = false;
  int attempt_ = 0;
};

}  // namespace samsa::runtime
