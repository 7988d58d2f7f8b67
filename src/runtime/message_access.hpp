#pragma once
// Builds public Message views over fetched messages (the only way to fill one).
#include "kafka/fetched.hpp"
#include "samsa/message.hpp"

namespace samsa::detail {

struct MessageAccess {
  /// `m`, `topic` and `deserializer` must outlive `out`'s use.
  static void fill(Message& out, const kafka::Fetched& m, const std::string* topic,
                   const Deserializer* deserializer);
};

}  // namespace samsa::detail
