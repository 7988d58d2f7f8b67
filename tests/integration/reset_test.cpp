// admin::reset_offsets (samsa offsets reset) on a broker: applied to a group without
// members, refused while the group has one, refused out of range; and Cluster::kafka reaching
// the admin clients. Every test reads the committed offsets back from the broker.
#include "harness.hpp"

namespace samsa::test {
namespace {

using Reset = BrokerTest;

admin::OffsetResetRequest request(const std::string& group, const std::string& topic,
                                  const std::string& to,
                                  std::optional<std::int32_t> partition = std::nullopt) {
  admin::OffsetResetRequest r;
  r.group = group;
  r.topic = topic;
  r.to = admin::ResetTarget::parse(to);
  r.partition = partition;
  return r;
}

std::vector<admin::OffsetReset> reset(const admin::OffsetResetRequest& r) {
  return admin::reset_offsets(Broker::get().cluster(), r);
}

// The message of the KafkaError `reset(r)` throws ("" when it does not).
std::string refusal(const admin::OffsetResetRequest& r) {
  try {
    reset(r);
  } catch (const KafkaError& e) {
    return e.what();
  }
  return "";
}

const char kMockRefusesOutsideCommits[] =
    "the embedded broker refuses a commit from outside a group that a consumer has joined, "
    "even once the group is empty (librdkafka's mock cluster); real Kafka runs this case";

TEST_F(Reset, MovesAGroupWithoutMembersToEarliestLatestOrAnOffset) {
  Broker::get().create_topic(topic, 2);
  produce(topic, 0, 20, 2);  // 10 per partition

  auto plan = reset(request(group, topic, "4"));
  ASSERT_EQ(plan.size(), 2u);
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(plan[p].partition, p);
    EXPECT_EQ(plan[p].before, -1) << "nothing committed before";
    EXPECT_EQ(plan[p].after, 4);
    EXPECT_EQ(plan[p].low, 0);
    EXPECT_EQ(plan[p].high, 10);
    EXPECT_EQ(committed(group, topic, p), 4);
  }

  plan = reset(request(group, topic, "latest"));
  EXPECT_EQ(plan[0].before, 4);
  EXPECT_EQ(plan[0].after, 10);
  EXPECT_EQ(committed(group, topic, 0), 10);
  EXPECT_EQ(committed(group, topic, 1), 10);

  plan = reset(request(group, topic, "earliest", 1));
  ASSERT_EQ(plan.size(), 1u) << "--partition: that partition only";
  EXPECT_EQ(plan[0].partition, 1);
  EXPECT_EQ(plan[0].before, 10);
  EXPECT_EQ(plan[0].after, 0);
  EXPECT_EQ(committed(group, topic, 0), 10);
  EXPECT_EQ(committed(group, topic, 1), 0);

  auto dry = request(group, topic, "7");
  dry.dry_run = true;
  plan = reset(dry);
  EXPECT_EQ(plan[0].before, 10);
  EXPECT_EQ(plan[0].after, 7);
  EXPECT_EQ(plan[1].before, 0);
  EXPECT_EQ(plan[1].after, 7);
  EXPECT_EQ(committed(group, topic, 0), 10) << "a dry run changes nothing";
  EXPECT_EQ(committed(group, topic, 1), 0);
}

TEST_F(Reset, AnOffsetOutsideTheLogIsRefusedAndNothingIsReset) {
  Broker::get().create_topic(topic, 2);
  produce(topic, 0, 20, 2);
  reset(request(group, topic, "3"));
  produce(topic, 20, 2, 2);  // partitions at 11 each

  const std::string msg = refusal(request(group, topic, "12"));
  EXPECT_NE(msg.find("offset 12"), std::string::npos) << msg;
  EXPECT_NE(msg.find(topic + "/0 has [0, 11]"), std::string::npos) << msg;
  EXPECT_NE(msg.find(topic + "/1 has [0, 11]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nothing was reset"), std::string::npos) << msg;
  EXPECT_EQ(committed(group, topic, 0), 3);
  EXPECT_EQ(committed(group, topic, 1), 3);

  EXPECT_NE(refusal(request(group, topic, "5", 2)).find("no partition 2"), std::string::npos);
  EXPECT_NE(refusal(request(group, unique_name("missing"), "0")).find("does not exist"),
            std::string::npos);

  reset(request(group, topic, "11", 0));  // the log end itself is in range
  EXPECT_EQ(committed(group, topic, 0), 11);
}

TEST_F(Reset, ByTimeGoesToTheFirstMessageAtOrAfterIt) {
  Broker::get().create_topic(topic, 1);
  if (Broker::get().embedded()) {
    const std::string msg = refusal(request(group, topic, "2026-12-01T10:00:00Z"));
    EXPECT_NE(msg.find("cannot look offsets up by time"), std::string::npos) << msg;
    GTEST_SKIP() << "the embedded broker cannot look offsets up by time (librdkafka's mock "
                    "cluster answers every time as past the log end); refused, as checked";
  }
  produce(topic, 0, 5);
  std::this_thread::sleep_for(300ms);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  admin::ResetTarget between;
  between.kind = admin::ResetTarget::Kind::time;
  between.time_ms = now_ms;
  std::this_thread::sleep_for(300ms);
  produce(topic, 5, 5);

  auto plan = reset(request(group, topic, between.text()));  // through the ISO-8601 text
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].after, 5);
  EXPECT_EQ(committed(group, topic), 5);

  reset(request(group, topic, "1970-01-01T00:00:00Z"));
  EXPECT_EQ(committed(group, topic), 0) << "before every message: the first";
  reset(request(group, topic, "2999-01-01T00:00:00+01:00"));
  EXPECT_EQ(committed(group, topic), 10) << "after every message: the log end";
}

