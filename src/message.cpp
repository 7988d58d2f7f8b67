#include "samsa/message.hpp"

#include "runtime/message_access.hpp"
#include "samsa/errors.hpp"

namespace samsa {

const nlohmann::json& Message::payload() const {
  if (!parsed_) parsed_ = std::make_unique<nlohmann::json>((*deserializer_)(*this));
  return *parsed_;
}

std::chrono::system_clock::time_point Message::timestamp() const {
  const std::int64_t ts = raw_ ? static_cast<const kafka::Fetched*>(raw_)->timestamp_ms() : -1;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ts < 0 ? 0 : ts));
}

std::vector<Header> Message::headers() const {
  if (!raw_) return {};
  return static_cast<const kafka::Fetched*>(raw_)->headers();
}

nlohmann::json json_deserializer(const Message& message) {
  auto raw = message.raw_payload();
  if (!message.has_payload())
    throw DeserializationError(message.topic(), message.partition(), message.offset(),
                               "the payload is null (a tombstone), not JSON");
  if (raw.empty())
    throw DeserializationError(message.topic(), message.partition(), message.offset(),
                               "the payload is empty, not JSON");
  try {
    return nlohmann::json::parse(raw.begin(), raw.end());
  } catch (const nlohmann::json::exception& e) {
    throw DeserializationError(message.topic(), message.partition(), message.offset(),
                               std::string("invalid JSON: ") + e.what());
  }
}

namespace detail {

void MessageAccess::fill(Message& out, const kafka::Fetched& m, const std::string* topic,
                         const Deserializer* deserializer) {
  out.raw_ = &m;
  out.topic_ = topic;
  out.deserializer_ = deserializer;
  out.partition_ = m.partition();
  out.offset_ = m.offset();
  out.has_payload_ = m.has_payload();
  out.payload_ = m.payload();
  out.has_key_ = m.has_key();
  out.key_ = m.key();
  out.parsed_.reset();
}

}  // namespace detail
}  // namespace samsa
