#pragma once
// A consumed Kafka message and a batch of them.
//
// A Message is a view: key, payload and headers point into librdkafka's buffer, valid
// while the batch that holds the message is alive, i.e. during the consume() call that
// received it. Copy what you keep (into a buffer, a database row) with std::string(view)
// or keep the parsed payload().
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa {

class Message;

/// Turns a message's raw payload into a JSON document. The default parses JSON; a topic can
/// route another one (e.g. for a text or binary format mapped into JSON). Throws
/// DeserializationError (or anything) when it cannot; that takes the consume error path.
using Deserializer = std::function<nlohmann::json(const Message&)>;

/// Parses the payload as JSON; throws DeserializationError naming topic/partition/offset.
nlohmann::json json_deserializer(const Message& message);

struct Header {
  std::string_view name;
  /// std::nullopt for a header with a null value.
  std::optional<std::string_view> value;
};

namespace detail {
struct MessageAccess;
}

class Message {
 public:
  Message() = default;
  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;

  const std::string& topic() const { return *topic_; }
  std::int32_t partition() const { return partition_; }
  std::int64_t offset() const { return offset_; }
  /// The key; empty for a null key (see has_key()).
  std::string_view key() const { return key_; }
  bool has_key() const { return has_key_; }
  /// The payload bytes, without copying. Empty both for a null payload (a tombstone) and
  /// for an empty one: has_payload() tells them apart.
  std::string_view raw_payload() const { return payload_; }
  /// False for a null payload (a tombstone, e.g. a delete on a compacted topic); true for
  /// any other, including an empty one.
  bool has_payload() const { return has_payload_; }
  /// The payload deserialized with the topic's deserializer (JSON by default). Parsed on
  /// first use and kept, so a payload never read is never parsed. Throws on bad input.
  const nlohmann::json& payload() const;
  /// The message's timestamp (create or log-append time); epoch when the broker sent none.
  std::chrono::system_clock::time_point timestamp() const;
  /// The headers, in order. Built on each call: read once and keep.
  std::vector<Header> headers() const;

 private:
  friend struct detail::MessageAccess;
  const void* raw_ = nullptr;  // the fetched message (Samsa's, in its batch)
  const std::string* topic_ = nullptr;
  const Deserializer* deserializer_ = nullptr;
  std::int32_t partition_ = -1;
  std::int64_t offset_ = -1;
  std::string_view key_;
  std::string_view payload_;
  bool has_key_ = false;
  bool has_payload_ = false;
  mutable std::unique_ptr<nlohmann::json> parsed_;
};

/// The messages of one partition that one consume() call handles, in offset order.
/// Karafka's `messages` (`params_batch` in Karafka 1). A view over Samsa's buffer, valid
/// during the consume() call.
class Messages {
 public:
  using const_iterator = const Message*;
  Messages() = default;
  Messages(const Message* data, std::size_t size) : data_(data), size_(size) {}
  const_iterator begin() const { return data_; }
  const_iterator end() const { return data_ + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Message& operator[](std::size_t i) const { return data_[i]; }
  const Message& first() const { return data_[0]; }
  const Message& last() const { return data_[size_ - 1]; }

 private:
  const Message* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace samsa
