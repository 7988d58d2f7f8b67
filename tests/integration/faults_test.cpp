// Faults injected with the embedded broker (librdkafka's mock cluster): commit errors, a
// broker down and up, slow round trips. For each: nothing lost, the ownership answers of
// mark_as_consumed_sync are right, and Samsa keeps consuming afterwards. Embedded only:
// real Kafka cannot inject these (the torture test crashes real brokers instead).
#include <set>

#include "harness.hpp"

namespace samsa::test {
namespace {

constexpr int kOffsetCommit = 8;
// Kafka protocol error codes.
constexpr int kNotCoordinator = 16, kCoordinatorLoadInProgress = 14, kRebalanceInProgress = 27,
              kUnknownMemberId = 25, kIllegalGeneration = 22, kInvalidCommitOffsetSize = 28;

class Faults : public BrokerTest {
 protected:
  void SetUp() override {
    if (!Broker::get().embedded()) GTEST_SKIP() << "fault injection needs the embedded broker";
    BrokerTest::SetUp();
  }

  // Consumes 20 events; on offset 4 injects `error` into the next OffsetCommit and calls
  // mark_as_consumed_sync. Returns its answer; checks that everything is consumed and
  // committed in the end.
  bool sync_mark_with_commit_error(int error) {
    Broker::get().create_topic(topic, 1);
    produce(topic, 0, 10);
    std::atomic<int> answer{-1};
    TestApp t(topic, group, [&](RecordingConsumer& c) {
      for (const auto& m : c.messages())
        if (m.offset() == 4 && answer == -1) {
          Broker::get().mock().push_request_errors(kOffsetCommit, {error});
          answer = c.mark_as_consumed_sync(m) ? 1 : 0;
        }
    });
    // Only the tested commit may meet the injected error: no background commit meanwhile.
    t.app.settings().kafka["auto.commit.interval.ms"] = "60000";
    Running run(t.app);
    EXPECT_TRUE(eventually([&] { return answer != -1; }));
    produce(topic, 10, 10);
    EXPECT_TRUE(eventually([&] {
      auto seen = t.probe.offsets(0);
      return std::find(seen.begin(), seen.end(), 19) != seen.end();
    })) << "Samsa keeps consuming after the commit error";
    EXPECT_EQ(run.stop(), kExitOk);
    EXPECT_EQ(committed(group, topic), 20) << "nothing lost, everything committed at shutdown";
    std::set<std::int64_t> unique;
    for (auto o : t.probe.offsets(0)) unique.insert(o);
    EXPECT_EQ(unique.size(), 20u) << "every offset delivered";
    return answer == 1;
  }
};

TEST_F(Faults, ATransientNotCoordinatorIsRetriedAndTheSyncMarkSucceeds) {
  EXPECT_TRUE(sync_mark_with_commit_error(kNotCoordinator));
}

TEST_F(Faults, ACoordinatorStillLoadingIsRetriedAndTheSyncMarkSucceeds) {
  EXPECT_TRUE(sync_mark_with_commit_error(kCoordinatorLoadInProgress));
}

TEST_F(Faults, UnknownMemberIdMeansOwnershipIsLost) {
  EXPECT_FALSE(sync_mark_with_commit_error(kUnknownMemberId));
}

TEST_F(Faults, IllegalGenerationMeansOwnershipIsLost) {
  EXPECT_FALSE(sync_mark_with_commit_error(kIllegalGeneration));
}

TEST_F(Faults, ARebalanceInProgressIsNotAConfirmedCommitButTheMarkIsKept) {
  // The partition is still ours until the rebalance revokes it; the stored mark is
  // committed then (or at shutdown), which the helper checks.
  EXPECT_FALSE(sync_mark_with_commit_error(kRebalanceInProgress));
}

TEST_F(Faults, ACommitErrorThatIsNotAboutOwnershipIsStillAFalse) {
  // Before, only ownership errors were a false: any other refusal answered true.
  EXPECT_FALSE(sync_mark_with_commit_error(kInvalidCommitOffsetSize));
}

TEST_F(Faults, ASyncMarkWithTheOnlyBrokerDownIsAFalseAfterTheDeadline) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  std::atomic<int> answer{-1};
  std::atomic<std::int64_t> committed_then{-2};
  const std::string g = group, tp = topic;
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    for (const auto& m : c.messages()) {
      if (m.offset() == 4 && answer == -1) {
        Broker::get().mock().set_broker_down(1);
        answer = c.mark_as_consumed_sync(m) ? 1 : 0;
        Broker::get().mock().set_broker_up(1);
        committed_then = committed(g, tp);
      }
      c.mark_as_consumed(m);
    }
  });
  t.app.settings().automatically_mark_as_consumed = false;
  t.app.settings().kafka["auto.commit.interval.ms"] = "60000";
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return answer != -1; }, 60s));
  EXPECT_EQ(answer, 0) << "no broker confirmed the commit";
  EXPECT_LT(committed_then, 5) << "and indeed the broker does not have it";
  // 30 s without a broker also cost the session (the assignment was lost and given back):
  // the marks of the new assignment are committed at shutdown.
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 20; }, 60s)) << "redelivered to the new assignment";
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 10);
}

