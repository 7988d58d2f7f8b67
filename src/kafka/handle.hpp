#pragma once
// RAII around the librdkafka C API. This folder is the only place that includes
// <librdkafka/...>; everything above it sees Samsa types.
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

#include "kafka/status.hpp"
#include "samsa/errors.hpp"
#include "samsa/logger.hpp"

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

/// librdkafka's reason `errstr` for refusing `value` of property `key`, fit for a log: for a
/// secret property (is_secret_kafka_property) every copy of the value is replaced with
/// "[redacted]", and a reason that filled its buffer of `errstr_capacity` bytes (so may end
/// in a cut-off copy) is replaced whole.
std::string conf_error_text(std::string_view key, std::string_view value, std::string errstr,
                            std::size_t errstr_capacity);

/// Builds a configuration from properties. Throws SettingsError naming the property and
/// librdkafka's reason for an unknown property or a bad value.
ConfPtr make_conf(const std::map<std::string, std::string>& properties);

/// Creates a client (producer or consumer) from `conf` (consumed). Throws KafkaError.
KafkaPtr make_client(rd_kafka_type_t type, ConfPtr conf);

/// A short-lived client for admin work and tests: bootstrap.servers = brokers, plus props.
KafkaPtr make_admin_client(const std::string& brokers,
                           const std::map<std::string, std::string>& props = {},
                           rd_kafka_type_t type = RD_KAFKA_PRODUCER);

ListPtr make_list(int size = 0);

/// Adds topic/partition at `offset` to `list`, with commit metadata when not empty (a copy
/// the list owns: librdkafka frees it with the list).
rd_kafka_topic_partition_t* add_offset(rd_kafka_topic_partition_list_t* list, const std::string& topic,
                                       std::int32_t partition, std::int64_t offset,
                                       std::string_view metadata = {});
/// The commit metadata of an element (empty when none).
std::string_view metadata_of(const rd_kafka_topic_partition_t& element);

/// librdkafka's rd_kafka_offsets_store carries commit metadata to the auto-commit from 2.2.0
/// on; before that it drops it (and the auto-commit would commit the offset without it).
bool stores_offset_metadata();

/// A KafkaError with librdkafka's name and description of `err`, prefixed with `what`.
KafkaError error(const std::string& what, rd_kafka_resp_err_t err);

/// True for the errors that mean this member no longer owns its partitions.
bool is_ownership_lost(rd_kafka_resp_err_t err);

/// True for the errors a commit may hit transiently (coordinator moving, loading; under
/// KIP-848 a stale member epoch, which Committer retries once the epoch is current).
bool is_retriable_commit_error(rd_kafka_resp_err_t err);

/// `err` classified for the runtime, with librdkafka's name and description.
Status status(rd_kafka_resp_err_t err);

/// Samsa's level of a librdkafka log line (syslog levels: 0-3 error, 4 warning, 5-6 info,
/// 7 debug).
LogLevel log_level(int syslog_level);

/// Throws SettingsError saying how to set them when `properties` has no bootstrap.servers.
void require_bootstrap_servers(const std::map<std::string, std::string>& properties);

/// Checks `properties` the way a client of `type` would be built with them, without
/// connecting: every property set (unknown name, bad value: SettingsError naming it, as
/// make_conf), then rd_kafka_new with bootstrap.servers left out, which runs librdkafka's
/// checks across properties (conflicts, unreadable certificate files). `where` prefixes the
/// message of the latter ("consumer group 'g': "). The client is destroyed at once; it
/// never had a broker to dial. Blocks for the few milliseconds that takes.
void check_client_properties(rd_kafka_type_t type, const std::map<std::string, std::string>& properties,
                             const std::string& where);

/// True when librdkafka knows a (global or topic) property of this name.
bool is_librdkafka_property(const std::string& name);

/// Milliseconds for librdkafka's int timeouts, clamped.
int to_ms(std::chrono::milliseconds d);

}  // namespace samsa::kafka
