#pragma once
// The base class of a user's consumer. Derive, implement consume(), route a topic to it.
//
// Lifecycle: Samsa creates one instance per assigned topic-partition when the partition is
// assigned, keeps it across batches (a buffer can live in it), calls revoked() when the
// partition goes (rebalance or shutdown) and then destroys it.
//
// Threads: the hooks of one instance never run concurrently with each other; they run on
// the worker pool (consume, tick, before_stop, revoked, initialized, after_fetch) or on the
// consumer group's listener thread (before_poll, after_poll). Instances of different
// partitions run in parallel, up to `concurrency` at once; a long consume() holds up only
// its own partition (whose fetched messages wait, paused once its queue is full), never the
// others or the group's membership. The marking and commit methods may also be called from
// other threads of the user's while the instance lives.
//
// Offsets (docs/offsets.md has the whole contract): with automatic marking (the default)
// the last message of each batch is marked when consume() returns without throwing (per
// message when batch_fetching is false). With automatically_mark_as_consumed = false only
// what the consumer marks is committed.
//
// Exceptions, hook by hook. Whatever a hook throws, no commit covers a message the consumer
// did not handle or mark:
//  - consume(), after_fetch(), tick(), before_poll(), after_poll(): nothing more is marked
//    automatically, the partition pauses (pause_timeout, doubled per consecutive failure up
//    to pause_max_timeout; the count starts again once a mark moves forward) and its
//    messages are delivered again from the first unmarked one. Marks made before the throw
//    stay. So a consumer that buffers must drop what it buffered since its last mark when it
//    throws: it will receive those messages again. While paused its tick/poll hooks do not run.
//    A route's dead_letter_queue moves the first unmarked message past after max_retries
//    retries (routing.hpp, DeadLetterQueue).
//  - initialized(): the instance is kept but never used half-built: no message reaches it
//    and no other hook runs on it until initialized() succeeds; it is called again (on the
//    same instance) before each delivery to the partition, with the same back-off. Make it
//    safe to call again.
//  - revoked(), before_stop(): reported; the marks made stay as they were (they are
//    committed), nothing more is marked, and the next owner (or the next run) receives
//    what was not marked.
// Every failure is logged with the hook, topic, partition and error, and published as an
// EventType::hook_failed event.
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "samsa/kafka_transaction.hpp"
#include "samsa/logger.hpp"
#include "samsa/message.hpp"
#include "samsa/offset_store.hpp"

namespace samsa {

/// Where Consumer::seek goes besides an offset or a time.
enum class Seek {
  earliest,  ///< the first offset the partition keeps (its low watermark)
  latest,    ///< the log end (its high watermark): only what is produced from now on
};

namespace runtime {
class Partition;
}
namespace detail {
struct ConsumerAccess;
// The type of the one parameter of a lambda (or other callable with a single, non-template
// operator()): Consumer::transaction hands the session as that type.
template <class F>
struct session_parameter : session_parameter<decltype(&F::operator())> {};
template <class C, class R, class A>
struct session_parameter<R (C::*)(A) const> {
  using type = std::remove_cvref_t<A>;
};
template <class C, class R, class A>
struct session_parameter<R (C::*)(A)> {
  using type = std::remove_cvref_t<A>;
};
template <class C, class R, class A>
struct session_parameter<R (C::*)(A) const noexcept> {
  using type = std::remove_cvref_t<A>;
};
template <class C, class R, class A>
struct session_parameter<R (C::*)(A) noexcept> {
  using type = std::remove_cvref_t<A>;
};
}  // namespace detail

class Consumer {
 public:
  virtual ~Consumer() = default;

  /// Handles messages(): the batch of this partition (batch_fetching) or one message.
  /// Throwing takes the error path (no automatic mark, pause with back-off, redelivery).
  virtual void consume() = 0;

