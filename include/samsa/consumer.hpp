#pragma once
// The base class of a user's consumer. Derive, implement consume(), route a topic to it.
//
// Lifecycle: Samsa creates one instance per assigned topic-partition when the partition is
// assigned, keeps it across batches (a buffer can live in it), calls revoked() when the
// partition goes (rebalance or shutdown) and then destroys it.
//
// Threads: the hooks of one instance never run concurrently with each other; they run on
// the worker pool (consume, tick, before_stop, revoked, initialized, after_fetch) or on the
// consumer group's listener thread (before_poll, after_poll). The marking and commit
// methods may also be called from other threads of the user's while the instance lives.
//
// Offsets (DESIGN.md "The offset model"): with automatic marking (the default) the last
// message of each batch is marked when consume() returns without throwing (per message
// when batch_fetching is false). With automatically_mark_as_consumed = false only what
// the consumer marks is committed. If consume() throws, nothing of that call is marked
// automatically, the partition is paused with back-off and its messages are delivered
// again from the first unmarked one.
#include <cstdint>
#include <string>

#include "samsa/logger.hpp"
#include "samsa/message.hpp"

namespace samsa {

namespace runtime {
class Partition;
}
namespace detail {
struct ConsumerAccess;
}

class Consumer {
 public:
  virtual ~Consumer() = default;

  /// Handles messages(): the batch of this partition (batch_fetching) or one message.
  /// Throwing takes the error path (no automatic mark, pause with back-off, redelivery).
  virtual void consume() = 0;

  /// Once, after the instance is created for its partition, before the first consume().
  virtual void initialized() {}
  /// After a batch for this partition arrived, before consume().
  virtual void after_fetch() {}
  /// Around each poll of the consumer group's listener, even one that returns nothing.
  /// Runs on the listener thread; keep it short.
  virtual void before_poll() {}
  virtual void after_poll() {}
  /// The partition is being taken away (rebalance) or the group is shutting down, after
  /// before_stop. Marks made here are committed before the partition is given up.
  virtual void revoked() {}
  /// Graceful shutdown: the last chance to flush a buffer and mark it. Marks made here are
  /// committed synchronously before the process leaves the group.
  virtual void before_stop() {}
  /// Every tick_interval, also when no message arrives (e.g. flush a buffer by age).
  virtual void tick() {}

 protected:
  /// The messages of the current consume() call (empty in other hooks).
  const Messages& messages() const;

  /// Declares `message` and every earlier message of this partition handled. Cheap and
  /// asynchronous: the offset reaches librdkafka after this hook returns (or at the next
  /// commit_offsets) and the broker with the next auto-commit, rebalance or shutdown.
  /// Never moves the mark backwards. Returns false when this process no longer owns the
  /// partition (then nothing is marked). Throws std::invalid_argument for a message of
  /// another partition.
  bool mark_as_consumed(const Message& message);
  /// The same by offset, for a message no longer in hand (a buffer keeps offsets, since a
  /// Message is a view valid only during consume()): declares `offset` of this consumer's
  /// partition, and everything before it, handled.
  bool mark_as_consumed(std::int64_t offset);

  /// Like mark_as_consumed, then commits this partition's offset synchronously (blocks
  /// for a broker round trip; transient coordinator errors are retried for a few seconds).
  /// Returns false when ownership was lost (the commit was refused: UNKNOWN_MEMBER_ID,
  /// ILLEGAL_GENERATION, ASSIGNMENT_LOST, _STATE). Karafka's mark_as_consumed!.
  bool mark_as_consumed_sync(const Message& message);
  bool mark_as_consumed_sync(std::int64_t offset);

  /// Hands the marks to librdkafka and asks for a commit without waiting. Returns false
  /// when the partition is no longer owned.
  bool commit_offsets();
  /// Commits every marked offset of this consumer group synchronously. Returns false
  /// when ownership was lost.
  bool commit_offsets_sync();

  const std::string& topic() const;
  std::int32_t partition() const;
  const std::string& consumer_group() const;
  /// False once the partition was revoked or lost (marks are then refused).
  bool owned() const;
  Logger& logger() const;

 private:
  friend struct detail::ConsumerAccess;
  bool commit_marked_sync();
  runtime::Partition* partition_ = nullptr;
  const Messages* messages_ = nullptr;
};

}  // namespace samsa
