#include "samsa/errors.hpp"

#include <utility>

namespace samsa {

DeserializationError::DeserializationError(const std::string& topic, std::int32_t partition,
                                           std::int64_t offset, const std::string& reason)
    : Error("cannot deserialize the message at " + topic + "/" + std::to_string(partition) +
            "@" + std::to_string(offset) + ": " + reason +
            " (fix the producer, or route a deserializer that accepts it)"),
      partition_(partition),
      offset_(offset) {}

KafkaError::KafkaError(std::string what, int code, bool retriable)
    : Error(std::move(what)), code_(code), retriable_(retriable) {}

}  // namespace samsa
