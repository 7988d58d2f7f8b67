#pragma once
// The embedded broker: librdkafka's mock cluster, in-process, behind Samsa's own interface.
//
// A functional stand-in for Kafka, for the demo and fast tests: it keeps nothing on disk,
// each partition keeps at most ~5 MiB (or 100,000 message sets) of log and drops the oldest
// beyond that, and a group admits a new member only after the previous one's session
// timed out or it left, and then late: when the last member of a classic group leaves
// (LeaveGroup), the mock starts a rebalance and answers the next JoinGroup only when it
// ends, the leaver's session.timeout.ms - 1 s after the leave (a restarted app waited
// 43.8 s with librdkafka's default 45 s session, 0.9 s with 2 s; a KIP-848 group on
// librdkafka 2.14.2 has no such wait: 56 ms). On librdkafka 2.14.2 a new group's first rebalance starts at once
// (group.initial.rebalance.delay.ms 0, as on Samsa's test brokers); on 2.0.2 the mock waits
// Kafka's default 3 s, which cannot be changed there. Keep workloads to tens of thousands of small events per partition,
// and use short session timeouts in tests, but leave topic.metadata.refresh.interval.ms at
// librdkafka's default: a group leader whose periodic refresh is answered while it waits
// for its assignor's metadata joins again, the mock answers a JoinGroup only whole seconds
// after it (3 s the first, then session.timeout.ms - 1 s), and a refresh every second can
// keep in step with that, join after join. Real Apache Kafka is the truth
// (scripts/kafka-local).
//
// Thread-safety: all methods may be called from any thread while clients are connected.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace samsa::testing {

class EmbeddedBroker {
 public:
  /// Starts `brokers` mock brokers on ephemeral 127.0.0.1 ports. Auto-created topics get
  /// librdkafka's mock default partition count (4 on 2.0.2); use create_topic to choose.
  explicit EmbeddedBroker(int brokers = 1);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  /// The bootstrap servers, "127.0.0.1:PORT[,...]".
  std::string bootstrap_servers() const;

  /// Creates `topic` with `partitions` partitions. Throws KafkaError if it fails.
  void create_topic(const std::string& topic, int partitions, int replication_factor = 1);

  // Fault injection, for the fault tests. `api_key` is the Kafka protocol API key
  // (OffsetCommit = 8, Fetch = 1, Heartbeat = 12, JoinGroup = 11, SyncGroup = 14,
  // OffsetFetch = 9, FindCoordinator = 10); `error` a Kafka error code
  // (REBALANCE_IN_PROGRESS = 27, NOT_COORDINATOR = 16, COORDINATOR_LOAD_IN_PROGRESS = 14,
  // UNKNOWN_MEMBER_ID = 25, ILLEGAL_GENERATION = 22).

  /// The next `errors.size()` requests of `api_key` fail with these errors, in order.
  void push_request_errors(int api_key, const std::vector<int>& errors);
  /// Takes broker `broker_id` (1-based) down or brings it up again.
  void set_broker_down(int broker_id);
  void set_broker_up(int broker_id);
  /// Adds a round-trip delay to every request to `broker_id`.
  void set_round_trip(int broker_id, std::chrono::milliseconds rtt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace samsa::testing
