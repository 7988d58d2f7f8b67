#include "samsa/testing/embedded_broker.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "kafka/error_code.hpp"
#include "kafka/mock_cluster.hpp"
#include "samsa/errors.hpp"

namespace samsa::testing {

namespace {

namespace error_code = kafka::error_code;

KafkaError mock_error(const std::string& what, const kafka::Status& err) {
  return err.error("embedded broker: " + what);
}

}  // namespace

struct EmbeddedBroker::Impl {
  std::unique_ptr<kafka::MockCluster> cluster;
  int brokers = 0;
  std::string bootstraps;

  void check_broker_id(int broker_id) const {
    if (broker_id < 1 || broker_id > brokers)
      throw KafkaError("embedded broker: no broker " + std::to_string(broker_id) +
                           " (the brokers are numbered 1.." + std::to_string(brokers) + ")",
                       error_code::unknown_broker, false);
  }
};

EmbeddedBroker::EmbeddedBroker(int brokers) : impl_(std::make_unique<Impl>()) {
  if (brokers < 1)
    throw KafkaError("embedded broker: needs at least one broker, got " +
                         std::to_string(brokers),
                     error_code::invalid_arg, false);
  impl_->cluster = kafka::MockCluster::start(brokers);
  if (!impl_->cluster)
    throw KafkaError("embedded broker: cannot start librdkafka's mock cluster with " +
                         std::to_string(brokers) +
                         " broker(s) (could it listen on 127.0.0.1? see the log above)",
                     error_code::fail, false);
  impl_->brokers = brokers;
  impl_->bootstraps = impl_->cluster->bootstrap_servers();
}

EmbeddedBroker::~EmbeddedBroker() = default;

std::string EmbeddedBroker::bootstrap_servers() const { return impl_->bootstraps; }

void EmbeddedBroker::create_topic(const std::string& topic, int partitions,
                                  int replication_factor) {
  if (topic.empty())
    throw KafkaError("embedded broker: cannot create a topic with an empty name",
                     error_code::topic_exception, false);
  if (partitions < 1)
    throw KafkaError("embedded broker: cannot create topic '" + topic + "' with " +
                         std::to_string(partitions) + " partitions (needs at least 1)",
                     error_code::invalid_partitions, false);
  if (replication_factor < 1 || replication_factor > impl_->brokers)
    throw KafkaError("embedded broker: cannot create topic '" + topic +
                         "' with replication factor " + std::to_string(replication_factor) +
                         " on " + std::to_string(impl_->brokers) +
                         " broker(s) (start it with more brokers or lower the factor)",
                     error_code::invalid_replication_factor, false);
  const kafka::Status err = impl_->cluster->create_topic(topic, partitions, replication_factor);
  if (err.code() == kafka::Status::Code::topic_already_exists)
    throw mock_error("cannot create topic '" + topic +
                         "': it exists already (created earlier, or auto-created by a client "
                         "that used it first; create topics before clients touch them)",
                     err);
  if (err) throw mock_error("cannot create topic '" + topic + "'", err);
}

void EmbeddedBroker::push_request_errors(int api_key, const std::vector<int>& errors) {
  if (api_key < 0 || api_key > INT16_MAX)
    throw KafkaError("embedded broker: invalid Kafka API key " + std::to_string(api_key),
                     error_code::invalid_arg, false);
  if (errors.empty()) return;
  impl_->cluster->push_request_errors(static_cast<std::int16_t>(api_key), errors);
}

void EmbeddedBroker::set_broker_down(int broker_id) {
  impl_->check_broker_id(broker_id);
  if (auto err = impl_->cluster->set_broker_down(broker_id))
    throw mock_error("cannot take broker " + std::to_string(broker_id) + " down", err);
}

void EmbeddedBroker::set_broker_up(int broker_id) {
  impl_->check_broker_id(broker_id);
  if (auto err = impl_->cluster->set_broker_up(broker_id))
    throw mock_error("cannot bring broker " + std::to_string(broker_id) + " up", err);
}

void EmbeddedBroker::set_round_trip(int broker_id, std::chrono::milliseconds rtt) {
  impl_->check_broker_id(broker_id);
  if (rtt.count() < 0)
    throw KafkaError("embedded broker: a round trip cannot be negative",
                     error_code::invalid_arg, false);
  if (auto err = impl_->cluster->set_round_trip(broker_id, rtt))
    throw mock_error("cannot set the round trip of broker " + std::to_string(broker_id), err);
}

}  // namespace samsa::testing
