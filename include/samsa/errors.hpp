#pragma once
// Samsa's exceptions. Each carries a message that names the problem and what to do.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace samsa {

/// Base of every exception Samsa throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A setting is unknown, of the wrong type or out of range. Thrown before anything connects.
class SettingsError : public Error {
 public:
  using Error::Error;
};

/// The routes are incomplete or contradictory (a topic without a consumer, a duplicate
/// topic in a group, an unknown consumer group asked for on the command line).
class RoutingError : public Error {
 public:
  using Error::Error;
};

/// A message's payload could not be deserialized. Thrown by json_deserializer, and by a
/// route's own deserializer (throw it from yours: TopicRoute::deserializer<T>), out of
/// Message::payload<T>() inside consume(), so it takes the error path: no mark, pause with
/// back-off, retry, and after max_retries the dead-letter queue when the topic has one.
/// `reason` is escaped and bounded in what(): it may quote payload bytes.
class DeserializationError : public Error {
 public:
  DeserializationError(const std::string& topic, std::int32_t partition, std::int64_t offset,
                       const std::string& reason);
  std::int32_t partition() const { return partition_; }
  std::int64_t offset() const { return offset_; }

 private:
  std::int32_t partition_;
  std::int64_t offset_;
};

/// A Kafka operation failed. `retriable()` says whether trying again can help.
class KafkaError : public Error {
 public:
  KafkaError(std::string what, int code, bool retriable);
  /// librdkafka's rd_kafka_resp_err_t value.
  int code() const { return code_; }
  bool retriable() const { return retriable_; }

 private:
  int code_;
  bool retriable_;
};

}  // namespace samsa
