#pragma once
// One assigned topic-partition: its consumer instance, its offset tracker, its queue of
// fetched messages, the batch being handled, and its error/pause state. Lives from
// assignment to revocation (or, when a revocation gave up waiting for its job, until that
// job returned: see Listener).
//
// Threads: the listener thread creates and destroys it, fills its queue and hands batches
// to jobs; at most one job of a partition is in flight at a time (so its hooks never run
// concurrently and its messages are handled in order); the marking methods are thread-safe
// and may also be called from user threads while it lives.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/fetched.hpp"
#include "kafka/transactional_producer.hpp"
#include "samsa/consumer.hpp"
#include "samsa/offset_tracker.hpp"
#include "samsa/routing.hpp"
#include "runtime/group_logger.hpp"
#include "runtime/pause_state.hpp"
#include "runtime/worker_pool.hpp"

namespace samsa::runtime {

class Listener;

/// The consumer's hooks, for running them and for reporting their failures. run_batch()
/// runs after_fetch and consume; run_hook() the others.
enum class Hook { initialized, after_fetch, consume, before_poll, after_poll, tick, revoked, before_stop };
const char* to_string(Hook hook);
/// True for the hooks of a partition that keeps consuming: an exception pauses it and
/// redelivers from the first unmarked message. False for the hooks of a partition that is
/// leaving (revoked, before_stop): an exception is reported and the marks stay as they were.
bool pauses_on_failure(Hook hook);

class Partition {
 public:
  Partition(Listener& listener, const TopicRoute& route, TopicSettings settings,
            std::int32_t partition);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  const std::string& topic() const { return topic_; }
  std::int32_t partition() const { return partition_; }
  /// What a log line of this partition is about, `offset` -1 when none (the listener's
  /// GroupLogger adds the group).
  LogFields at(std::int64_t offset) const { return LogFields{{}, topic_, partition_, offset}; }
  const TopicSettings& settings() const { return settings_; }
  Listener& listener() const { return listener_; }
  Consumer& consumer() const { return *consumer_; }
  /// What Consumer::logger() gives: the group's logger, each line also naming this topic
  /// and partition (unless the line names others).
  Logger& consumer_logger() { return consumer_logger_; }
  const TopicRoute& route() const { return route_; }

  // --- Offsets: thread-safe. ---

  /// Cumulative mark through `offset`. Returns false (and marks nothing) when not owned.
  /// Throws std::invalid_argument for an offset that was not delivered to this consumer in
  /// this assignment (above the highest delivered, or below the first; see docs/offsets.md).
  bool mark(std::int64_t offset);
  /// The same, setting the offset metadata committed with the mark (sticky: see
  /// OffsetTracker). Throws std::invalid_argument for metadata longer than
  /// kMaxMetadataBytes, and std::logic_error for any on a librdkafka older than 2.2 (it
  /// cannot carry metadata to the auto-commit); neither marks anything.
  bool mark(std::int64_t offset, std::string_view metadata);
  /// Kafka's default offset.metadata.max.bytes: a broker refuses a longer one.
  static constexpr std::size_t kMaxMetadataBytes = 4096;
  bool owned() const { return owned_.load(std::memory_order_acquire); }
  /// After revocation or when the broker said the partition is not ours any more.
  void disown() { owned_.store(false, std::memory_order_release); }
  /// What to commit: the mark and its metadata.
  struct Mark {
    std::int64_t offset = OffsetTracker::kNone;
    std::string metadata;
  };
  /// The mark when it (or its metadata) changed since what the broker confirmed; else
  /// offset kNone.
  Mark uncommitted() const;
  /// Records a commit the broker confirmed.
  void committed(std::int64_t offset, std::string_view metadata);
  /// The next offset to commit, from the marks (OffsetTracker::committable; kNone: none).
  std::int64_t committable() const {
    std::lock_guard lock(mu_);
    return tracker_.committable();
  }
  /// Where to resume after an error (see OffsetTracker::first_unmarked).
  std::int64_t first_unmarked() const;
  /// Hands the mark to the client (ConsumerClient::store) when it moved since the last
  /// store, so the background auto-commit picks it up. One call per change, not per mark.
  /// Returns false when the client refused it because the partition is no longer assigned
  /// (ownership lost; the partition is then disowned).
  bool store();

