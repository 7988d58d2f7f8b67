#include "samsa/producer.hpp"

#include <memory>

namespace samsa {

std::future<DeliveryReport> Producer::produce(const OutgoingMessage& message) {
  auto promise = std::make_shared<std::promise<DeliveryReport>>();
  auto future = promise->get_future();
  produce(message, [promise](const DeliveryReport& r) { promise->set_value(r); });
  return future;
}

std::future<DeliveryReport> Producer::produce(std::string topic, std::optional<std::string_view> key,
                                              std::optional<std::string_view> payload, std::vector<Header> headers) {
  return produce(OutgoingMessage{std::move(topic), key, payload, std::move(headers)});
}

DeliveryReport Producer::produce_sync(const OutgoingMessage& message) {
  DeliveryReport r = produce(message).get();
  if (!r.ok())
    throw ProduceError("producing to topic '" + message.topic + "' failed: " + r.error +
                           " (check that the topic exists and a broker is reachable; the wait is bounded by "
                           "producer.kafka.message.timeout.ms)",
                       -1, true);
  return r;
}

DeliveryReport Producer::produce_sync(std::string topic, std::optional<std::string_view> key,
                                      std::optional<std::string_view> payload, std::vector<Header> headers) {
  return produce_sync(OutgoingMessage{std::move(topic), key, payload, std::move(headers)});
}

}  // namespace samsa
