// What `topics plan` and `topics create` read from the routes and settings, no broker:
// the declared topics, and the refusals before anything connects (exit 2).
#include "cli/topics_cli.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "samsa/app.hpp"
#include "samsa/errors.hpp"

namespace samsa::detail {
namespace {

class Nothing : public Consumer {
 public:
  void consume() override {}
};

TEST(DeclaredTopics, RoutedTopicsOnceThenTheirDeadLetterTopicsWithTheSourcesPartitions) {
  Routes routes;
  routes.consumer_group("g1", [](ConsumerGroupRoute& g) {
    g.topic("orders").consumer<Nothing>().partitions(6).replication_factor(3)
        .config("retention.ms", "86400000").config("cleanup.policy", "delete")
        .dead_letter_queue({"orders-dlq", 3, true});
    g.topic("skipped").consumer<Nothing>().dead_letter_queue({"never-written", 3, false});
  });
  routes.consumer_group("g2", [](ConsumerGroupRoute& g) {
    g.topic("orders").consumer<Nothing>().partitions(6).replication_factor(3)
        .config("cleanup.policy", "delete").config("retention.ms", "86400000");
  });
  auto topics = declared_topics(routes);
  ASSERT_EQ(topics.size(), 3u);
  EXPECT_EQ(topics[0].spec.name, "orders");
  EXPECT_EQ(topics[0].spec.partitions, 6);
  EXPECT_EQ(topics[0].spec.replication_factor, 3);
  EXPECT_EQ(topics[0].spec.configs,
            (std::map<std::string, std::string>{{"cleanup.policy", "delete"}, {"retention.ms", "86400000"}}));
  EXPECT_TRUE(topics[0].dead_letter_of.empty());
  EXPECT_EQ(topics[1].spec.name, "skipped");
  EXPECT_EQ(topics[1].spec.partitions, -1) << "no .partitions(): not declared, the broker's default";
  EXPECT_EQ(topics[2].spec.name, "orders-dlq") << "a skipping dead-letter queue has no topic";
  EXPECT_EQ(topics[2].spec.partitions, 6);
  EXPECT_EQ(topics[2].spec.replication_factor, 3);
  EXPECT_TRUE(topics[2].spec.configs.empty()) << "the source's configs are not the dead-letter topic's";
  EXPECT_EQ(topics[2].dead_letter_of, "orders");
}

TEST(DeclaredTopics, ARoutedDeadLetterTopicIsDeclaredByItsOwnRoute) {
  Routes routes;
  routes.consumer_group("g", [](ConsumerGroupRoute& g) {
    g.topic("orders").consumer<Nothing>().partitions(6).dead_letter_queue({"orders-dlq", 3, true});
    g.topic("orders-dlq").consumer<Nothing>().partitions(1).config("retention.ms", "1000");
  });
  auto topics = declared_topics(routes);
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[1].spec.name, "orders-dlq");
  EXPECT_EQ(topics[1].spec.partitions, 1);
  EXPECT_EQ(topics[1].spec.configs.at("retention.ms"), "1000");
  EXPECT_TRUE(topics[1].dead_letter_of.empty());
}

TEST(DeclaredTopics, ATopicRoutedTwiceWithDifferentSettingsIsARoutingError) {
  for (int variant = 0; variant < 3; ++variant) {
    Routes routes;
    routes.consumer_group("g1").topic("orders").consumer<Nothing>().partitions(6);
    auto& again = routes.consumer_group("g2").topic("orders").consumer<Nothing>().partitions(6);
    if (variant == 0) again.partitions(3);
    if (variant == 1) again.replication_factor(3);
    if (variant == 2) again.config("retention.ms", "1");
    try {
      (void)declared_topics(routes);
      FAIL() << "variant " << variant << " accepted";
    } catch (const RoutingError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("topic 'orders' is routed twice with different topic settings"),
                std::string::npos) << what;
      EXPECT_NE(what.find("consumer group 'g2'"), std::string::npos) << what;
    }
  }
}

TEST(TopicsBrokers, TheFlagThenTheSettingsElseASettingsError) {
  Settings s;
  EXPECT_THROW((void)topics_brokers("", s), SettingsError);
  s.kafka["bootstrap.servers"] = "k1:9092";
  EXPECT_EQ(topics_brokers("", s), "k1:9092");
  EXPECT_EQ(topics_brokers("k2:9092", s), "k2:9092");
}

// App::run's `topics` commands with an argv, stderr captured; returns the exit code.
int run(App& app, std::vector<std::string> args, std::string& err) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStderr();
  int code = app.run(static_cast<int>(argv.size()), argv.data());
  err = testing::internal::GetCapturedStderr();
  return code;
}

TEST(TopicsCommands, ConflictingRoutesAndNoBrokersExitWithTheConfigCode) {
  for (const char* command : {"plan", "create"}) {
    App conflicting;
    conflicting.routes([](Routes& r) {
      r.consumer_group("g1").topic("orders").consumer<Nothing>().partitions(6);
      r.consumer_group("g2").topic("orders").consumer<Nothing>().partitions(3);
    });
    std::string err;
    // The address is never dialled: the routes are refused first.
    EXPECT_EQ(run(conflicting, {"app", "topics", command, "--brokers", "127.0.0.1:9"}, err), kExitConfig)
        << command;
    EXPECT_NE(err.find("routed twice"), std::string::npos) << err;

    App no_brokers;
    no_brokers.routes([](Routes& r) { r.consumer_group("g").topic("t").consumer<Nothing>(); });
    no_brokers.settings().kafka.erase("bootstrap.servers");
    if (std::getenv("KAFKA_BROKERS")) GTEST_SKIP() << "KAFKA_BROKERS is set in the environment";
    EXPECT_EQ(run(no_brokers, {"app", "topics", command}, err), kExitConfig) << command;
    EXPECT_NE(err.find("no brokers"), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace samsa::detail
