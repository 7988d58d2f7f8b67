// `my_app topics plan` and `my_app topics create` through App::run on a broker: a missing
// topic is planned and created, a matching one is ok, a partition-count mismatch is reported
// (never `ready`) and never "fixed", configs and replication are compared where the broker
// can describe them and reported unknown where it cannot.
#include <sstream>

#include "harness.hpp"

namespace samsa::test {
namespace {

using Topics = BrokerTest;

class Nothing : public Consumer {
 public:
  void consume() override {}
};

struct Output {
  int code = -1;
  std::string out, err;
};

// Runs `my_app topics <command> --brokers <the test broker>` on an app with `draw`'s routes.
Output topics(const std::string& command, const std::function<void(Routes&)>& draw) {
  App app;
  app.routes(draw);
  std::string brokers = Broker::get().bootstrap();
  std::vector<std::string> args = {"app", "topics", command, "--brokers", brokers};
  for (const auto& a : test_kafka_args()) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  Output o;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  o.code = app.run(static_cast<int>(argv.size()), argv.data());
  o.err = ::testing::internal::GetCapturedStderr();
  o.out = ::testing::internal::GetCapturedStdout();
  return o;
}

// The output's line about `topic` (empty when there is none).
std::string topic_lines(const std::string& out, const std::string& topic) {
  std::istringstream in(out);
  std::string line, found;
  while (std::getline(in, line))
    if (line.starts_with("topic " + topic + ":") || line.starts_with("topic " + topic + " ("))
      found += line + "\n";
  return found;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(Topics, FewerPartitionsThanRoutedAreReportedByPlanAndCreateAndNeverAdded) {
  Broker::get().create_topic(topic, 3);
  auto routes = [&](Routes& r) { r.consumer_group(group).topic(topic).consumer<Nothing>().partitions(6); };

  Output plan = topics("plan", routes);
  EXPECT_EQ(plan.code, kExitTopicsDiffer) << plan.out << plan.err;
  std::string line = topic_lines(plan.out, topic);
  EXPECT_TRUE(has(line, "topic " + topic + ": differs: partitions")) << plan.out;
  EXPECT_TRUE(has(line, "partitions: 3 on the cluster, 6 declared (3 fewer)")) << plan.out;
  EXPECT_TRUE(has(line, "--alter --topic " + topic + " --partitions 6")) << plan.out;
  EXPECT_TRUE(has(plan.out, "plan: 1 topic: 0 ok, 0 to create, 1 differ, 0 unknown")) << plan.out;

  Output create = topics("create", routes);
  EXPECT_EQ(create.code, kExitTopicsDiffer) << create.out << create.err;
  line = topic_lines(create.out, topic);
  EXPECT_TRUE(has(line, "topic " + topic + ": differs")) << create.out;
  EXPECT_TRUE(has(line, "partitions: 3 on the cluster, 6 declared")) << create.out;
  EXPECT_FALSE(has(line, "ready")) << create.out;
  EXPECT_EQ(admin::partition_count(Broker::get().cluster(), topic), 3)
      << "Samsa never adds partitions itself";
}

TEST_F(Topics, MorePartitionsThanRoutedAreReportedAsSuch) {
  Broker::get().create_topic(topic, 3);
  Output plan = topics("plan", [&](Routes& r) {
    r.consumer_group(group).topic(topic).consumer<Nothing>().partitions(2);
  });
  EXPECT_EQ(plan.code, kExitTopicsDiffer) << plan.out << plan.err;
  EXPECT_TRUE(has(plan.out, "partitions: 3 on the cluster, 2 declared (1 more); Kafka cannot "
                            "remove partitions")) << plan.out;
}

TEST_F(Topics, AMissingTopicIsPlannedAsCreateThenCreatedWithTheRoutedPartitions) {
  // The embedded broker cannot create topics with a partition count (no CreateTopics): it
  // auto-creates them with its default, 4 partitions, which create_topics checks.
  const int partitions = Broker::get().embedded() ? 4 : 6;
  const std::string dlq = topic + "-dlq";
  auto routes = [&](Routes& r) {
    r.consumer_group(group).topic(topic).consumer<Nothing>().partitions(partitions)
        .dead_letter_queue({dlq, 3, true});
  };

  Output plan = topics("plan", routes);
  EXPECT_EQ(plan.code, kExitTopicsDiffer) << plan.out << plan.err;
  EXPECT_TRUE(has(topic_lines(plan.out, topic),
                  "topic " + topic + ": create (" + std::to_string(partitions) + " partitions"))
      << plan.out;
  EXPECT_TRUE(has(topic_lines(plan.out, dlq), "topic " + dlq + " (dead-letter topic of " + topic +
                                                  "): create (" + std::to_string(partitions) +
                                                  " partitions")) << plan.out;
  EXPECT_EQ(admin::partition_count(Broker::get().cluster(), topic), 0) << "plan creates nothing";

  Output create = topics("create", routes);
  EXPECT_EQ(create.code, kExitOk) << create.out << create.err;
  EXPECT_TRUE(has(create.out, "topic " + topic + ": created\n")) << create.out;
  EXPECT_TRUE(has(create.out, "topic " + dlq + " (dead-letter topic of " + topic + "): created\n"))
      << create.out;
  EXPECT_TRUE(has(create.out, "create: 2 topics: 2 created, 0 ready, 0 differ, 0 unknown")) << create.out;
  EXPECT_EQ(admin::partition_count(Broker::get().cluster(), topic), partitions);
  EXPECT_EQ(admin::partition_count(Broker::get().cluster(), dlq), partitions);

  plan = topics("plan", routes);
  EXPECT_EQ(plan.code, kExitOk) << plan.out << plan.err;
  EXPECT_TRUE(has(plan.out, "plan: 2 topics: 2 ok, 0 to create, 0 differ, 0 unknown")) << plan.out;
}

TEST_F(Topics, UndeclaredPartitionsAreNeverADifferenceAndAMissingTopicGetsTheBrokersDefault) {
  // No .partitions() on the route: the existing topic's 3 are fine (not "1 declared, delete
  // and recreate the topic"), and a missing topic is created with the broker's default.
  Broker::get().create_topic(topic, 3);
  const std::string missing = topic + "-new";
  auto routes = [&](Routes& r) {
    r.consumer_group(group).topic(topic).consumer<Nothing>();
    r.consumer_group(group).topic(missing).consumer<Nothing>();
  };
  Output plan = topics("plan", routes);
  EXPECT_EQ(plan.code, kExitTopicsDiffer) << plan.out << plan.err;  // the missing one
  EXPECT_TRUE(has(plan.out, "topic " + topic + ": ok\n")) << plan.out;
  EXPECT_TRUE(has(topic_lines(plan.out, missing),
                  "topic " + missing + ": create (the broker's default partition count"))
      << plan.out;

  Output create = topics("create", routes);
  EXPECT_EQ(create.code, kExitOk) << create.out << create.err;
  EXPECT_TRUE(has(create.out, "topic " + missing + ": created\n")) << create.out;
  EXPECT_GE(admin::partition_count(Broker::get().bootstrap(), missing), 1);
  EXPECT_EQ(admin::partition_count(Broker::get().bootstrap(), topic), 3);
}

TEST_F(Topics, AMatchingTopicIsOkAndReadyWithExitZero) {
  Broker::get().create_topic(topic, 3);
  auto routes = [&](Routes& r) {
    r.consumer_group(group).topic(topic).consumer<Nothing>().partitions(3).replication_factor(1);
  };
  Output plan = topics("plan", routes);
  EXPECT_EQ(plan.code, kExitOk) << plan.out << plan.err;
  EXPECT_TRUE(has(plan.out, "topic " + topic + ": ok\n")) << plan.out;

  Output create = topics("create", routes);
  EXPECT_EQ(create.code, kExitOk) << create.out << create.err;
  EXPECT_TRUE(has(create.out, "topic " + topic + ": ready\n")) << create.out;
}

TEST_F(Topics, AReplicationFactorOtherThanTheClustersIsReported) {
  // Both brokers report replicas in the metadata: the test's topics have 1.
  Broker::get().create_topic(topic, 1);
  Output plan = topics("plan", [&](Routes& r) {
    r.consumer_group(group).topic(topic).consumer<Nothing>().replication_factor(3);
  });
  EXPECT_EQ(plan.code, kExitTopicsDiffer) << plan.out << plan.err;
  EXPECT_TRUE(has(plan.out, "replication factor: 1 on the cluster, 3 declared")) << plan.out;
}

TEST_F(Topics, ConfigsAreUnknownNotOkOnTheEmbeddedBroker) {
  if (!Broker::get().embedded())
    GTEST_SKIP() << "real Kafka describes configs (ConfigsAreCreatedAndComparedOnRealKafka)";
  Broker::get().create_topic(topic, 2);
  auto routes = [&](Routes& r) {
    r.consumer_group(group).topic(topic).consumer<Nothing>().partitions(2)
        .config("retention.ms", "86400000");
  };
  for (const char* command : {"plan", "create"}) {
    Output o = topics(command, routes);
    EXPECT_EQ(o.code, kExitTopicsDiffer) << command << "\n" << o.out << o.err;
    std::string line = topic_lines(o.out, topic);
    EXPECT_TRUE(has(line, "topic " + topic + ": unknown: configs: unknown")) << o.out;
    EXPECT_TRUE(has(line, "configs: unknown (the embedded broker, librdkafka's mock cluster, has "
                          "no DescribeConfigs), declared retention.ms=86400000")) << o.out;
    EXPECT_FALSE(has(line, ": ok")) << o.out;
    EXPECT_FALSE(has(line, "ready")) << o.out;
  }
}

TEST_F(Topics, ConfigsAreCreatedAndComparedOnRealKafka) {
  if (Broker::get().embedded())
    GTEST_SKIP() << "the embedded broker (librdkafka 2.0.2's mock cluster) has neither "
                    "CreateTopics nor DescribeConfigs (ConfigsAreUnknownNotOkOnTheEmbeddedBroker)";
  auto routes = [&](const std::string& retention) {
    return [&, retention](Routes& r) {
      r.consumer_group(group).topic(topic).consumer<Nothing>().partitions(2).replication_factor(1)
          .config("retention.ms", retention).config("cleanup.policy", "compact");
    };
  };
  Output create = topics("create", routes("86400000"));
  EXPECT_EQ(create.code, kExitOk) << create.out << create.err;
  EXPECT_TRUE(has(create.out, "topic " + topic + ": created\n")) << create.out;

  Output plan = topics("plan", routes("86400000"));
  EXPECT_EQ(plan.code, kExitOk) << plan.out << plan.err;
  EXPECT_TRUE(has(plan.out, "topic " + topic + ": ok\n")) << "the configs were set at creation\n"
                                                          << plan.out;

  plan = topics("plan", routes("3600000"));
  EXPECT_EQ(plan.code, kExitTopicsDiffer) << plan.out << plan.err;
  std::string line = topic_lines(plan.out, topic);
  EXPECT_TRUE(has(line, "config retention.ms: 86400000 on the cluster, 3600000 declared")) << plan.out;
  EXPECT_TRUE(has(line, "--entity-name " + topic + " --add-config retention.ms=3600000")) << plan.out;
  EXPECT_FALSE(has(line, "cleanup.policy")) << "it matches\n" << plan.out;

  Output unknown_key = topics("plan", [&](Routes& r) {
    r.consumer_group(group).topic(topic).consumer<Nothing>().partitions(2).config("retention.msx", "1");
  });
  EXPECT_EQ(unknown_key.code, kExitTopicsDiffer) << unknown_key.out << unknown_key.err;
  EXPECT_TRUE(has(unknown_key.out, "config retention.msx: unknown")) << unknown_key.out;
}

}  // namespace
}  // namespace samsa::test
