#pragma once
// Builds public Message views over fetched messages (the only way to fill one).
#include <memory>

#include <nlohmann/json.hpp>

#include "kafka/fetched.hpp"
#include "samsa/message.hpp"

namespace samsa::detail {

struct MessageAccess {
  /// `m`, `topic` and `deserializer` must outlive `out`'s use.
  static void fill(Message& out, const kafka::Fetched& m, const std::string* topic,
                   const AnyDeserializer* deserializer);
  /// Frees what `out` decoded (its payload<T>()); `out` must be filled again before its
  /// next use.
  static void release(Message& out) { out.decoded_.reset(); }
};

}  // namespace samsa::detail