  /// Once, after the instance is created for its partition (the first job of the partition,
  /// on a worker; the rebalance does not wait for it), before the first consume() (again
  /// before the next delivery while it throws; see above).
  virtual void initialized() {}
  /// After a batch for this partition arrived, before consume().
  virtual void after_fetch() {}
  /// Around each poll of the consumer group's listener, even one that returns nothing,
  /// while this partition has no job in flight (not while its consume() runs) and is not
  /// paused after an error. Runs on the listener thread: keep it short, it holds up the
  /// polling of the whole group. Only called for a class that overrides one of them.
  virtual void before_poll() {}
  virtual void after_poll() {}
  /// The partition is being taken away (rebalance) or the group is shutting down, after
  /// before_stop, once the partition's job in flight returned. Marks made here are committed
  /// before the partition is given up. When the job outlives revoke_timeout the partition
  /// is given up without waiting: revoked() runs after the job returns, and its marks (like
  /// the job's after the give-up) are refused.
  virtual void revoked() {}
  /// Graceful shutdown: the last chance to flush a buffer and mark it. Marks made here are
  /// committed synchronously before the process leaves the group.
  virtual void before_stop() {}
  /// Every tick_interval, also when no message arrives (e.g. flush a buffer by age); after
  /// the job in flight when one runs. Only called for a class that overrides it.
  virtual void tick() {}

 protected:
  /// The messages of the current consume() call (empty in other hooks).
  const Messages& messages() const;

  /// Declares `message` and every earlier message of this partition handled. Cheap and
  /// asynchronous: the offset reaches librdkafka after this hook returns (or at the next
  /// commit_offsets) and the broker with the next auto-commit, rebalance or shutdown.
  /// Never moves the mark backwards (an older message changes nothing). Returns false when
  /// this process no longer owns the partition (then nothing is marked). Throws
  /// std::invalid_argument for a message of another partition.
  bool mark_as_consumed(const Message& message);
  /// The same by offset, for a message no longer in hand (a buffer keeps offsets, since a
  /// Message is a view valid only during consume()). `offset` is the offset of a message
  /// delivered to this consumer, not "the next offset to read": it marks that message and
  /// every earlier one (the broker gets offset + 1). Throws std::invalid_argument, marking
  /// nothing, for an offset this consumer was not given in the current assignment: above
  /// the highest offset delivered to it (a mark may not skip messages nobody handled), or
  /// below the first one delivered (marking never rewinds a group).
  bool mark_as_consumed(std::int64_t offset);

  /// Like mark_as_consumed, then commits this partition's offset synchronously: blocks for
  /// the broker's answer, retrying transient coordinator errors (NOT_COORDINATOR,
  /// COORDINATOR_LOAD_IN_PROGRESS) up to 5 times, 30 s at most in all (Karafka's
  /// mark_as_consumed!); under KIP-848 a commit refused for a stale member epoch is tried
  /// again, within the 30 s, once the member has its new epoch and only while it still
  /// owns the partition (docs/offsets.md). Returns true only when the broker confirmed the
  /// commit (or had confirmed this offset already). False means not confirmed: ownership lost
  /// (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, ASSIGNMENT_LOST, _STATE; owned() then tells
  /// whether the partition is still ours), a rebalance in progress, no answer within the
  /// 30 s, or another error. The mark itself stays: while the partition is owned it is
  /// committed later (auto-commit, revocation, shutdown).
  bool mark_as_consumed_sync(const Message& message);
  bool mark_as_consumed_sync(std::int64_t offset);

  /// Marks with offset metadata: a string Kafka commits along with the offset (a saga's
  /// step, an import's batch id, a checksum). Sticky within the assignment: later marks
  /// without metadata commit the same string; a mark with metadata at the offset already
  /// marked replaces it without moving; "" clears it. A new owner of the partition starts
  /// with none: read the last committed one with committed_offset_metadata() and mark with
  /// it to carry it on. Needs librdkafka >= 2.2.0 (older ones drop metadata from the offset
  /// store): on an older one a non-empty `metadata` throws std::logic_error and marks
  /// nothing. More than 4096 bytes (Kafka's default offset.metadata.max.bytes) throws
  /// std::invalid_argument. Otherwise as the overloads without metadata.
  bool mark_as_consumed(const Message& message, std::string_view metadata);
  bool mark_as_consumed(std::int64_t offset, std::string_view metadata);
  bool mark_as_consumed_sync(const Message& message, std::string_view metadata);
  bool mark_as_consumed_sync(std::int64_t offset, std::string_view metadata);
  /// The metadata committed with this partition's committed offset, read from the group
  /// coordinator (empty when none or nothing committed): what the previous owner or the
  /// previous run left. Blocks for one round trip (10 s at most; throws KafkaError when
  /// the coordinator did not answer). Not cached: call it once, in initialized() or when
  /// the state is needed, not per message. Karafka calls this offset_metadata.
  std::string committed_offset_metadata() const;