  // --- Offsets kept in the route's OffsetStore (stored_offsets.cpp) ---
  /// The route keeps its offsets in a store: marks are written by transactions only.
  bool has_store() const { return route_.offset_store() != nullptr; }
  /// Reads the store's next offset for this partition and keeps it as the one the next
  /// write expects. Returns it (std::nullopt: nothing stored). Throws OffsetStoreError.
  /// Listener thread at assignment, or this partition's job.
  std::optional<std::int64_t> load_stored();
  /// load_stored() succeeded in this assignment.
  bool stored_known() const { return stored_known_.load(std::memory_order_acquire); }
  /// Consumer::transaction (see there). Job thread, inside a hook.
  bool run_transaction(const std::function<void(StoreSession&)>& body);

  // --- Offsets committed by Kafka transactions (kafka_transactions.cpp) ---
  /// The partition's group is transactional: marks are made in transactions only, and the
  /// group's committed offset is what the last committed transaction sent.
  bool kafka_transactional() const { return kafka_transactional_; }
  /// Consumer::transaction with a KafkaTransaction (see there). Job thread, inside a hook.
  bool run_kafka_transaction(const std::function<void(KafkaTransaction&)>& body);
  /// The group's metadata when the listener handed out the job in flight (the listener
  /// writes it before it submits the job; the job reads it).
  kafka::GroupMetadata job_group;

  // --- The queue and the batch: the listener fills the queue and moves a batch out of it
  // when it starts a job; the job's worker handles the batch. ---