TEST_F(Faults, AFinalCommitTheBrokerRefusesIsReportedAndExitsNonZero) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  auto log = std::make_shared<CapturingLogger>();
  {
    TestApp t(topic, group);
    t.app.logger(log);
    t.app.settings().kafka["auto.commit.interval.ms"] = "60000";  // only the final commit
    Running run(t.app);
    ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 10; }));
    // Two refusals: Samsa's final commit and librdkafka's own commit when it leaves.
    Broker::get().mock().push_request_errors(kOffsetCommit, {kUnknownMemberId, kUnknownMemberId});
    EXPECT_EQ(run.stop(), kExitUncommitted);
  }
  EXPECT_EQ(committed(group, topic), -1);
  EXPECT_TRUE(log->grep("committed the marked offsets").empty()) << "the log must not claim a commit";
  EXPECT_FALSE(log->grep("did not confirm").empty());
  // Nothing is lost: the next run receives everything again.
  TestApp t2(topic, group);
  Running run2(t2.app);
  ASSERT_TRUE(eventually([&] { return t2.probe.consumed >= 10; }));
  EXPECT_EQ(run2.stop(), kExitOk);
  EXPECT_EQ(t2.probe.offsets(0).size(), 10u);
  EXPECT_EQ(committed(group, topic), 10);
}

TEST_F(Faults, ABrokerDownAndUpAgainLosesNothingAndIsLoggedAsRecovered) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 20);
  auto log = std::make_shared<CapturingLogger>();
  TestApp t(topic, group);
  t.app.logger(log);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 20; }));
  Broker::get().mock().set_broker_down(1);
  std::this_thread::sleep_for(2s);
  Broker::get().mock().set_broker_up(1);
  produce(topic, 20, 20);
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 40; }, 60s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_FALSE(log->grep("no broker answers").empty()) << "the outage is reported";
  EXPECT_FALSE(log->grep("recovered: a broker answers again").empty()) << "and so is its end";
  std::set<std::int64_t> unique;
  for (auto o : t.probe.offsets(0)) unique.insert(o);
  EXPECT_EQ(unique.size(), 40u);
}

TEST_F(Faults, SlowRoundTripsDelayButLoseNothing) {
  Broker::get().create_topic(topic, 2);
  produce(topic, 0, 40, 2);
  Broker::get().mock().set_round_trip(1, 150ms);
  TestApp t(topic, group);
  Running run(t.app);
  bool done = eventually([&] { return committed(group, topic, 0) == 20 && committed(group, topic, 1) == 20; }, 90s);
  Broker::get().mock().set_round_trip(1, 0ms);
  EXPECT_TRUE(done);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(t.probe.count_deliveries(), 40u);
}

}  // namespace
}  // namespace samsa::test