  /// Hands the marks to librdkafka and asks for a commit without waiting. Returns false
  /// when the partition is no longer owned.
  bool commit_offsets();
  /// Commits every marked offset of this consumer group synchronously, with the same
  /// retries and deadline as mark_as_consumed_sync. True only when the broker confirmed it.
  bool commit_offsets_sync();

  // --- Exactly once (docs/exactly-once.md): a database's transaction, or Kafka's ---

  /// Runs `body` in a transaction whose commit also writes the marks `body` makes, so that
  /// the output and the offset move together. Which transaction is given by the type of
  /// body's one parameter:
  ///  - an offset store's session (`[&](samsa::SqliteSession& db) {...}`, or StoreSession&),
  ///    on a route with an offset_store: a transaction of the database;
  ///  - samsa::KafkaTransaction& (`[&](samsa::KafkaTransaction& tx) {...}`), on a consumer
  ///    group with transactional(true): a Kafka transaction.
  /// Both run `body` on this hook's thread and return true when committed (also when body
  /// marked nothing: its output is committed without an offset), false when the partition
  /// is not this owner's to write (body does not run, or everything is rolled back and
  /// body's marks dropped); they throw what body throws, rolled back, which is a failure
  /// of this hook as any (back-off, redelivery from the first unmarked message, the
  /// dead-letter queue). Inside body, a mark the partition refuses (below a seek) throws
  /// std::logic_error, and mark_as_consumed_sync throws std::logic_error (the transaction's
  /// commit is the one). Both throw std::logic_error when called inside another
  /// transaction() or outside this consumer's hooks, and for a body whose transaction is
  /// not the route's.
  ///
  /// An offset store's transaction, in order: begin (this partition's own session of the
  /// store, opened on first use, kept until the partition goes); body; then, when body
  /// marked, a compare-and-set of the stored next offset from the one this owner read at
  /// assignment (or last wrote) to the mark + 1; commit. Then the mark reaches Kafka as any
  /// other (its committed offset follows the store's). Returns false, rolled back, when
  /// body's marks are all of messages the store holds as done already (its output would be
  /// written twice), when the partition is no longer owned, or when the stored offset is
  /// not the one this owner expected: another owner wrote it (after a rebalance, or this
  /// process was a zombie). Then the partition goes on from the store's offset once this
  /// hook returns (a seek: the rest of the batch is not delivered; buffered work past the
  /// store's offset is someone else's). Throws OffsetStoreError, rolled back, when the
  /// database fails (begin, the write, the commit).
  ///
  /// A Kafka transaction, in order: begin (on the transactional producer of this worker
  /// thread, "<transactional_id>-<n>"); body, whose tx.produce() calls join it; then, when
  /// body marked, the next offset (the mark + 1) is sent to the transaction with the
  /// group's metadata as the consumer had it when this job started; commit, which waits
  /// for every produced message and the offset. Only then the mark counts (the group's
  /// committed offset is the transaction's; Samsa commits nothing else for the partition).
  /// Returns false, aborted, when the partition is no longer owned, and when the group
  /// coordinator refuses the offset because this member's generation moved on
  /// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID: KIP-447's fencing of a
  /// member that lost its partitions; a partition still assigned then goes on from its
  /// first unmarked message). Returns false without running body when this hook asked for
  /// a seek, and when the committed offset read after a commit of unknown outcome moved
  /// the partition past the messages in hand. Throws TransactionError when the producer was
  /// fenced by another one with the same transactional.id, on another of librdkafka's
  /// refusals, and when the commit's outcome is unknown (no answer in time): the partition
  /// then goes on from Kafka's committed offset, read once the transaction is settled.
  template <class Body>
  bool transaction(Body&& body) {
    using Session = typename detail::session_parameter<std::remove_cvref_t<Body>>::type;
    if constexpr (std::is_same_v<Session, KafkaTransaction>) {
      return run_kafka_transaction([&](KafkaTransaction& tx) { body(tx); });
    } else {
      static_assert(std::is_base_of_v<StoreSession, Session>,
                    "transaction()'s body takes the store's session ([&](samsa::SqliteSession& db) {...}) "
                    "or a samsa::KafkaTransaction&");
      return run_transaction([&](StoreSession& session) {
        auto* typed = dynamic_cast<Session*>(&session);
        if (!typed) throw std::logic_error("transaction(): the body takes a session of another store than the route's");
        body(*typed);
      });
    }
  }

