#pragma once
// The app's producer: App::producer(), for the user's own pipelines and for dead-letter
// dispatch. One librdkafka producer per app, idempotent by default (enable.idempotence,
// acks=all): a message is written once and in order per partition even when librdkafka
// retries it.
//
//   auto report = app.producer().produce_sync("audit", key, payload);   // throws ProduceError
//   app.producer().produce("audit", key, payload).get();                 // a future
//   app.producer().produce({"audit", key, payload}, [](const DeliveryReport& r) { ... });
//
// Threads: every method may be called from any thread (consume(), a user thread). The
// delivery callbacks run on the producer's own thread, one at a time: keep them short and
// never call produce_sync or flush from one (it would wait for itself). The one exception:
// a message librdkafka refuses at once (an unknown partition, too large, queue full past
// message.timeout.ms) gets its callback on the calling thread, before produce() returns.
//
// What blocks: produce() copies the message into librdkafka's queue and returns; while that
// queue is full (queue.buffering.max.messages / .kbytes) it waits for room, at most
// message.timeout.ms, then reports the message as failed. produce_sync() waits for the
// broker's acknowledgement (at most message.timeout.ms: librdkafka's delivery timeout, 30 s by default in Samsa).
//
// Errors: a failed delivery is a DeliveryReport whose ok() is false, naming librdkafka's
// error (e.g. MSG_TIMED_OUT when no broker took it within message.timeout.ms,
// UNKNOWN_TOPIC_OR_PART); produce_sync throws it as ProduceError. Nothing is retried by
// Samsa beyond librdkafka's own retries within message.timeout.ms.
//
// Offsets: a consumer that produces what it consumed and then marks it must wait for the
// delivery (produce_sync, or the future) before the mark; a mark made while the message is
// still on its way can be committed, and a crash then loses the message.
//
// Shutdown: App::serve flushes the producer at the end of its graceful shutdown, within
// what is left of shutdown_timeout; messages still undelivered then are logged as an error
// (their callbacks get MSG_TIMED_OUT or _PURGE_QUEUE when the producer is destroyed).
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "samsa/errors.hpp"
#include "samsa/message.hpp"

namespace samsa {

/// A message to produce. Key, payload and headers are copied by produce().
struct OutgoingMessage {
  std::string topic;
  /// No key (nullopt): librdkafka's partitioner spreads the messages.
  std::optional<std::string_view> key;
  /// nullopt: a tombstone (a null payload).
  std::optional<std::string_view> payload;
  /// Header names and values (samsa::Header views, e.g. a consumed message's headers()).
  std::vector<Header> headers = {};
  /// -1: the partitioner chooses (by key: librdkafka's consistent_random).
  std::int32_t partition = -1;
};

/// The outcome of one produce.
struct DeliveryReport {
  std::string topic;
  std::int32_t partition = -1;
  /// The offset the broker gave the message; -1 when not delivered.
  std::int64_t offset = -1;
  /// Empty when delivered; otherwise librdkafka's error name and description.
  std::string error;
  bool ok() const { return error.empty(); }
};

/// A message was not delivered (produce_sync).
class ProduceError : public KafkaError {
 public:
  using KafkaError::KafkaError;
};

class Producer {
 public:
  using Callback = std::function<void(const DeliveryReport&)>;
  virtual ~Producer() = default;

  /// Queues `message`; `on_delivery` gets its outcome (on the producer's thread). Never
  /// throws for a Kafka error: a message librdkafka refuses at once (unknown partition,
  /// too large, queue full past message.timeout.ms) reaches `on_delivery` as a failure too.
  virtual void produce(const OutgoingMessage& message, Callback on_delivery) = 0;
  /// Waits until every queued message was delivered or failed, `timeout` at most. Returns
  /// the number still undelivered (0: all done).
  virtual std::size_t flush(std::chrono::milliseconds timeout) = 0;
  /// Messages queued and not yet delivered or failed.
  virtual std::size_t in_flight() const = 0;

  /// The same, with a future for the outcome (never an exception in it: check ok()).
  std::future<DeliveryReport> produce(const OutgoingMessage& message);
  std::future<DeliveryReport> produce(std::string topic, std::optional<std::string_view> key,
                                      std::optional<std::string_view> payload, std::vector<Header> headers = {});
  /// Produces and waits for the broker's acknowledgement. Throws ProduceError (naming the
  /// topic and librdkafka's error) when the message was not delivered.
  DeliveryReport produce_sync(const OutgoingMessage& message);
  DeliveryReport produce_sync(std::string topic, std::optional<std::string_view> key,
                              std::optional<std::string_view> payload, std::vector<Header> headers = {});
};

}  // namespace samsa
