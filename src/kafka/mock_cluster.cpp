#include "kafka/mock_cluster.hpp"

#include <cstdio>
#include <utility>

#include "kafka/handle.hpp"  // rdkafka.h, which rdkafka_mock.h needs first

#include <librdkafka/rdkafka_mock.h>

namespace samsa::kafka {

namespace {

// The mock cluster's own client only hosts the cluster; it never connects anywhere, so
// its "no bootstrap.servers" warning is noise. Errors are still shown.
void log_errors_only(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 3) std::fprintf(stderr, "samsa embedded broker: %s: %s\n", fac, buf);
}

}  // namespace

struct MockCluster::Impl {
  // Declared first, destroyed last: the cluster lives on this handle's threads and must
  // be destroyed before it.
  KafkaPtr handle;
  rd_kafka_mock_cluster_t* cluster = nullptr;

  ~Impl() {
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
  }
};

MockCluster::MockCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MockCluster::~MockCluster() = default;

std::unique_ptr<MockCluster> MockCluster::start(int brokers) {
  auto impl = std::make_unique<Impl>();
  auto conf = make_conf({{"client.id", "samsa-embedded-broker"}});
  rd_kafka_conf_set_log_cb(conf.get(), log_errors_only);
  impl->handle = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  impl->cluster = rd_kafka_mock_cluster_new(impl->handle.get(), brokers);
  if (!impl->cluster) return nullptr;
#if RD_KAFKA_VERSION >= 0x020e0000  // present in 2.14.2, absent in Debian's 2.0.2
  // The mock holds a new group's first rebalance for 3 s (Kafka's default
  // group.initial.rebalance.delay.ms, kept so that members starting together join one
  // rebalance). The embedded broker serves demos and tests, where a member starting alone is
  // the common case, so it waits 0 ms, as the test brokers of scripts/kafka-local do.
  rd_kafka_mock_group_initial_rebalance_delay_ms(impl->cluster, 0);
#endif
  return std::unique_ptr<MockCluster>(new MockCluster(std::move(impl)));
}

std::string MockCluster::bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(impl_->cluster); }

Status MockCluster::create_topic(const std::string& topic, int partitions, int replication_factor) {
  return status(rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, replication_factor));
}

void MockCluster::push_request_errors(std::int16_t api_key, const std::vector<int>& errors) {
  std::vector<rd_kafka_resp_err_t> codes;
  codes.reserve(errors.size());
  for (int e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  rd_kafka_mock_push_request_errors_array(impl_->cluster, api_key, codes.size(), codes.data());
}

Status MockCluster::set_broker_down(int broker_id) {
  return status(rd_kafka_mock_broker_set_down(impl_->cluster, broker_id));
}

Status MockCluster::set_broker_up(int broker_id) { return status(rd_kafka_mock_broker_set_up(impl_->cluster, broker_id)); }

Status MockCluster::set_round_trip(int broker_id, std::chrono::milliseconds rtt) {
  return status(rd_kafka_mock_broker_set_rtt(impl_->cluster, broker_id, to_ms(rtt)));
}

}  // namespace samsa::kafka
