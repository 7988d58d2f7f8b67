#include "kafka/handle.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

#include "log_text.hpp"
#include "samsa/settings.hpp"

namespace samsa::kafka {

std::string conf_error_text(std::string_view key, std::string_view value, std::string errstr,
                            std::size_t errstr_capacity) {
  if (!is_secret_kafka_property(key) || value.empty()) return errstr;
  // librdkafka quotes a refused value for some types ('Invalid value "..." for ...'). A
  // reason that filled the buffer may end in a cut-off copy of the value: drop it whole.
  if (errstr.size() + 1 >= errstr_capacity)
    return "librdkafka refused the value (not shown: the property is secret)";
  const std::map<std::string, std::string> secret{{std::string(key), std::string(value)}};
  return SecretRedactor(secret).redact(errstr);
}

ConfPtr make_conf(const std::map<std::string, std::string>& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK)
      throw SettingsError("setting 'kafka." + key + "': " +
                          conf_error_text(key, value, errstr, sizeof errstr) +
                          " (see librdkafka's CONFIGURATION.md for the properties and their types)");
  }
  return conf;
}

void check_client_properties(rd_kafka_type_t type, const std::map<std::string, std::string>& properties,
                             const std::string& where) {
  auto props = properties;
  props.erase("bootstrap.servers");
  ConfPtr conf = make_conf(props);
  // A client without brokers logs that it has none: not the user's concern here.
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t*, int, const char*, const char*) {});
  char errstr[512];
  KafkaPtr rk(rd_kafka_new(type, conf.get(), errstr, sizeof errstr));
  if (!rk) throw SettingsError(where + "librdkafka refuses the configuration: " + errstr);
  conf.release();  // rd_kafka_new took ownership
}

bool is_librdkafka_property(const std::string& name) {
  // rd_kafka_conf_get does not know aliases (bootstrap.servers); setting does. An empty
  // value is refused as invalid by a known property, never as unknown.
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  return rd_kafka_conf_set(conf.get(), name.c_str(), "", errstr, sizeof errstr) != RD_KAFKA_CONF_UNKNOWN;
}

KafkaPtr make_client(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (!rk) throw KafkaError(std::string("cannot create a Kafka client: ") + errstr, -1, false);
  conf.release();  // rd_kafka_new took ownership
  return KafkaPtr(rk);
}

KafkaPtr make_admin_client(const std::string& brokers,
                           const std::map<std::string, std::string>& props,
                           rd_kafka_type_t type) {
  auto all = props;
  all["bootstrap.servers"] = brokers;
  all.emplace("client.id", "samsa-admin");
  return make_client(type, make_conf(all));
}

ListPtr make_list(int size) { return ListPtr(rd_kafka_topic_partition_list_new(size)); }

rd_kafka_topic_partition_t* add_offset(rd_kafka_topic_partition_list_t* list, const std::string& topic,
                                       std::int32_t partition, std::int64_t offset,
                                       std::string_view metadata) {
  rd_kafka_topic_partition_t* e = rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  e->offset = offset;
  if (!metadata.empty()) {
    // Freed by rd_kafka_topic_partition_list_destroy with free() (librdkafka's rd_free).
    e->metadata = std::malloc(metadata.size());
    if (!e->metadata) throw std::bad_alloc();
    std::memcpy(e->metadata, metadata.data(), metadata.size());
    e->metadata_size = metadata.size();
  }
  return e;
}

std::string_view metadata_of(const rd_kafka_topic_partition_t& element) {
  if (!element.metadata || element.metadata_size == 0) return {};
  return {static_cast<const char*>(element.metadata), element.metadata_size};
}

bool stores_offset_metadata() { return rd_kafka_version() >= 0x020200ff; }

KafkaError error(const std::string& what, rd_kafka_resp_err_t err) {
  return KafkaError(what + ": " + rd_kafka_err2name(err) + " (" + rd_kafka_err2str(err) + ")",
                    static_cast<int>(err), is_retriable_commit_error(err));
}

// KIP-848's STALE_MEMBER_EPOCH (librdkafka >= 2.12, where group.protocol=consumer is GA;
// Debian's 2.0.2 does not know the code).
#if RD_KAFKA_VERSION >= 0x020c0000
#define SAMSA_HAS_STALE_MEMBER_EPOCH 1
#endif

bool is_ownership_lost(rd_kafka_resp_err_t err) {
  // Not STALE_MEMBER_EPOCH: the broker refuses a commit that carried an epoch the member
  // has since left behind (a heartbeat moved it on), which says nothing of the partitions.
  // Committer retries it once the client has the new epoch, for the partitions still owned.
  switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
      return true;
    default:
      return false;
  }
}

bool is_retriable_commit_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
#ifdef SAMSA_HAS_STALE_MEMBER_EPOCH
    // Retriable once the member's epoch is current (Committer::commit_sync), which
    // librdkafka does not do for a manual commit (rd_kafka_cgrp_op_handle_OffsetCommit).
    case RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH:
#endif
      return true;
    default:
      return false;
  }
}

Status status(rd_kafka_resp_err_t err) {
  using Code = Status::Code;
  Code code;
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return {};
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: code = Code::timed_out; break;
    case RD_KAFKA_RESP_ERR__NO_OFFSET: code = Code::no_offset; break;
    case RD_KAFKA_RESP_ERR__STATE: code = Code::state; break;
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS: code = Code::rebalance_in_progress; break;
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION: code = Code::illegal_generation; break;
#ifdef SAMSA_HAS_STALE_MEMBER_EPOCH
    case RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH: code = Code::stale_member_epoch; break;
#endif
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC: code = Code::unknown_topic; break;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: code = Code::all_brokers_down; break;
    case RD_KAFKA_RESP_ERR__FATAL: code = Code::fatal; break;
    default: code = Code::other;
  }
  return Status(code, rd_kafka_err2name(err), rd_kafka_err2str(err), is_ownership_lost(err),
                is_retriable_commit_error(err), static_cast<int>(err));
}

int to_ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<long long>(d.count(), 0, INT_MAX));
}

LogLevel log_level(int syslog_level) {
  return syslog_level <= 3 ? LogLevel::error
         : syslog_level == 4 ? LogLevel::warn
         : syslog_level <= 6 ? LogLevel::info
                             : LogLevel::debug;
}

void require_bootstrap_servers(const std::map<std::string, std::string>& properties) {
  const auto it = properties.find("bootstrap.servers");
  if (it == properties.end() || it->second.empty())
    throw SettingsError(
        "setting 'kafka.bootstrap.servers': not set; pass --brokers, set KAFKA_BROKERS or set "
        "config.kafka[\"bootstrap.servers\"]");
}

}  // namespace samsa::kafka
