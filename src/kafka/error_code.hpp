#pragma once
// The librdkafka error numbers (rd_kafka_resp_err_t values) that Samsa's own KafkaErrors carry
// outside src/kafka/: KafkaError::code() is librdkafka's number, also for an error Samsa
// raises itself (an invalid argument, a refused reset). src/kafka/status.cpp checks each one
// against librdkafka's header.
namespace samsa::kafka::error_code {

inline constexpr int fail = -196;                  // _FAIL
inline constexpr int unknown_partition = -190;     // _UNKNOWN_PARTITION
inline constexpr int invalid_arg = -186;           // _INVALID_ARG
inline constexpr int timed_out = -185;             // _TIMED_OUT
inline constexpr int unsupported_feature = -165;   // _UNSUPPORTED_FEATURE
inline constexpr int unknown_broker = -146;        // _UNKNOWN_BROKER
inline constexpr int offset_out_of_range = 1;      // OFFSET_OUT_OF_RANGE
inline constexpr int unknown_topic_or_part = 3;    // UNKNOWN_TOPIC_OR_PART
inline constexpr int topic_exception = 17;         // TOPIC_EXCEPTION
inline constexpr int invalid_partitions = 37;      // INVALID_PARTITIONS
inline constexpr int invalid_replication_factor = 38;  // INVALID_REPLICATION_FACTOR
inline constexpr int non_empty_group = 68;         // NON_EMPTY_GROUP

}  // namespace samsa::kafka::error_code