  // --- Retries (Karafka's attempt / retrying?) ---

  /// In consume() and after_fetch(): which delivery of the first message in hand this is:
  /// 1 the first time, n + 1 after n failed consume()/after_fetch() calls whose first
  /// unmarked message it was. Per partition and first unmarked offset, in memory: it starts
  /// again at 1 once a mark moves past the message, after a rebalance and after a restart.
  /// 0 in the other hooks. Failures of tick() or the poll hooks do not count.
  int attempt() const;
  /// attempt() > 1: the messages in hand were delivered before and their consume() threw.
  bool retrying() const;

  // --- Pause and seek (Karafka's pause / resume / seek) ---
  //
  // Called from this consumer's hooks (consume, after_fetch, tick, initialized, the poll
  // hooks), they take effect when the hook returns: the listener pauses the partition in
  // librdkafka, drops what it fetched, seeks and (after the pause) resumes. A batch in which
  // the consumer paused or sought is not marked automatically, and with batch_fetching off
  // the messages after that one are not delivered: they come again from the new position.
  // After a seek, marks for offsets before the new position are refused (false); after a
  // pause the consumer may still mark what it handled. The committed offset does not change:
  // the next mark at or after the new position moves it (which is how a forward seek skips). An exception thrown by the hook after the call
  // takes the error path instead (pause with back-off, then the first unmarked message;
  // after a forward seek that is the new position). A rebalance ends it: the next owner
  // starts from the committed offset, unpaused. Each returns false, doing nothing, when the
  // partition is no longer owned, and throws std::logic_error when called from outside the
  // consumer's hooks (another thread may call resume() only). Costs: a pause, a seek and a
  // refetch in librdkafka (its refetch after a resume may take up to a second).

  /// The next message delivered is the one at `offset`. An offset this consumer was given
  /// (or the one after the last) is taken as it is; any other is checked against the
  /// partition's watermarks first (one round trip): outside [low, high] throws
  /// std::invalid_argument, moving nothing (librdkafka would otherwise reset the position
  /// with auto.offset.reset).
  bool seek(std::int64_t offset);
  /// The partition's first kept offset or its log end (one round trip; throws KafkaError
  /// when the broker does not answer within 10 s).
  bool seek(Seek where);
  /// The first message whose timestamp is at or after `time` (the log end when none is),
  /// e.g. seek(now - 5min) to skip what piled up during an outage. One round trip, as above.
  bool seek(std::chrono::system_clock::time_point time);
  /// Stops delivering this partition for `duration`, then goes on from `offset` (e.g. the
  /// message a rate-limited API refused). Its tick() still runs meanwhile; resume() ends the
  /// pause early. `offset` is checked as by seek().
  bool pause(std::int64_t offset, std::chrono::milliseconds duration);
  /// The same for the topic's pause_timeout.
  bool pause(std::int64_t offset);
  /// Pauses without moving: after `duration` the partition goes on after the last message
  /// delivered (Karafka's pause(:consecutive)).
  bool pause_consecutive(std::chrono::milliseconds duration);
  /// Ends a pause() early: the partition goes on at the listener's next housekeeping
  /// (within 100 ms). Any thread. Does nothing when it is not paused by its consumer.
  void resume();

  const std::string& topic() const;
  std::int32_t partition() const;
  const std::string& consumer_group() const;
  /// False once the partition was revoked or lost (marks are then refused).
  bool owned() const;
  /// The app's logger; each line names this consumer's group, topic and partition (fields
  /// of the JSON log) unless it names others.
  Logger& logger() const;

 private:
  friend struct detail::ConsumerAccess;
  bool commit_marked_sync();
  bool run_transaction(const std::function<void(StoreSession&)>& body);
  bool run_kafka_transaction(const std::function<void(KafkaTransaction&)>& body);
  void check_same_partition(const Message& message) const;
  /// `offset` checked (see seek(std::int64_t)).
  std::int64_t checked_position(std::int64_t offset) const;
  runtime::Partition* partition_ = nullptr;
  const Messages* messages_ = nullptr;
};

}  // namespace samsa
