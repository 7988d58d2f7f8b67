#pragma once
// Builds public Message views over librdkafka messages (the only way to fill one).
#include <librdkafka/rdkafka.h>

#include "samsa/message.hpp"

namespace samsa::detail {

struct MessageAccess {
  /// `m`, `topic` and `deserializer` must outlive `out`'s use.
  static void fill(Message& out, const rd_kafka_message_t* m, const std::string* topic,
                   const Deserializer* deserializer);
};

}  // namespace samsa::detail
