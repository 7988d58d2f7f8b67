#include "samsa/consumer.hpp"

#include <stdexcept>

#include "runtime/listener.hpp"
#include "runtime/partition.hpp"

namespace samsa {
namespace {
const Messages kNoMessages;
}

const Messages& Consumer::messages() const { return messages_ ? *messages_ : kNoMessages; }

void Consumer::check_same_partition(const Message& message) const {
  // Messages of this consumer point at the partition's own topic string: compare addresses
  // first, the text only for a message from elsewhere.
  if (message.partition() != partition_->partition() ||
      (&message.topic() != &partition_->topic() && message.topic() != partition_->topic()))
    throw std::invalid_argument("mark_as_consumed: message of " + message.topic() + "/" +
                                std::to_string(message.partition()) + " given to the consumer of " +
                                partition_->topic() + "/" + std::to_string(partition_->partition()));
}

bool Consumer::mark_as_consumed(const Message& message) {
  check_same_partition(message);
  return partition_->mark(message.offset());
}

bool Consumer::mark_as_consumed(std::int64_t offset) { return partition_->mark(offset); }

bool Consumer::mark_as_consumed(const Message& message, std::string_view metadata) {
  check_same_partition(message);
  return partition_->mark(message.offset(), metadata);
}

bool Consumer::mark_as_consumed(std::int64_t offset, std::string_view metadata) {
  return partition_->mark(offset, metadata);
}

bool Consumer::mark_as_consumed_sync(const Message& message, std::string_view metadata) {
  if (!mark_as_consumed(message, metadata)) return false;
  return commit_marked_sync();
}

bool Consumer::mark_as_consumed_sync(std::int64_t offset, std::string_view metadata) {
  if (!mark_as_consumed(offset, metadata)) return false;
  return commit_marked_sync();
}

std::string Consumer::committed_offset_metadata() const {
  return partition_->listener().committed_metadata(*partition_, std::chrono::seconds(10));
}

bool Consumer::mark_as_consumed_sync(const Message& message) {
  if (!mark_as_consumed(message)) return false;
  return commit_marked_sync();
}

bool Consumer::mark_as_consumed_sync(std::int64_t offset) {
  if (!mark_as_consumed(offset)) return false;
  return commit_marked_sync();
}

// True only for a commit the broker confirmed (or a mark it had confirmed already). Any
// error, a timeout included, is a false; ownership itself is decided by the rebalance
// callbacks and by librdkafka's store check (_STATE), since a commit error can race a
// rejoin that keeps the partition (librdkafka #4059).
bool Consumer::commit_marked_sync() {
  return partition_->listener().commit_partition_sync(*partition_).ok() && partition_->owned();
}

bool Consumer::commit_offsets() {
  partition_->listener().commit_async();
  return partition_->owned();
}

bool Consumer::commit_offsets_sync() {
  return partition_->listener().commit_all_sync().ok() && partition_->owned();
}

const std::string& Consumer::topic() const { return partition_->topic(); }
std::int32_t Consumer::partition() const { return partition_->partition(); }
const std::string& Consumer::consumer_group() const { return partition_->listener().name(); }
bool Consumer::owned() const { return partition_->owned(); }
Logger& Consumer::logger() const { return partition_->listener().logger(); }

}  // namespace samsa
