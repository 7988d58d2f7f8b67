#pragma once
// librdkafka's mock cluster: Kafka brokers in-process, on ephemeral 127.0.0.1 ports, hosted
// by a client of their own. The embedded broker (include/samsa/testing/embedded_broker.hpp,
// src/embedded_broker.cpp) is this with its arguments checked and its errors worded; it is
// compiled into samsa_testing, not libsamsa.
//
// Thread-safety: every call may come from any thread while clients are connected (each one
// is handed to the cluster's own thread and waits for it).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kafka/status.hpp"

namespace samsa::kafka {

class MockCluster {
 public:
  /// Starts `brokers` (at least 1) mock brokers; null when librdkafka cannot (it logged why).
  /// The host client's error-level log lines go to stderr ("samsa embedded broker:
  /// FACILITY: TEXT"), the rest nowhere. Throws KafkaError when the host client cannot be
  /// created.
  static std::unique_ptr<MockCluster> start(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  /// "127.0.0.1:PORT[,...]".
  std::string bootstrap_servers() const;
  /// topic_already_exists when a topic of that name exists (created, or auto-created by a
  /// client that used it first).
  Status create_topic(const std::string& topic, int partitions, int replication_factor);
  /// The next `errors.size()` requests of Kafka API `api_key` fail with these Kafka error
  /// codes, in order.
  void push_request_errors(std::int16_t api_key, const std::vector<int>& errors);
  /// Broker `broker_id` (1-based) stops or starts answering.
  Status set_broker_down(int broker_id);
  Status set_broker_up(int broker_id);
  /// Every request to `broker_id` is answered `rtt` late.
  Status set_round_trip(int broker_id, std::chrono::milliseconds rtt);

 private:
  struct Impl;
  explicit MockCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace samsa::kafka
