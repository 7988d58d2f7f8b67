#include "samsa/errors.hpp"

#include <utility>

#include "log_text.hpp"

namespace samsa {
namespace {
// A reason may quote payload bytes (nlohmann's parse errors end in "last read: '...'"), and
// the message goes to the log: escaped, and bounded.
constexpr std::size_t kReasonBytes = 400;
}  // namespace

DeserializationError::DeserializationError(const std::string& topic, std::int32_t partition,
                                           std::int64_t offset, const std::string& reason)
    : Error("cannot deserialize the message at " + topic + "/" + std::to_string(partition) +
            "@" + std::to_string(offset) + ": " + escape_for_log(reason, kReasonBytes) +
            " (fix the producer, or route a deserializer that accepts it)"),
      partition_(partition),
      offset_(offset) {}

KafkaError::KafkaError(std::string what, int code, bool retriable)
    : Error(std::move(what)), code_(code), retriable_(retriable) {}

}  // namespace samsa
