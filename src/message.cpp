#include "samsa/message.hpp"

#include "kafka/handle.hpp"
#include "runtime/message_access.hpp"
#include "samsa/errors.hpp"

namespace samsa {

const nlohmann::json& Message::payload() const {
  if (!parsed_) parsed_ = std::make_unique<nlohmann::json>((*deserializer_)(*this));
  return *parsed_;
}

std::chrono::system_clock::time_point Message::timestamp() const {
  rd_kafka_timestamp_type_t type;
  std::int64_t ts = raw_ ? rd_kafka_message_timestamp(static_cast<const rd_kafka_message_t*>(raw_), &type) : -1;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ts < 0 ? 0 : ts));
}

std::vector<Header> Message::headers() const {
  std::vector<Header> out;
  rd_kafka_headers_t* hdrs = nullptr;
  auto* m = static_cast<rd_kafka_message_t*>(const_cast<void*>(raw_));
  if (!m || rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    Header h{name, std::nullopt};
    if (value) h.value = std::string_view(static_cast<const char*>(value), size);
    out.push_back(h);
  }
  return out;
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

void MessageAccess::fill(Message& out, const rd_kafka_message_t* m, const std::string* topic,
                         const Deserializer* deserializer) {
  out.raw_ = m;
  out.topic_ = topic;
  out.deserializer_ = deserializer;
  out.partition_ = m->partition;
  out.offset_ = m->offset;
  out.has_payload_ = m->payload != nullptr;
  out.payload_ = m->payload ? std::string_view(static_cast<const char*>(m->payload), m->len)
                            : std::string_view();
  out.has_key_ = m->key != nullptr;
  out.key_ = m->key ? std::string_view(static_cast<const char*>(m->key), m->key_len)
                    : std::string_view();
  out.parsed_.reset();
}

}  // namespace detail
}  // namespace samsa
