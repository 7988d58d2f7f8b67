#include "kafka/handle.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

namespace samsa::kafka {

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

KafkaPtr make_client(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (!rk) throw KafkaError(std::string("cannot create a Kafka client: ") + errstr, -1, false);
  conf.release();  // rd_kafka_new took ownership
  return KafkaPtr(rk);
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

int to_ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<long long>(d.count(), 0, INT_MAX));
}

LogLevel log_level(int syslog_level) {
  return syslog_level <= 3 ? LogLevel::error
         : syslog_level == 4 ? LogLevel::warn
         : syslog_level <= 6 ? LogLevel::info
                             : LogLevel::debug;
}

namespace {

// How Samsa reads a message librdkafka handed out (Fetched's Source).
const Fetched::Source kMessageSource{
    [](void* raw) { rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(raw)); },
    [](const void* raw) { return rd_kafka_topic_name(static_cast<const rd_kafka_message_t*>(raw)->rkt); },
    [](const void* raw) -> std::int64_t {
      rd_kafka_timestamp_type_t type;
      return rd_kafka_message_timestamp(static_cast<const rd_kafka_message_t*>(raw), &type);
    },
    [](const void* raw, std::vector<Header>& out) {
      rd_kafka_headers_t* hdrs = nullptr;
      auto* m = static_cast<rd_kafka_message_t*>(const_cast<void*>(raw));
      if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        Header h{name, std::nullopt};
        if (value) h.value = std::string_view(static_cast<const char*>(value), size);
        out.push_back(h);
      }
    },
};

}  // namespace

Fetched fetched(rd_kafka_message_t* m) {
  Fetched::Fields f;
  f.topic_key = m->rkt;
  f.partition = m->partition;
  f.offset = m->offset;
  f.key = static_cast<const char*>(m->key);
  f.key_len = m->key_len;
  f.payload = static_cast<const char*>(m->payload);
  f.len = m->len;
  return Fetched(m, &kMessageSource, f);
}

rd_kafka_headers_t* make_headers(const std::vector<Header>& headers) {
  if (headers.empty()) return nullptr;
  rd_kafka_headers_t* out = rd_kafka_headers_new(headers.size());
  for (const Header& h : headers)
    rd_kafka_header_add(out, h.name.data(), static_cast<ssize_t>(h.name.size()), h.value ? h.value->data() : nullptr,
                        h.value ? static_cast<ssize_t>(h.value->size()) : 0);
  return out;
}

}  // namespace samsa::kafka
