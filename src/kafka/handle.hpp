#pragma once
// librdkafka's C API for the code of src/kafka/ (and its unit tests) only: RAII for its
// objects and the helpers that take its types. src/kafka/ is the one part of Samsa that
// includes <librdkafka/...> (apart from tests/unit/build_test.cpp, which checks the headers
// against the library); everything else reaches Kafka through the Samsa types of
// consumer_client.hpp, producer_client.hpp, admin_client.hpp, mock_cluster.hpp,
// properties.hpp, library_version.hpp and status.hpp.
//
// Ownership rules that bite (docs/architecture.md): a leaked rd_kafka_topic_partition_list_t or
// rd_kafka_message_t holds references that make rd_kafka_destroy() hang forever, so each
// lives in one of the unique_ptr types below.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/fetched.hpp"
#include "kafka/properties.hpp"
#include "kafka/status.hpp"
#include "samsa/errors.hpp"
#include "samsa/logger.hpp"
#include "samsa/message.hpp"

namespace samsa::kafka {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};
struct ConfigResourceDeleter {
  void operator()(rd_kafka_ConfigResource_t* c) const { rd_kafka_ConfigResource_destroy(c); }
};
struct ListGroupOffsetsDeleter {
  void operator()(rd_kafka_ListConsumerGroupOffsets_t* l) const {
    rd_kafka_ListConsumerGroupOffsets_destroy(l);
  }
};
struct AlterGroupOffsetsDeleter {
  void operator()(rd_kafka_AlterConsumerGroupOffsets_t* a) const {
    rd_kafka_AlterConsumerGroupOffsets_destroy(a);
  }
};
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>;
using ConfigResourcePtr = std::unique_ptr<rd_kafka_ConfigResource_t, ConfigResourceDeleter>;
using ListGroupOffsetsPtr =
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, ListGroupOffsetsDeleter>;
using AlterGroupOffsetsPtr =
    std::unique_ptr<rd_kafka_AlterConsumerGroupOffsets_t, AlterGroupOffsetsDeleter>;

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using ListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

/// Builds a configuration from properties. Throws SettingsError naming the property and
/// librdkafka's reason for an unknown property or a bad value.
ConfPtr make_conf(const std::map<std::string, std::string>& properties);

/// Creates a client (producer or consumer) from `conf` (consumed). Throws KafkaError.
KafkaPtr make_client(rd_kafka_type_t type, ConfPtr conf);

ListPtr make_list(int size = 0);

/// Adds topic/partition at `offset` to `list`, with commit metadata when not empty (a copy
/// the list owns: librdkafka frees it with the list).
rd_kafka_topic_partition_t* add_offset(rd_kafka_topic_partition_list_t* list, const std::string& topic,
                                       std::int32_t partition, std::int64_t offset,
                                       std::string_view metadata = {});
/// The commit metadata of an element (empty when none).
std::string_view metadata_of(const rd_kafka_topic_partition_t& element);

/// A KafkaError with librdkafka's name and description of `err`, prefixed with `what`.
KafkaError error(const std::string& what, rd_kafka_resp_err_t err);

/// `err` classified (src/kafka/status.cpp), with librdkafka's name and description.
Status status(rd_kafka_resp_err_t err);

/// `err` as the status of a request librdkafka refused before sending it (Status::not_sent),
/// with its `reason` (librdkafka's description of `err` when empty).
Status not_sent(rd_kafka_resp_err_t err, std::string reason = {});

/// Samsa's level of a librdkafka log line (syslog levels: 0-3 error, 4 warning, 5-6 info,
/// 7 debug).
LogLevel log_level(int syslog_level);
/// A message librdkafka handed out without an error, as a Fetched that owns it (and
/// destroys it when released).
Fetched fetched(rd_kafka_message_t* message);
/// librdkafka's copy of `headers` (null when empty), for a produce that takes it over.
rd_kafka_headers_t* make_headers(const std::vector<Header>& headers);

/// Checks `properties` the way a client of `type` would be built with them, without
/// connecting: every property set (unknown name, bad value: SettingsError naming it, as
/// make_conf), then rd_kafka_new with bootstrap.servers left out, which runs librdkafka's
/// checks across properties (conflicts, unreadable certificate files). `where` prefixes the
/// message of the latter ("consumer group 'g': "). The client is destroyed at once; it
/// never had a broker to dial. Blocks for the few milliseconds that takes.
void check_client_properties(rd_kafka_type_t type, const std::map<std::string, std::string>& properties,
                             const std::string& where);

/// Milliseconds for librdkafka's int timeouts, clamped.
int to_ms(std::chrono::milliseconds d);

}  // namespace samsa::kafka
