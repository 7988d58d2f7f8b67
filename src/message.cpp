#include "samsa/message.hpp"

#include <stdexcept>

#include "runtime/message_access.hpp"
#include "samsa/errors.hpp"
#include "type_name.hpp"

namespace samsa {
namespace {

// A payload type's name as a user writes it: the demangled names of these two spell out
// their template arguments.
std::string readable_name(const std::type_info& type) {
  if (type == typeid(nlohmann::json)) return "nlohmann::json";
  if (type == typeid(std::string)) return "std::string";
  return demangled_name(type);
}

// How a consumer asks for a payload of `type`: payload() for JSON, payload<T>() else.
std::string call_for(const std::type_info& type) {
  return type == typeid(nlohmann::json) ? "payload()" : "payload<" + readable_name(type) + ">()";
}

}  // namespace

std::string AnyDeserializer::type_name() const { return readable_name(type()); }

const void* Message::decoded(const std::type_info& type) const {
  if (!deserializer_)
    throw std::logic_error(call_for(type) + " of a Message that Samsa did not fill (default-constructed): it has no "
                           "deserializer");
  const std::type_info& route_type = deserializer_->type();
  if (&route_type != &type && route_type != type) {
    const bool json = route_type == typeid(nlohmann::json);
    throw std::logic_error(call_for(type) + " on a message of topic '" + topic() + "', whose route decodes payloads to " +
                           readable_name(route_type) +
                           (json ? " (the JSON deserializer, the default)" : " (its deserializer<" +
                                                                                 readable_name(route_type) + ">)") +
                           ": read it with " + call_for(route_type) + ", or route a deserializer of " +
                           readable_name(type));
  }
  if (!decoded_) {
    void* value = deserializer_->decode_(*this);  // throws what the deserializer throws: nothing kept
    decoded_ = std::unique_ptr<void, void (*)(void*)>(value, deserializer_->destroy_);
  }
  return decoded_.get();
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
                         const AnyDeserializer* deserializer) {
  out.decoded_.reset();  // the last batch's, with its own deleter
  out.raw_ = &m;
  out.topic_ = topic;
  out.deserializer_ = deserializer;
  out.partition_ = m.partition();
  out.offset_ = m.offset();
  out.has_payload_ = m.has_payload();
  out.payload_ = m.payload();
  out.has_key_ = m.has_key();
  out.key_ = m.key();
}

}  // namespace detail
}  // namespace samsa