TEST_F(Reset, IsRefusedWhileTheGroupHasAnActiveMemberAndNothingIsReset) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  TestApp t(topic, group);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 10; }, 60s));

  const std::string msg = refusal(request(group, topic, "earliest"));
  EXPECT_NE(msg.find("group '" + group + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("stop every process of the app"), std::string::npos) << msg;
  if (Broker::get().embedded()) {
    EXPECT_NE(msg.find("the broker refused the commit"), std::string::npos) << msg;
  } else {
    EXPECT_NE(msg.find("has 1 active member (state "), std::string::npos) << msg;
  }
  EXPECT_EQ(committed(group, topic), 10) << "nothing reset";
  auto dry = request(group, topic, "earliest");
  dry.dry_run = true;
  if (!Broker::get().embedded()) {
    EXPECT_NE(refusal(dry).find("active member"), std::string::npos) << "a dry run checks too";
  }
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 10);
}

TEST_F(Reset, IsTheWayPastAPoisonMessage_StopResetToItsOffsetPlusOneStart) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  auto poison = [](RecordingConsumer& c) {
    if (c.messages().first().offset() == 4) throw std::runtime_error("poison at 4");
  };
  {
    TestApp t(topic, group, poison);
    t.topic_route().batch_fetching(false);
    Running run(t.app);
    ASSERT_TRUE(eventually([&] { return committed(group, topic) == 4; }, 60s));
    EXPECT_EQ(run.stop(), kExitOk);
  }
  EXPECT_EQ(committed(group, topic), 4) << "stuck at the poison message";

  auto way_out = request(group, topic, "5");
  if (Broker::get().embedded()) {
    EXPECT_NE(refusal(way_out).find("The embedded broker"), std::string::npos);
    GTEST_SKIP() << kMockRefusesOutsideCommits;
  }
  auto plan = reset(way_out);
  EXPECT_EQ(plan[0].before, 4);
  EXPECT_EQ(plan[0].after, 5);
  EXPECT_EQ(committed(group, topic), 5);

  TestApp t2(topic, group, poison);
  t2.topic_route().batch_fetching(false);
  Running run2(t2.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 10; }, 60s));
  EXPECT_EQ(run2.stop(), kExitOk);
  auto seen = t2.probe.offsets(0);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), 5) << "resumed past the poison message";
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(Reset, KafkaPropertiesReachTheAdminClients) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 3);
  // A valid property is taken; the function's own (group.id) stays its own.
  admin::Cluster cluster = Broker::get().cluster();
  cluster.kafka["client.id"] = "samsa-reset-test";
  cluster.kafka["group.id"] = "not-this";
  admin::reset_offsets(cluster, request(group, topic, "2"));
  EXPECT_EQ(admin::committed_offset(cluster, group, topic, 0), 2);
  EXPECT_EQ(committed(group, topic), 2);

  for (const auto& [key, value] : std::map<std::string, std::string>{
           {"socket.timeout.ms", "not-a-number"}, {"no.such.property", "1"}}) {
    admin::Cluster bad = Broker::get().cluster();
    bad.kafka[key] = value;
    try {
      admin::reset_offsets(bad, request(group, topic, "0"));
      ADD_FAILURE() << key << "=" << value << " was taken";
    } catch (const SettingsError& e) {
      EXPECT_NE(std::string(e.what()).find("'kafka." + key + "'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(admin::group_offsets(bad, group, {topic}), SettingsError);
    EXPECT_THROW(admin::produce_events(bad, topic, 0, 1), SettingsError);
  }
  EXPECT_EQ(committed(group, topic), 2) << "nothing reset by the refused calls";
}

}  // namespace
}  // namespace samsa::test
