#pragma once
// A consumed Kafka message and a batch of them.
//
// A Message is a view: key, payload and headers point into librdkafka's buffer, valid
// while the batch that holds the message is alive, i.e. during the consume() call that
// received it. Copy what you keep (into a buffer, a database row) with std::string(view)
// or a copy of the decoded payload<T>().
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace samsa {

class Message;

/// Turns a message's raw payload into a T: a route's deserializer
/// (TopicRoute::deserializer<T>). It throws when it cannot, preferably
/// DeserializationError(m.topic(), m.partition(), m.offset(), reason), so that the log and
/// the dead letter name the message; whatever it throws takes the consume error path (see
/// Message::payload). It is called on the worker threads, for several partitions of the
/// route at once: it must be safe to call concurrently.
template <class T>
using DeserializerOf = std::function<T(const Message&)>;

/// The JSON deserializer's type, what TopicRoute::deserializer(d) takes: T = nlohmann::json,
/// read with Message::payload(). The default parses JSON; a topic can route another one
/// (e.g. for a text format mapped into JSON).
using Deserializer = DeserializerOf<nlohmann::json>;

/// Parses the payload as JSON; throws DeserializationError naming topic/partition/offset.
nlohmann::json json_deserializer(const Message& message);

/// A route's deserializer with its payload type erased: what a TopicRoute keeps, and what
/// Message::payload<T>() decodes with. Made by of<T>(f); T is fixed per route.
class AnyDeserializer {
 public:
  /// Empty (no deserializer): a route with one is refused by Routes::problems().
  AnyDeserializer() = default;

  /// A deserializer of payloads of type T: `f(const Message&)` returns a T (or something
  /// a T is constructed from). T may be move-only (a unique_ptr, a type owning a handle);
  /// `f` is copied and must be safe to call concurrently. An empty std::function or null
  /// function pointer gives an empty AnyDeserializer.
  template <class T, class F>
  static AnyDeserializer of(F f) {
    static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T> && !std::is_array_v<T>,
                  "a payload type is a plain object type (no reference, const or array)");
    static_assert(std::is_invocable_r_v<T, const F&, const Message&>,
                  "a deserializer of T is called as f(const samsa::Message&) and returns a T");
    static_assert(std::is_copy_constructible_v<F>, "a deserializer is copied into each route");
    AnyDeserializer d;
    if constexpr (std::is_pointer_v<F> || std::is_member_pointer_v<F> || is_std_function<F>::value) {
      if (!f) return d;
    }
    d.decode_ = [f = std::move(f)](const Message& m) -> void* { return new T(std::invoke(f, m)); };
    d.destroy_ = [](void* p) { delete static_cast<T*>(p); };
    d.type_ = &typeid(T);
    return d;
  }

  explicit operator bool() const { return static_cast<bool>(decode_); }
  /// The payload type T (typeid(void) when empty).
  const std::type_info& type() const { return type_ ? *type_ : typeid(void); }
  /// T's name for a reader: "orders::Order", "nlohmann::json", "std::string".
  std::string type_name() const;

 private:
  friend class Message;
  template <class F>
  struct is_std_function : std::false_type {};
  template <class R, class... A>
  struct is_std_function<std::function<R(A...)>> : std::true_type {};

  // Returns a new T (owned by the caller, freed with destroy_); throws what the user's
  // deserializer throws.
  std::function<void*(const Message&)> decode_;
  void (*destroy_)(void*) = nullptr;
  const std::type_info* type_ = nullptr;
};

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
  /// The payload decoded by the route's deserializer into its type T
  /// (TopicRoute::deserializer<T>). Decoded on the first call, on the calling thread (the
  /// consumer's worker, inside the hook that reads it), and kept with the message until the
  /// batch ends: a payload never read is never decoded, and later calls return the same
  /// object. Not synchronised: read a message from one thread at a time.
  ///
  /// Throws std::logic_error, naming the topic and the route's type, when T is not the
  /// route's type (a programming error: in consume() it fails the batch like any throw).
  /// Throws whatever the deserializer throws (DeserializationError for bad bytes); nothing
  /// is kept then, and the next call tries again. Out of consume() (or after_fetch()), that
  /// is a failure of the message like any other: nothing of the failed call is marked
  /// automatically, the partition pauses with back-off and is delivered again from its first
  /// unmarked message, and with a dead_letter_queue the message goes to the dead-letter
  /// topic after max_retries, its error_class and error_message headers naming the
  /// exception. It is never skipped silently.
  template <class T>
  const T& payload() const {
    return *static_cast<const T*>(decoded(typeid(T)));
  }
  /// payload<nlohmann::json>(): the payload of a route with the JSON deserializer (the
  /// default), parsed on first use.
  const nlohmann::json& payload() const { return payload<nlohmann::json>(); }
  /// The message's timestamp (create or log-append time); epoch when the broker sent none.
  std::chrono::system_clock::time_point timestamp() const;
  /// The headers, in order. Built on each call: read once and keep.
  std::vector<Header> headers() const;

 private:
  friend struct detail::MessageAccess;
  // The decoded payload (a T of the route's deserializer), decoding it first; throws
  // std::logic_error when `type` is not T.
  const void* decoded(const std::type_info& type) const;

  const void* raw_ = nullptr;  // the fetched message (Samsa's, in its batch)
  const std::string* topic_ = nullptr;
  const AnyDeserializer* deserializer_ = nullptr;
  std::int32_t partition_ = -1;
  std::int64_t offset_ = -1;
  std::string_view key_;
  std::string_view payload_;
  bool has_key_ = false;
  bool has_payload_ = false;
  // Its own deleter (not the deserializer's), so that it can be freed after the route is
  // gone, and the default moves stay correct.
  mutable std::unique_ptr<void, void (*)(void*)> decoded_{nullptr, nullptr};
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
