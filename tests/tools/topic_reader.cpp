// samsa_topic_reader: reads every partition of a topic from its beginning to its end and
// prints one JSON line per message, for the tests of Kafka transactions (what a
// read_committed reader of an output topic sees).
//
//   samsa_topic_reader --brokers B --topic T [--isolation read_committed|read_uncommitted]
//                      [--timeout-ms 30000]
//
// Each line: {"partition":P,"offset":O,"key":"..."|null,"value":"..."|null,
// "headers":{"name":"value",...}} (key and value as text).
// "The end" is what the broker reports as such to this isolation level (for
// read_committed the last stable offset: a transaction still open holds it back). Exit 0
// when every partition reached its end, 1 when --timeout-ms passed first, 2 on bad usage.
// Uses librdkafka directly: it checks Samsa, so it does not go through it.
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

int main(int argc, char** argv) {
  std::string brokers, topic, isolation = "read_committed";
  int timeout_ms = 30000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--brokers") brokers = argv[i + 1];
    else if (flag == "--topic") topic = argv[i + 1];
    else if (flag == "--isolation") isolation = argv[i + 1];
    else if (flag == "--timeout-ms") timeout_ms = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "samsa_topic_reader: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (brokers.empty() || topic.empty()) {
    std::fprintf(stderr, "usage: samsa_topic_reader --brokers B --topic T [--isolation L] [--timeout-ms N]\n");
    return 2;
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> props[] = {
      {"bootstrap.servers", brokers}, {"group.id", "samsa_topic_reader"}, {"isolation.level", isolation},
      {"enable.partition.eof", "true"}, {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"}};
  for (const auto& [k, v] : props)
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "samsa_topic_reader: %s\n", err);
      return 2;
    }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    std::fprintf(stderr, "samsa_topic_reader: %s\n", err);
    return 2;
  }
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
      md->topics[0].err) {
    std::fprintf(stderr, "samsa_topic_reader: no metadata for topic %s\n", topic.c_str());
    return 1;
  }
  const int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::set<int> at_end;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (static_cast<int>(at_end.size()) < partitions && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(m->partition);
    } else if (m->err) {
      std::fprintf(stderr, "samsa_topic_reader: %s\n", rd_kafka_message_errstr(m));
    } else {
      at_end.erase(m->partition);
      nlohmann::json line = {{"partition", m->partition}, {"offset", m->offset}};
      line["key"] = m->key ? nlohmann::json(std::string(static_cast<const char*>(m->key), m->key_len)) : nullptr;
      line["value"] = m->payload ? nlohmann::json(std::string(static_cast<const char*>(m->payload), m->len)) : nullptr;
      nlohmann::json headers = nlohmann::json::object();
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
          headers[name] = value ? std::string(static_cast<const char*>(value), size) : std::string();
      }
      line["headers"] = headers;
      std::printf("%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    rd_kafka_message_destroy(m);
  }
  const bool done = static_cast<int>(at_end.size()) == partitions;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (!done) std::fprintf(stderr, "samsa_topic_reader: %d of %d partitions at their end within %d ms\n",
                          static_cast<int>(at_end.size()), partitions, timeout_ms);
  return done ? 0 : 1;
}
