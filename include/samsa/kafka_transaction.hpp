#pragma once
// Kafka transactions (consume, transform, produce): what Consumer::transaction hands to its
// body on a consumer group with transactional(true) (docs/exactly-once.md, "Kafka
// transactions").
//
//   bool ok = transaction([&](samsa::KafkaTransaction& tx) {
//     for (const auto& m : messages()) tx.produce({"orders_out", m.key(), m.raw_payload()});
//     mark_as_consumed(messages().last());
//   });
//
// What the body produces through `tx` and what it marks are committed together, atomically:
// a read_committed reader of the output sees the messages exactly when the group's
// committed offset moved past their input. Messages produced with App::producer() are
// outside the transaction.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "samsa/errors.hpp"
#include "samsa/producer.hpp"

namespace samsa {

/// The open transaction of one Consumer::transaction call. Valid only inside its body, on
/// the body's thread.
class KafkaTransaction {
 public:
  virtual ~KafkaTransaction() = default;
  /// Queues `message` in the transaction (key, payload and headers are copied). Its
  /// delivery is part of the commit: a message that cannot be delivered fails the commit,
  /// and the transaction aborts. Waits up to 25 s while librdkafka's queue is full. Throws
  /// TransactionError when librdkafka refuses it at once (too large, an unknown partition,
  /// the producer fenced) or its queue stayed full; the body's exception then aborts the
  /// transaction.
  virtual void produce(const OutgoingMessage& message) = 0;
  void produce(std::string topic, std::optional<std::string_view> key, std::optional<std::string_view> payload,
               std::vector<Header> headers = {}) {
    produce(OutgoingMessage{std::move(topic), key, payload, std::move(headers)});
  }
  /// The transactional.id of the producer running this transaction.
  virtual const std::string& transactional_id() const = 0;
};

/// A Kafka transaction failed in a way its caller cannot read as "not ours any more":
/// librdkafka refused a call, the producer was fenced by another one with the same
/// transactional.id (two processes with the same transactional_id setting), or the
/// commit's outcome is unknown (no answer from the transaction coordinator in time). What
/// to do is the same in each case: nothing (a failure of the hook: the partition pauses
/// with its back-off and goes on from Kafka's committed offset, which the next owner of an
/// unknown outcome reads once it is settled).
class TransactionError : public KafkaError {
 public:
  using KafkaError::KafkaError;
};

}  // namespace samsa
