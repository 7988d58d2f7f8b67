#include "samsa/testing/embedded_broker.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "kafka/handle.hpp"  // rdkafka.h, which rdkafka_mock.h needs first
#include "samsa/errors.hpp"

#include <librdkafka/rdkafka_mock.h>

namespace samsa::testing {

namespace {

// The mock cluster's own client only hosts the cluster; it never connects anywhere, so
// its "no bootstrap.servers" warning is noise. Errors are still shown.
void log_errors_only(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 3) std::fprintf(stderr, "samsa embedded broker: %s: %s\n", fac, buf);
}

KafkaError mock_error(const std::string& what, rd_kafka_resp_err_t err) {
  return kafka::error("embedded broker: " + what, err);
}

}  // namespace

struct EmbeddedBroker::Impl {
  // Declared first, destroyed last: the cluster lives on this handle's threads and must
  // be destroyed before it.
  kafka::KafkaPtr handle;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  int brokers = 0;
  std::string bootstraps;

  ~Impl() {
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
  }

  void check_broker_id(int broker_id) const {
    if (broker_id < 1 || broker_id > brokers)
      throw KafkaError("embedded broker: no broker " + std::to_string(broker_id) +
                           " (the brokers are numbered 1.." + std::to_string(brokers) + ")",
                       RD_KAFKA_RESP_ERR__UNKNOWN_BROKER, false);
  }
};

EmbeddedBroker::EmbeddedBroker(int brokers) : impl_(std::make_unique<Impl>()) {
  if (brokers < 1)
    throw KafkaError("embedded broker: needs at least one broker, got " +
                         std::to_string(brokers),
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  auto conf = kafka::make_conf({{"client.id", "samsa-embedded-broker"}});
  rd_kafka_conf_set_log_cb(conf.get(), log_errors_only);
  impl_->handle = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  impl_->cluster = rd_kafka_mock_cluster_new(impl_->handle.get(), brokers);
  if (!impl_->cluster)
    throw KafkaError("embedded broker: cannot start librdkafka's mock cluster with " +
                         std::to_string(brokers) +
                         " broker(s) (could it listen on 127.0.0.1? see the log above)",
                     RD_KAFKA_RESP_ERR__FAIL, false);
  impl_->brokers = brokers;
  impl_->bootstraps = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

EmbeddedBroker::~EmbeddedBroker() = default;

std::string EmbeddedBroker::bootstrap_servers() const { return impl_->bootstraps; }

void EmbeddedBroker::create_topic(const std::string& topic, int partitions,
                                  int replication_factor) {
  if (topic.empty())
    throw KafkaError("embedded broker: cannot create a topic with an empty name",
                     RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, false);
  if (partitions < 1)
    throw KafkaError("embedded broker: cannot create topic '" + topic + "' with " +
                         std::to_string(partitions) + " partitions (needs at least 1)",
                     RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, false);
  if (replication_factor < 1 || replication_factor > impl_->brokers)
    throw KafkaError("embedded broker: cannot create topic '" + topic +
                         "' with replication factor " + std::to_string(replication_factor) +
                         " on " + std::to_string(impl_->brokers) +
                         " broker(s) (start it with more brokers or lower the factor)",
                     RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR, false);
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, replication_factor);
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    throw mock_error("cannot create topic '" + topic +
                         "': it exists already (created earlier, or auto-created by a client "
                         "that used it first; create topics before clients touch them)",
                     err);
  if (err) throw mock_error("cannot create topic '" + topic + "'", err);
}

void EmbeddedBroker::push_request_errors(int api_key, const std::vector<int>& errors) {
  if (api_key < 0 || api_key > INT16_MAX)
    throw KafkaError("embedded broker: invalid Kafka API key " + std::to_string(api_key),
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  if (errors.empty()) return;
  std::vector<rd_kafka_resp_err_t> codes;
  codes.reserve(errors.size());
  for (int e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  rd_kafka_mock_push_request_errors_array(impl_->cluster, static_cast<int16_t>(api_key),
                                          codes.size(), codes.data());
}

void EmbeddedBroker::set_broker_down(int broker_id) {
  impl_->check_broker_id(broker_id);
  if (auto err = rd_kafka_mock_broker_set_down(impl_->cluster, broker_id))
    throw mock_error("cannot take broker " + std::to_string(broker_id) + " down", err);
}

void EmbeddedBroker::set_broker_up(int broker_id) {
  impl_->check_broker_id(broker_id);
  if (auto err = rd_kafka_mock_broker_set_up(impl_->cluster, broker_id))
    throw mock_error("cannot bring broker " + std::to_string(broker_id) + " up", err);
}

void EmbeddedBroker::set_round_trip(int broker_id, std::chrono::milliseconds rtt) {
  impl_->check_broker_id(broker_id);
  if (rtt.count() < 0)
    throw KafkaError("embedded broker: a round trip cannot be negative",
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  if (auto err = rd_kafka_mock_broker_set_rtt(impl_->cluster, broker_id, kafka::to_ms(rtt)))
    throw mock_error("cannot set the round trip of broker " + std::to_string(broker_id), err);
}

}  // namespace samsa::testing
