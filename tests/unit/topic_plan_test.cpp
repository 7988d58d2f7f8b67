// admin::plan (`topics plan`'s diff): declared topics against a cluster state, no broker.
#include "admin/topic_plan.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace samsa::admin {
namespace {

using Action = TopicChange::Action;
using Kind = TopicDifference::Kind;

const std::string kBootstrap = "k1:9092";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TopicState state(int partitions, int replication = 1,
                 std::optional<std::map<std::string, std::string>> configs = std::map<std::string, std::string>{}) {
  return {partitions, replication, std::move(configs), ""};
}

TopicChange plan_one(const TopicSpec& spec, const ClusterState& cluster) {
  auto changes = plan({spec}, cluster, kBootstrap);
  EXPECT_EQ(changes.size(), 1u);
  return changes.at(0);
}

// The one difference of a change that differs in one thing only.
TopicDifference the_difference(const TopicChange& c, Action action = Action::differs) {
  EXPECT_EQ(c.action, action);
  EXPECT_EQ(c.differences.size(), 1u);
  return c.differences.empty() ? TopicDifference{} : c.differences[0];
}

void expect_values(const TopicDifference& d, Kind kind, const std::string& declared,
                   const std::string& actual) {
  EXPECT_EQ(d.kind, kind);
  EXPECT_EQ(d.declared, declared);
  EXPECT_EQ(d.actual, actual);
}

TEST(TopicPlan, AMissingTopicIsToBeCreatedWithItsDeclaredSpec) {
  TopicSpec spec{"orders", 6, 3, {{"retention.ms", "86400000"}}};
  auto c = plan_one(spec, {{"other", state(6, 3)}});
  EXPECT_EQ(c.action, Action::create);
  EXPECT_STREQ(action_name(c.action), "create");
  EXPECT_TRUE(c.differences.empty());
  EXPECT_EQ(c.declared.name, "orders");
  EXPECT_EQ(c.declared.partitions, 6);
  EXPECT_EQ(c.declared.configs.at("retention.ms"), "86400000");
}

TEST(TopicPlan, AMatchingTopicIsOk) {
  TopicSpec spec{"orders", 6, 3, {{"cleanup.policy", "compact"}}};
  auto c = plan_one(spec, {{"orders", state(6, 3, std::map<std::string, std::string>{
                                                      {"cleanup.policy", "compact"}})}});
  EXPECT_EQ(c.action, Action::ok);
  EXPECT_STREQ(action_name(c.action), "ok");
  EXPECT_TRUE(c.differences.empty());
}

TEST(TopicPlan, UndeclaredPartitionsAreNotComparedWhateverTheClustersCount) {
  // No .partitions() on the route: the topic's count is whatever it is, never "delete and
  // recreate the topic" because 1 was assumed.
  for (int actual : {1, 3, 12}) {
    auto c = plan_one({"orders", -1, 1, {}}, {{"orders", state(actual, 1)}});
    EXPECT_EQ(c.action, Action::ok) << actual << " partitions";
    EXPECT_TRUE(c.differences.empty()) << actual << " partitions";
  }
  // Other properties are still compared.
  auto c = plan_one({"orders", -1, 3, {}}, {{"orders", state(8, 1)}});
  EXPECT_EQ(c.action, Action::differs);
  ASSERT_EQ(c.differences.size(), 1u);
  EXPECT_EQ(c.differences[0].kind, Kind::replication_factor);
}

TEST(TopicPlan, AMissingTopicWithUndeclaredPartitionsIsCreatedWithTheBrokersDefault) {
  auto c = plan_one({"orders", -1, 1, {}}, {});
  EXPECT_EQ(c.action, Action::create);
  EXPECT_EQ(c.declared.partitions, -1);
}

TEST(TopicPlan, FewerPartitionsThanDeclaredAreReportedWithTheCommandThatAddsThem) {
  auto c = plan_one({"orders", 6, 1}, {{"orders", state(3)}});
  EXPECT_STREQ(action_name(c.action), "differs");
  auto d = the_difference(c);
  expect_values(d, Kind::fewer_partitions, "6", "3");
  EXPECT_TRUE(contains(d.text, "partitions: 3 on the cluster, 6 declared (3 fewer)")) << d.text;
  EXPECT_TRUE(contains(d.text, "Samsa never adds partitions")) << d.text;
  EXPECT_TRUE(contains(d.text, "move keys to other partitions")) << d.text;
  EXPECT_TRUE(contains(d.text, "kafka-topics.sh --bootstrap-server k1:9092 --alter --topic orders "
                               "--partitions 6")) << d.text;
}

TEST(TopicPlan, MorePartitionsThanDeclaredSayKafkaCannotRemoveThem) {
  auto d = the_difference(plan_one({"orders", 6, 1}, {{"orders", state(8)}}));
  expect_values(d, Kind::more_partitions, "6", "8");
  EXPECT_TRUE(contains(d.text, "partitions: 8 on the cluster, 6 declared (2 more)")) << d.text;
  EXPECT_TRUE(contains(d.text, "Kafka cannot remove partitions")) << d.text;
  EXPECT_TRUE(contains(d.text, ".partitions(8)")) << d.text;
  EXPECT_FALSE(contains(d.text, "--alter")) << "nothing to run: " << d.text;
}

TEST(TopicPlan, ADifferentReplicationFactorIsReported) {
  auto d = the_difference(plan_one({"orders", 3, 3}, {{"orders", state(3, 1)}}));
  expect_values(d, Kind::replication_factor, "3", "1");
  EXPECT_TRUE(contains(d.text, "replication factor: 1 on the cluster, 3 declared")) << d.text;
}

TEST(TopicPlan, TheBrokersDefaultReplicationFactorIsNotCompared) {
  auto c = plan_one({"orders", 3, -1}, {{"orders", state(3, 2)}});
  EXPECT_EQ(c.action, Action::ok);
  c = plan_one({"orders", 3, -1}, {{"orders", state(3, 0)}});
  EXPECT_EQ(c.action, Action::ok) << "not even when the metadata names no replicas";
}

TEST(TopicPlan, AReplicationFactorTheMetadataDoesNotShowIsUnknownNotOk) {
  auto d = the_difference(plan_one({"orders", 3, 1}, {{"orders", state(3, 0)}}), Action::unknown);
  expect_values(d, Kind::unknown, "1", "");
  EXPECT_TRUE(contains(d.text, "replication factor: unknown")) << d.text;
}

TEST(TopicPlan, ADifferentConfigIsReportedWithBothValuesAndTheCommandThatSetsIt) {
  TopicSpec spec{"orders", 3, 1, {{"retention.ms", "86400000"}, {"cleanup.policy", "delete"}}};
  auto c = plan_one(spec, {{"orders", state(3, 1, std::map<std::string, std::string>{
                                                      {"retention.ms", "604800000"},
                                                      {"cleanup.policy", "delete"}})}});
  auto d = the_difference(c);  // only the config that differs
  expect_values(d, Kind::config, "86400000", "604800000");
  EXPECT_EQ(d.key, "retention.ms");
  EXPECT_TRUE(contains(d.text, "config retention.ms: 604800000 on the cluster, 86400000 declared"))
      << d.text;
  EXPECT_TRUE(contains(d.text, "kafka-configs.sh --bootstrap-server k1:9092 --alter --entity-type "
                               "topics --entity-name orders --add-config retention.ms=86400000"))
      << d.text;
}

TEST(TopicPlan, ConfigsTheBrokerCannotDescribeAreUnknownWithTheReasonNeverOk) {
  TopicSpec spec{"orders", 3, 1, {{"retention.ms", "86400000"}, {"cleanup.policy", "compact"}}};
  TopicState s = state(3, 1, std::nullopt);
  s.configs_unknown = "the broker does not support DescribeConfigs";
  auto c = plan_one(spec, {{"orders", s}});
  EXPECT_STREQ(action_name(c.action), "unknown");
  auto d = the_difference(c, Action::unknown);  // one for all configs: the reason is the same
  EXPECT_EQ(d.kind, Kind::unknown);
  EXPECT_EQ(d.key, "cleanup.policy, retention.ms");
  EXPECT_TRUE(contains(d.text, "configs: unknown (the broker does not support DescribeConfigs)"))
      << d.text;
  EXPECT_TRUE(contains(d.text, "cleanup.policy=compact, retention.ms=86400000")) << d.text;
}

TEST(TopicPlan, UnknownConfigsWithoutAReasonStillSaySo) {
  auto d = the_difference(plan_one({"orders", 3, 1, {{"retention.ms", "1"}}},
                                   {{"orders", state(3, 1, std::nullopt)}}),
                          Action::unknown);
  EXPECT_TRUE(contains(d.text, "the broker did not say")) << d.text;
}

TEST(TopicPlan, UnknownConfigsDoNotMatterWhenNoneAreDeclared) {
  auto c = plan_one({"orders", 3, 1}, {{"orders", state(3, 1, std::nullopt)}});
  EXPECT_EQ(c.action, Action::ok);
}

TEST(TopicPlan, AConfigTheBrokerDoesNotReportIsUnknown) {
  auto d = the_difference(plan_one({"orders", 3, 1, {{"retention.msx", "1"}}},
                                   {{"orders", state(3, 1, std::map<std::string, std::string>{})}}),
                          Action::unknown);
  expect_values(d, Kind::unknown, "1", "");
  EXPECT_EQ(d.key, "retention.msx");
  EXPECT_TRUE(contains(d.text, "config retention.msx: unknown")) << d.text;
  EXPECT_TRUE(contains(d.text, "is the name right?")) << d.text;
}

TEST(TopicPlan, ADifferenceOutranksAnUnknownAndBothAreListedInOrder) {
  TopicSpec spec{"orders", 6, 3, {{"a.config", "1"}, {"b.config", "2"}}};
  auto c = plan_one(spec, {{"orders", state(3, 1, std::map<std::string, std::string>{{"b.config", "9"}})}});
  EXPECT_EQ(c.action, Action::differs);
  ASSERT_EQ(c.differences.size(), 4u);
  EXPECT_EQ(c.differences[0].kind, Kind::fewer_partitions);
  EXPECT_EQ(c.differences[1].kind, Kind::replication_factor);
  EXPECT_EQ(c.differences[2].kind, Kind::unknown);
  EXPECT_EQ(c.differences[2].key, "a.config");
  EXPECT_EQ(c.differences[3].kind, Kind::config);
  EXPECT_EQ(c.differences[3].key, "b.config");
}

TEST(TopicPlan, ConfigsAreComparedAsText) {
  // Kafka reports the value it stores; "1d" is not "86400000", and the plan does not guess.
  auto c = plan_one({"orders", 1, 1, {{"retention.ms", "86400000 "}}},
                    {{"orders", state(1, 1, std::map<std::string, std::string>{{"retention.ms", "86400000"}})}});
  EXPECT_EQ(c.action, Action::differs);
}

TEST(TopicPlan, KeepsTheDeclaredOrderAndOneChangePerDeclaredTopic) {
  std::vector<TopicSpec> declared = {{"c", 1, 1}, {"a", 2, 1}, {"b", 1, 1}};
  auto changes = plan(declared, {{"a", state(2)}, {"b", state(4)}, {"unrouted", state(1)}}, kBootstrap);
  ASSERT_EQ(changes.size(), 3u) << "topics no route declares are not listed";
  EXPECT_EQ(changes[0].declared.name, "c");
  EXPECT_EQ(changes[0].action, Action::create);
  EXPECT_EQ(changes[1].declared.name, "a");
  EXPECT_EQ(changes[1].action, Action::ok);
  EXPECT_EQ(changes[2].declared.name, "b");
  EXPECT_EQ(changes[2].action, Action::differs);
  EXPECT_TRUE(plan({}, {{"a", state(1)}}, kBootstrap).empty());
}

}  // namespace
}  // namespace samsa::admin
