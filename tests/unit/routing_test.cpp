#include "samsa/routing.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace {
struct NoopConsumer : samsa::Consumer {
  void consume() override {}
};
}  // namespace

TEST(Routing, SettingsInheritAppThenGroupThenTopic) {
  samsa::Settings app;
  app.automatically_mark_as_consumed = true;
  app.batch_fetching = true;
  app.max_messages = 50;
  samsa::Routes routes;
  auto& group = routes.consumer_group("events").automatically_mark_as_consumed(false).max_messages(7);
  auto& plain = group.topic("user_events").consumer<NoopConsumer>();
  auto& tuned = group.topic("audit").consumer<NoopConsumer>().batch_fetching(false).automatically_mark_as_consumed(true);

  auto g = samsa::effective(app, group);
  EXPECT_FALSE(g.automatically_mark_as_consumed);
  EXPECT_EQ(g.max_messages, 7);

  auto p = samsa::effective(app, group, plain);
  EXPECT_FALSE(p.automatically_mark_as_consumed) << "inherited from the group";
  EXPECT_TRUE(p.batch_fetching) << "inherited from the app";

  auto t = samsa::effective(app, group, tuned);
  EXPECT_TRUE(t.automatically_mark_as_consumed) << "the topic overrides the group";
  EXPECT_FALSE(t.batch_fetching);
  EXPECT_TRUE(routes.problems().empty());
}

TEST(Routing, GroupKafkaPropertiesOverrideTheApps) {
  samsa::Settings app;
  app.kafka["bootstrap.servers"] = "a:9092";
  app.kafka["fetch.wait.max.ms"] = "500";
  samsa::Routes routes;
  auto& group = routes.consumer_group("g").kafka("fetch.wait.max.ms", "10");
  auto k = samsa::effective_kafka(app, group);
  EXPECT_EQ(k.at("bootstrap.servers"), "a:9092");
  EXPECT_EQ(k.at("fetch.wait.max.ms"), "10");
}

TEST(Routing, ATopicWithoutAConsumerIsAProblem) {
  samsa::Routes routes;
  routes.consumer_group("events").topic("user_events");
  auto p = routes.problems();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("topic 'user_events': has no consumer"), std::string::npos) << p[0];
}

TEST(Routing, GroupOnlySettingsOnATopicAreProblems) {
  samsa::Routes routes;
  auto& t = routes.consumer_group("events").topic("user_events").consumer<NoopConsumer>();
  t.set("max_messages", "10");
  t.set("kafka.fetch.wait.max.ms", "10");
  EXPECT_EQ(routes.problems().size(), 2u);
}

TEST(Routing, NoGroupsIsAProblem) {
  samsa::Routes routes;
  EXPECT_EQ(routes.problems().size(), 1u);
}

TEST(Routing, SameNameReturnsTheSameRoute) {
  samsa::Routes routes;
  auto& a = routes.consumer_group("g");
  auto& b = routes.consumer_group("g");
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.topic("t"), &b.topic("t"));
  EXPECT_EQ(routes.groups().size(), 1u);
}

TEST(Routing, ADeserializerFixesTheRoutesPayloadTypeAndAnUntypedOneIsJson) {
  samsa::Routes routes;
  auto& group = routes.consumer_group("events");
  auto& json = group.topic("json").consumer<NoopConsumer>();
  EXPECT_EQ(json.deserializer().type(), typeid(nlohmann::json)) << "the default";
  auto& text = group.topic("text").consumer<NoopConsumer>().deserializer(
      [](const samsa::Message& m) { return std::string(m.raw_payload()); });
  EXPECT_EQ(text.deserializer().type(), typeid(nlohmann::json)) << "untyped: JSON, as before typed payloads";
  auto& typed = group.topic("typed").consumer<NoopConsumer>().deserializer<std::unique_ptr<std::string>>(
      [](const samsa::Message& m) { return std::make_unique<std::string>(m.raw_payload()); });
  EXPECT_EQ(typed.deserializer().type(), typeid(std::unique_ptr<std::string>)) << "a move-only type";
  EXPECT_TRUE(routes.problems().empty());
}

TEST(Routing, AnEmptyDeserializerIsAProblem) {
  samsa::Routes routes;
  routes.consumer_group("events").topic("user_events").consumer<NoopConsumer>().deserializer(samsa::Deserializer{});
  auto p = routes.problems();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("has an empty deserializer"), std::string::npos) << p[0];
}
