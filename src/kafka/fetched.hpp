#pragma once
// One fetched message, owned: what the runtime queues, hands to a job and shows to a
// consumer as a samsa::Message. The coordinates and the bytes are read once, when the
// client builds it (no call into the client per access); releasing it and the rarely read
// parts (topic name, timestamp, headers) go through the client that fetched it.
//
// Move-only. The key and payload views stay valid while the Fetched lives (they point
// into the client's buffer); destroying it releases that buffer. A Fetched must not
// outlive its client (librdkafka's rd_kafka_destroy waits for every message it handed out).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "samsa/message.hpp"

namespace samsa::kafka {

class Fetched {
 public:
  /// How the client that fetched a message reads and releases it. One static table per
  /// client type (the fake client of the unit tests has its own).
  struct Source {
    void (*release)(void* raw);
    const char* (*topic)(const void* raw);
    /// Milliseconds since the epoch, -1 when the broker sent none.
    std::int64_t (*timestamp_ms)(const void* raw);
    void (*headers)(const void* raw, std::vector<Header>& out);
  };
  struct Fields {
    /// Stable per topic for the client's life: the runtime maps (topic_key, partition) to
    /// its partition without comparing names.
    const void* topic_key = nullptr;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    const char* key = nullptr;  // null: no key
    std::size_t key_len = 0;
    const char* payload = nullptr;  // null: a tombstone
    std::size_t len = 0;
  };

  /// Nothing: what poll() returns when no message came.
  Fetched() = default;
  Fetched(void* raw, const Source* source, const Fields& fields) : raw_(raw), source_(source), f_(fields) {}
  ~Fetched() { reset(); }
  Fetched(Fetched&& o) noexcept : raw_(std::exchange(o.raw_, nullptr)), source_(o.source_), f_(o.f_) {}
  Fetched& operator=(Fetched&& o) noexcept {
    if (this != &o) {
      reset();
      raw_ = std::exchange(o.raw_, nullptr);
      source_ = o.source_;
      f_ = o.f_;
    }
    return *this;
  }
  Fetched(const Fetched&) = delete;
  Fetched& operator=(const Fetched&) = delete;

  explicit operator bool() const { return raw_ != nullptr; }
  const void* topic_key() const { return f_.topic_key; }
  const char* topic() const { return source_->topic(raw_); }
  std::int32_t partition() const { return f_.partition; }
  std::int64_t offset() const { return f_.offset; }
  bool has_key() const { return f_.key != nullptr; }
  std::string_view key() const { return f_.key ? std::string_view(f_.key, f_.key_len) : std::string_view(); }
  bool has_payload() const { return f_.payload != nullptr; }
  std::string_view payload() const { return f_.payload ? std::string_view(f_.payload, f_.len) : std::string_view(); }
  /// What holding the message costs in memory, as max_buffered_bytes counts it: its key
  /// and payload (in the fetch response's buffer, which librdkafka frees with its last
  /// message) and kOverhead.
  std::size_t footprint() const { return f_.len + f_.key_len + kOverhead; }
  /// librdkafka's record of a fetched message (an rd_kafka_op_t of the fetch kind: 304
  /// bytes on 2.14.2, 320 with malloc's header) and this Fetched in a queue (72).
  static constexpr std::size_t kOverhead = 392;
  std::int64_t timestamp_ms() const { return source_->timestamp_ms(raw_); }
  std::vector<Header> headers() const {
    std::vector<Header> out;
    source_->headers(raw_, out);
    return out;
  }
  /// Releases the message to its client now; the Fetched is then empty.
  void reset() {
    if (raw_) source_->release(std::exchange(raw_, nullptr));
  }

 private:
  void* raw_ = nullptr;
  const Source* source_ = nullptr;
  Fields f_;
};

}  // namespace samsa::kafka
