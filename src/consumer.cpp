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
  if (partition_->has_store())
    throw std::logic_error("mark_as_consumed_sync on " + topic() + "/" + std::to_string(partition()) +
                           ": a route with an offset store commits in transaction(); Kafka's commit follows it");
  if (partition_->kafka_transactional())
    throw std::logic_error("mark_as_consumed_sync on " + topic() + "/" + std::to_string(partition()) +
                           ": a transactional consumer group commits its offsets in transaction() only");
  return partition_->listener().commit_partition_sync(*partition_).ok() && partition_->owned();
}

bool Consumer::commit_offsets() {
  partition_->listener().commit_async();
  return partition_->owned();
}

bool Consumer::commit_offsets_sync() {
  return partition_->listener().commit_all_sync().ok() && partition_->owned();
}

bool Consumer::run_transaction(const std::function<void(StoreSession&)>& body) {
  return partition_->run_transaction(body);
}

bool Consumer::run_kafka_transaction(const std::function<void(KafkaTransaction&)>& body) {
  return partition_->run_kafka_transaction(body);
}

int Consumer::attempt() const { return partition_->delivery_attempt(); }
bool Consumer::retrying() const { return attempt() > 1; }

std::int64_t Consumer::checked_position(std::int64_t offset) const {
  if (offset < 0)
    throw std::invalid_argument("seek(" + std::to_string(offset) + ") on " + topic() + "/" +
                                std::to_string(partition()) + ": an offset is >= 0 (use Seek::earliest / Seek::latest)");
  const std::int64_t next = partition_->next_to_deliver();
  const std::int64_t first = partition_->first_delivered();
  if (next != OffsetTracker::kNone && offset >= first && offset <= next) return offset;  // given to it
  std::int64_t low = 0, high = 0;
  auto& client = partition_->listener().client();
  if (const kafka::Status err = client.watermarks(topic(), partition(), std::chrono::seconds(10), low, high))
    throw err.error("seek(" + std::to_string(offset) + ") on " + topic() + "/" + std::to_string(partition()) +
                    ": cannot read the partition's offsets");
  if (offset < low || offset > high)
    throw std::invalid_argument("seek(" + std::to_string(offset) + ") on " + topic() + "/" +
                                std::to_string(partition()) + ": the partition holds offsets " + std::to_string(low) +
                                " to " + std::to_string(high) + " (the log end); nothing was moved");
  return offset;
}

bool Consumer::seek(std::int64_t offset) {
  return partition_->request_control(checked_position(offset), false, std::chrono::milliseconds(0));
}

bool Consumer::seek(Seek where) {
  std::int64_t low = 0, high = 0;
  if (const kafka::Status err =
          partition_->listener().client().watermarks(topic(), partition(), std::chrono::seconds(10), low, high))
    throw err.error("seek on " + topic() + "/" + std::to_string(partition()) + ": cannot read the partition's offsets");
  return partition_->request_control(where == Seek::earliest ? low : high, false, std::chrono::milliseconds(0));
}

bool Consumer::seek(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::int64_t offset = 0;
  if (const kafka::Status err =
          partition_->listener().client().offset_for_time(topic(), partition(), ms, std::chrono::seconds(10), offset))
    throw err.error("seek to a time on " + topic() + "/" + std::to_string(partition()) +
                    ": cannot look the offset up");
  return partition_->request_control(offset, false, std::chrono::milliseconds(0));
}

bool Consumer::pause(std::int64_t offset, std::chrono::milliseconds duration) {
  if (duration.count() < 0) throw std::invalid_argument("pause: a negative duration");
  return partition_->request_control(checked_position(offset), true, duration);
}

bool Consumer::pause(std::int64_t offset) { return pause(offset, partition_->settings().pause_timeout); }

bool Consumer::pause_consecutive(std::chrono::milliseconds duration) {
  if (duration.count() < 0) throw std::invalid_argument("pause_consecutive: a negative duration");
  return partition_->request_control(partition_->consumer_position(), true, duration);
}

void Consumer::resume() { partition_->request_resume(); }

const std::string& Consumer::topic() const { return partition_->topic(); }
std::int32_t Consumer::partition() const { return partition_->partition(); }
const std::string& Consumer::consumer_group() const { return partition_->listener().name(); }
bool Consumer::owned() const { return partition_->owned(); }
Logger& Consumer::logger() const { return partition_->consumer_logger(); }

}  // namespace samsa