  /// Appends `m` to the queue of fetched messages. Listener thread.
  void enqueue(kafka::Fetched m);
  /// Messages, and their bytes (Fetched::footprint), queued, not yet in a job. Listener
  /// thread.
  std::size_t queued() const { return queued_.size() - head_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  /// The offset of the first queued message, kNone when the queue is empty.
  std::int64_t first_queued() const { return queued() == 0 ? OffsetTracker::kNone : queued_[head_].offset(); }
  /// The highest offset queued or handed out since the assignment or the last rewind (-1:
  /// none); a fetched message at or below it is a duplicate. Listener thread.
  std::int64_t last_queued() const { return last_queued_; }
  /// Moves up to `max` messages from the front of the queue into the batch (the next job's;
  /// it clears wind_down()), fewer once they hold `max_bytes` (at least one); returns the
  /// bytes moved (Fetched::footprint), which clear_batch() returns again. Amortised O(max), whatever the queue's length. Listener thread,
  /// no job in flight.
  std::size_t take_batch(std::size_t max, std::size_t max_bytes);
  /// Releases the queued messages (delivered again after a rewind or by the next owner).
  /// `rewound_to`: the offset the partition was sought to, the next one it accepts.
  /// Returns the bytes dropped (Fetched::footprint). Listener thread.
  std::size_t drop_queue(std::int64_t rewound_to);
  /// Messages in the batch (of the job in flight, or of the one that ended), and their bytes.
  std::size_t batch_size() const { return raw_.size(); }
  std::size_t batch_bytes() const { return batch_bytes_; }
  /// Messages of the batch its job handed to consume() (fewer than batch_size() when the
  /// job stopped early). Listener thread, after the job's end.
  std::size_t batch_handled() const { return handled_; }
  /// Records that a job handled `count` messages in `took`: the rate back-pressure uses
  /// (a moving average). Listener thread.
  void note_batch(std::size_t count, std::chrono::steady_clock::duration took);
  /// Messages per second its jobs handled lately (0 before the first batch).
  double rate() const { return rate_; }
  /// Releases the batch's messages; returns their bytes (take_batch's). No job in flight.
  std::size_t clear_batch();
  /// Gives back the storage of the queue, the batch and the views beyond `keep_bytes` each
  /// when they hold a quarter of it or less (the vectors keep their capacity otherwise:
  /// a thousand partitions that each once queued thousands of messages held hundreds of
  /// MiB of empty slots). Listener thread, no job in flight.
  void trim(std::size_t keep_bytes);
  /// Counts this partition's jobs (at most one in flight): the listener waits on it before
  /// it destroys the partition.
  JobGroup& jobs() { return jobs_; }

  /// The job for the messages taken (take_batch): initialized (again, if it has not
  /// succeeded yet), then for each max_messages of them in order run_one_batch, and store.
  /// Stops before the next max_messages after a failure, a seek or pause of the consumer,
  /// a lost partition or wind_down() (the messages left are released unhandled). Runs on a
  /// worker; never throws. A failure leaves failed() set for the listener.
  void run_batch();
  /// After the consume() in hand, the job ends (a revocation or the shutdown waits for
  /// it). Any thread; reset when the next job starts (take_batch).
  void wind_down() { wind_down_.store(true, std::memory_order_release); }
  /// After a batch (or its failure): batch_consumed for the first `handed` messages of `all`,
  /// those consume() returned from, when observed and there are any.
  void publish_consumed(const Messages& all, std::size_t handed, std::chrono::steady_clock::time_point began);
  /// Runs `hook` with an exception guard; never throws. Returns false when it threw; for a
  /// hook that pauses_on_failure() this also sets failed(). A hook other than initialized
  /// is not run (returns true) while initialized() has not succeeded. The marks it makes
  /// are stored by the caller's next store_all() or commit (the listener stores once per
  /// poll, not once per hook).
  bool run_hook(Hook hook);
  /// initialized() returned without throwing.
  bool ready() const { return ready_; }

  // --- Retries and dead letters (job thread). ---
  /// Consumer::attempt(): which delivery of the message at `offset` this is, counting the
  /// failed consume()/after_fetch() calls whose first unmarked message it was (1: the first).
  int attempt_of(std::int64_t offset) const { return offset == failed_offset_ ? failures_ + 1 : 1; }
  /// The attempt of the messages in hand (0 outside consume/after_fetch). Consumer's thread.
  int delivery_attempt() const { return delivery_attempt_; }
  /// After a dead-letter dispatch (or skip) marked the failed message: the listener rewinds
  /// to the next one at once, without a back-off. Listener thread, after the job.
  bool take_skip_backoff() { return std::exchange(skip_backoff_, false); }

  // --- The consumer's own pause/seek (Consumer::seek, pause, resume). ---
  /// What the consumer asked for in the hook that just ran: fetch again from `position`
  /// (kNone: from where it is), not before `pause_for` passed.
  struct Control {
    std::int64_t position = OffsetTracker::kNone;
    std::chrono::milliseconds pause_for{0};
    bool pause = false;
  };
  /// From a hook of this partition's consumer: moves the position to `position` (resolved,
  /// >= 0; kNone for a pause: from where it is) after the hook returns, pausing `pause_for`
  /// first when `pause`. The batch is not marked automatically; after a seek (not a pause)
  /// marks of offsets below `position` are refused (false). Throws std::logic_error outside the consumer's hooks. False (nothing
  /// done) when the partition is not owned.
  bool request_control(std::int64_t position, bool pause, std::chrono::milliseconds pause_for);
  /// The offset after the last one handed to the consumer (kNone before any delivery).
  std::int64_t next_to_deliver() const;
  /// The first offset handed to the consumer in this assignment (kNone before any).
  std::int64_t first_delivered() const {
    std::lock_guard lock(mu_);
    return assignment_start_;
  }
  /// The request of the hook that ran, once. Listener thread, no job in flight.
  std::optional<Control> take_control();
  /// Consumer::resume(): any thread; the listener ends the consumer's pause at its next
  /// housekeeping.
  void request_resume() { resume_requested_.store(true, std::memory_order_release); }
  bool take_resume_request() { return resume_requested_.exchange(false, std::memory_order_acq_rel); }
  bool resume_requested() const { return resume_requested_.load(std::memory_order_acquire); }
  /// A pause starts: a resume() asked for before it does not end it.
  void forget_resume_request() { resume_requested_.store(false, std::memory_order_release); }
  /// A hook of the consumer runs now on the calling thread (seek/pause are allowed only then).
  bool in_hook() const { return hook_thread_.load(std::memory_order_acquire) == std::this_thread::get_id(); }
  /// Where the consumer stands, for pause_consecutive ("without moving"): the offset after
  /// the message in hand (per message), after the batch once consume() has it, the batch's
  /// first in after_fetch(), the position of a pause or seek it asked for, and after the
  /// end of a job the offset after what it handled. kNone: where the partition resumes
  /// anyway (nothing delivered yet, or after a failure: its first unmarked message).
  std::int64_t consumer_position() const;

  // --- Error state: written by the job, read by the listener after the job finished. ---
  /// The last job or hook failed; the listener pauses and rewinds the partition, then
  /// calls clear_failure().
  bool failed() const { return failed_; }
  void clear_failure() { failed_ = false; }
  /// Consecutive failures for the back-off: 0 again once a mark moves forward.
  int attempt() const { return attempt_.load(std::memory_order_relaxed); }
  // --- Scheduling and pause bookkeeping: listener thread only. ---
  /// Where its fetching is paused, and why. Only Pausing changes it.
  const PauseState& pause_state() const { return pause_; }
  /// A job (batch or hook) was handed to the pool and its end not yet processed.
  bool busy = false;
  /// In the listener's list of partitions that may start a job.
  bool listed = false;
  /// tick() is due and waits for the job in flight.
  bool tick_due = false;
  /// Being revoked: no job starts, fetched messages are dropped.
  bool leaving = false;
  /// A revocation stopped waiting for its job: disowned, out of the listener's map, kept
  /// alive until its jobs (then revoked()) returned.
  bool abandoned = false;
  /// Waits for an abandoned instance of the same partition to be gone: no job starts.
  bool held = false;
  /// revoked() was handed to a job.
  bool revoke_started = false;
  /// When the job in flight started, and whether its long run was reported.
  std::chrono::steady_clock::time_point job_started{};
  bool long_job_reported = false;

 private:
  // Pausing is the only class that changes the pause state, through mutable_pause_state().
  friend class Pausing;
  PauseState& mutable_pause_state() { return pause_; }

  /// Records a failure of `hook` with the exception in flight (call from a catch block):
  /// log, hook_failed event, and when pauses_on_failure(hook) failed() and the back-off
  /// attempt. `count` messages from `offset` were being handled (0: none).
  void fail(Hook hook, std::int64_t offset, std::size_t count);
  /// After consume()/after_fetch() failed on the batch in hand (call from the catch block):
  /// counts the attempt on the first unmarked message, and past max_retries hands it to the
  /// dead-letter queue (dispatch or skip), marking it when that succeeded. These three are
  /// in dead_letter.cpp.
  void count_failure_and_dead_letter();
  void count_failure_and_dead_letter_unguarded();
  /// Produces `m` to the route's dead-letter topic and waits for the broker; false (logged)
  /// when it was not delivered.
  bool dispatch_dead_letter(const Message& m, const std::string& error_class, const std::string& error_text);
  /// Builds the dead letter of `m` (its key, payload and headers, and the original_* and
  /// error_* headers) and hands it to `send`, during which its views are valid.
  void with_dead_letter(const Message& m, const std::string& error_class, const std::string& error_text,
                        const std::function<void(const OutgoingMessage&)>& send);

  Listener& listener_;
  const TopicRoute& route_;
  const std::string topic_;
  const std::int32_t partition_;
  const TopicSettings settings_;
  GroupLogger consumer_logger_;
  std::unique_ptr<Consumer> consumer_;

  mutable std::mutex mu_;  // the tracker
  std::mutex store_mu_;    // serialises store(); taken before mu_, never inside it
  OffsetTracker tracker_;
  std::atomic<bool> owned_{true};
  std::atomic<bool> dirty_{false};
  std::atomic<int> attempt_{0};
  PauseState pause_;  // listener thread

  /// The checks and bookkeeping of both mark()s; `metadata` only for a mark with metadata.
  bool mark_checked(std::int64_t offset, std::optional<std::string_view> metadata);
  /// A checked mark into the tracker, for the next store and commit. Under mu_.
  void apply_mark(std::int64_t offset, std::optional<std::string_view> metadata = std::nullopt);

  // The queue is queued_[head_, end): taking a batch advances head_ (erasing from the front
  // of a long queue per batch would move the whole queue each time); the taken slots are
  // reclaimed when the queue empties or they are half of it. Listener thread.
  std::vector<kafka::Fetched> queued_;
  std::size_t head_ = 0;
  double rate_ = 0;  // listener thread
  std::size_t queued_bytes_ = 0;
  std::int64_t last_queued_ = -1;
  std::vector<kafka::Fetched> raw_;  // the batch: the job's while one is in flight
  std::size_t batch_bytes_ = 0;      // raw_'s bytes (Fetched::footprint), listener thread
  std::vector<Message> views_;
  // The part of views_ handed to the consumer now, [begin, end) (job thread).
  std::size_t in_hand_begin_ = 0;
  std::size_t in_hand_end_ = 0;
  std::size_t handled_ = 0;  // batch_handled(), written by the job
  JobGroup jobs_;
  bool failed_ = false;
  bool ready_ = false;
  // Retries (job thread): the failures counted on the first unmarked offset failed_offset_.
  std::int64_t failed_offset_ = OffsetTracker::kNone;
  int failures_ = 0;
  int delivery_attempt_ = 0;
  bool skip_backoff_ = false;
  // A message dispatched to the dead-letter topic whose mark (in the offset store) has not
  // been written yet: its next failure retries the mark, not the dispatch.
  std::int64_t dispatched_offset_ = OffsetTracker::kNone;
  // The consumer's seek/pause: written in its hook, taken by the listener after it (the
  // end of a job is ordered by the pool's lock; poll hooks run on the listener thread).
  std::optional<Control> control_;
  std::int64_t sought_ = OffsetTracker::kNone;  // under mu_: marks below it are refused
  std::int64_t assignment_start_ = OffsetTracker::kNone;  // under mu_
  std::atomic<bool> resume_requested_{false};
  std::atomic<bool> wind_down_{false};
  /// One batch of the job (at most max_messages): after_fetch, consume (per batch or per
  /// message), automatic marking, error capture.
  void run_one_batch(const Messages& all);
  std::atomic<std::thread::id> hook_thread_{};  // the thread running a hook of the consumer
  // The offset store (stored_offsets.cpp). stored_next_: the next offset this owner read from
  // the store or last wrote to it (nullopt: none stored), which the next write expects;
  // under mu_. session_: this partition's connection, opened by its first transaction (job
  // thread). transaction_thread_: the thread running transaction(); its marks go to
  // pending_mark_ (under mu_) until the database committed.
  std::optional<std::int64_t> stored_next_;
  std::atomic<bool> stored_known_{false};
  std::unique_ptr<StoreSession> session_;
  std::atomic<std::thread::id> transaction_thread_{};
  std::int64_t pending_mark_ = OffsetTracker::kNone;
  /// Before the first delivery: reads the store when the assignment could not, and asks
  /// for a seek to its offset. Throws OffsetStoreError (a failure of initialized(), tried
  /// again before the next delivery). Inside initialized's guard.
  void load_stored_before_delivery();
  /// One transaction of the store: begin, `body` (when set), the compare-and-set of its
  /// marks (or of `mark_offset`), commit, then the mark into the tracker. False: the store
  /// had moved (rolled back; a seek to the store's offset is asked for). Throws what body or
  /// the store throws, rolled back.
  bool commit_to_store(const std::function<void(StoreSession&)>* body, std::int64_t mark_offset);
  /// The tracker starts again, nothing delivered, at the store's offset (stored_next_,
  /// marked for Kafka's commit; empty without one). Under mu_.
  void restart_tracker_at_store();
  /// The dead-letter path's mark on a route with a store, in a transaction of its own;
  /// false (logged) when it was not written.
  bool mark_in_store(std::int64_t offset);
  const bool kafka_transactional_;
  /// Both transaction()s: throws std::logic_error outside this consumer's hooks and inside
  /// another transaction().
  void check_transaction_call() const;
  /// One Kafka transaction on the calling worker's producer: begin, `body` (when set; its
  /// marks go to pending_mark_), then `produce` (when set: the dead letter), the offsets of
  /// its marks (or of `mark_offset`), commit, then the mark into the tracker as committed.
  /// False: the partition is not this owner's (aborted). Throws what body throws and
  /// TransactionError, aborted (or, when the commit's outcome is unknown, with
  /// txn_resync_ set).
  bool commit_to_kafka(const std::function<void(KafkaTransaction&)>* body, const OutgoingMessage* produce,
                       std::int64_t mark_offset);
  /// The dead-letter path on a transactional group: the dead letter (when dispatched) and
  /// the mark of `offset` in one transaction; false (logged) when it did not commit.
  bool dead_letter_in_kafka_transaction(std::int64_t offset, const OutgoingMessage* dead_letter);
  /// A commit's outcome was unknown: before the next delivery the partition reads the
  /// group's committed offset (stable: once the transaction is settled) and goes on from
  /// there. Job thread.
  bool txn_resync_ = false;
  /// Before a delivery or a transaction, when txn_resync_: reads the committed offset and
  /// asks for a seek to it when a transaction moved it past the tracker. False (logged)
  /// when it could not be read. Job thread.
  bool resync_from_kafka();
  /// After the hook or job: the partition goes on from `position` (>= 0), `pause_for`
  /// later, and marks below it are refused: the consumer's seek (request_control), and the
  /// runtime's own after a Kafka transaction. Job thread, or the hook's.
  void rewind_to(std::int64_t position, std::chrono::milliseconds pause_for = std::chrono::milliseconds(0));
  // consumer_position(): set and read by the consumer's hooks, which never run at once
  // (a job's end orders them); atomic for the listener's poll hooks. Per message: no lock.
  std::atomic<std::int64_t> position_{OffsetTracker::kNone};
  void set_position(std::int64_t offset);
};

}  // namespace samsa::runtime
