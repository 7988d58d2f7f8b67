// admin::reset_offsets on the fake admin client: the plan per partition, what is refused
// before anything is committed, the retries while the coordinator moves, and the messages.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "admin/reset.hpp"
#include "fake_admin_client.hpp"
#include "kafka/status.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {
namespace {

using namespace std::chrono_literals;
using test::FakeAdminClient;

// librdkafka's error numbers the fake answers with.
constexpr int kTimedOut = -185;                  // _TIMED_OUT
constexpr int kCoordinatorLoadInProgress = 14;   // COORDINATOR_LOAD_IN_PROGRESS
constexpr int kNotCoordinator = 16;              // NOT_COORDINATOR
constexpr int kUnknownMemberId = 25;             // UNKNOWN_MEMBER_ID
constexpr int kOffsetOutOfRange = 1;             // OFFSET_OUT_OF_RANGE
constexpr int kNonEmptyGroup = 68;               // NON_EMPTY_GROUP
constexpr int kUnsupportedFeature = -165;        // _UNSUPPORTED_FEATURE

constexpr const char* kBrokers = "kafka-1:9092";

struct Reset : ::testing::Test {
  FakeAdminClient cluster;

  void SetUp() override {
    // t/0 keeps [5, 20) and the group committed 10; t/1 keeps [0, 7), nothing committed.
    cluster.topics["t"] = {{5, 20, 10, ""}, {0, 7, -1, ""}};
  }

  std::vector<OffsetReset> reset(ResetTarget to, bool dry_run = false) {
    OffsetResetRequest request{"g", "t", to, std::nullopt, dry_run};
    return detail::reset_offsets(cluster, kBrokers, request, detail::Deadline(30s));
  }

  KafkaError refusal(ResetTarget to) {
    try {
      reset(to);
    } catch (const KafkaError& e) {
      return e;
    }
    ADD_FAILURE() << "the reset was not refused";
    return KafkaError("", 0, false);
  }
};

ResetTarget offset(std::int64_t o) { return {ResetTarget::Kind::offset, o, 0}; }

TEST_F(Reset, ToEarliestCommitsEachPartitionsLogStart) {
  const auto plan = reset(ResetTarget::parse("earliest"));
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].before, 10);
  EXPECT_EQ(plan[0].after, 5);
  EXPECT_EQ(plan[1].before, -1);
  EXPECT_EQ(plan[1].after, 0);
  EXPECT_EQ(plan[1].high, 7);
  EXPECT_EQ(cluster.calls_of("alter"), std::vector<std::string>{"alter g t/0@5 t/1@0"});
  EXPECT_EQ(cluster.topics["t"][0].committed, 5);
}

TEST_F(Reset, ADryRunPlansAndCommitsNothing) {
  const auto plan = reset(ResetTarget::parse("latest"), /*dry_run=*/true);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].after, 20);
  EXPECT_EQ(plan[1].after, 7);
  EXPECT_TRUE(cluster.calls_of("alter").empty());
  EXPECT_EQ(cluster.topics["t"][0].committed, 10);
}

TEST_F(Reset, AnOffsetOutsideAPartitionsLogIsRefusedAndNothingIsReset) {
  const KafkaError e = refusal(offset(15));
  EXPECT_STREQ(e.what(),
               "cannot reset the offsets of group 'g' on t to offset 15: outside the range of its log (log "
               "start, log end): t/1 has [0, 7]; nothing was reset (give an offset in the range, or earliest or "
               "latest)");
  EXPECT_EQ(e.code(), kOffsetOutOfRange);
  EXPECT_TRUE(cluster.calls_of("alter").empty());
}

TEST_F(Reset, AGroupWithMembersIsRefusedBeforeAnyOffsetIsRead) {
  cluster.group = {{}, "Stable", {{"m-1", "app", "/10.0.0.1", {{"t", 0}}}, {"m-2", "app", "/10.0.0.2", {{"t", 1}}}}};
  const KafkaError e = refusal(ResetTarget::parse("earliest"));
  EXPECT_EQ(std::string(e.what()),
            "cannot reset the offsets of group 'g': it has 2 active members (state Stable); an app of the group "
            "that runs goes on from its own positions and commits over a reset: stop every process of the app (a "
            "graceful stop commits what it marked), check with `samsa offsets --group g` that it is gone, then "
            "reset again");
  EXPECT_EQ(e.code(), kNonEmptyGroup);
  EXPECT_TRUE(cluster.calls_of("committed").empty());
  EXPECT_TRUE(cluster.calls_of("alter").empty());
}

TEST_F(Reset, AMovingCoordinatorIsAskedAgain) {
  cluster.describe_errors = {kafka::status_of(kNotCoordinator).with_detail("not the coordinator (fake)")};
  cluster.committed_errors = {kafka::status_of(kCoordinatorLoadInProgress)};
  cluster.alter_errors = {kafka::status_of(kNotCoordinator).with_detail("not the coordinator (fake)")};
  const auto plan = reset(offset(6));
  EXPECT_EQ(plan[0].after, 6);
  EXPECT_EQ(cluster.calls_of("describe_group").size(), 2u);
  EXPECT_EQ(cluster.calls_of("committed").size(), 2u);
  EXPECT_EQ(cluster.calls_of("alter").size(), 2u);
  EXPECT_EQ(cluster.topics["t"][1].committed, 6);
}

TEST_F(Reset, ACommitRefusedForMembersSaysToStopTheApp) {
  cluster.alter_group_errors = {kafka::status_of(kUnknownMemberId).with_detail("unknown member (fake)")};
  const KafkaError e = refusal(ResetTarget::parse("earliest"));
  const std::string text = e.what();
  EXPECT_TRUE(text.starts_with("cannot reset the offsets of group 'g': the broker refused the commit "
                               "(UNKNOWN_MEMBER_ID), as it does while the group has active members; an app of the "
                               "group that runs"))
      << text;
  EXPECT_EQ(text.find("embedded broker"), std::string::npos) << text;
  EXPECT_EQ(e.code(), kNonEmptyGroup);
}

TEST_F(Reset, OnTheEmbeddedBrokerTheRefusalSaysWhatItCannotDo) {
  cluster.mock_cluster = true;
  cluster.alter_group_errors = {kafka::status_of(kUnknownMemberId)};
  const std::string text = refusal(ResetTarget::parse("earliest")).what();
  EXPECT_NE(text.find(". The embedded broker (librdkafka's mock cluster) cannot describe groups"), std::string::npos)
      << text;
  // The mock cannot describe groups: it is never asked.
  EXPECT_TRUE(cluster.calls_of("describe_group").empty());
}

TEST_F(Reset, ByTimeTakesTheFirstOffsetAtOrAfterItOrTheLogEnd) {
  cluster.offset_at = [](const std::string&, std::int32_t partition, std::int64_t) -> std::int64_t {
    return partition == 0 ? 12 : -1;
  };
  const auto plan = reset(ResetTarget::parse("2026-12-01T10:00:00Z"));
  EXPECT_EQ(plan[0].after, 12);
  EXPECT_EQ(plan[1].after, 7);
  EXPECT_EQ(cluster.calls_of("offsets_for_time"),
            std::vector<std::string>{"offsets_for_time t/0 t/1 @1796119200000"});
}

TEST_F(Reset, ByTimeIsRefusedOnTheEmbeddedBroker) {
  cluster.mock_cluster = true;
  const KafkaError e = refusal(ResetTarget::parse("2026-12-01T10:00:00Z"));
  EXPECT_EQ(std::string(e.what()),
            "cannot reset the offsets of group 'g' on t to 2026-12-01T10:00:00.000Z: the embedded broker "
            "(librdkafka's mock cluster) cannot look offsets up by time (it answers every time as past the log "
            "end); reset to an offset instead, or use real Kafka");
  EXPECT_EQ(e.code(), kUnsupportedFeature);
}

TEST_F(Reset, AClusterThatDoesNotAnswerIsNamedWithLibrdkafkasAccount) {
  cluster.all_topics_errors = {kafka::status_of(kTimedOut)};
  cluster.log_error = "Connect to ipv4#10.0.0.9:9092 failed: Connection refused";
  const KafkaError e = refusal(ResetTarget::parse("earliest"));
  EXPECT_EQ(std::string(e.what()),
            "cannot read the cluster's metadata: no answer from the Kafka cluster at kafka-1:9092 within 30 s "
            "(_TIMED_OUT); librdkafka says: Connect to ipv4#10.0.0.9:9092 failed: Connection refused (is a "
            "broker running at that address? check the bootstrap servers)");
  EXPECT_TRUE(e.retriable());
}

TEST_F(Reset, AMissingTopicOrPartitionIsNamed) {
  OffsetResetRequest request{"g", "nope", ResetTarget::parse("earliest"), std::nullopt, false};
  try {
    detail::reset_offsets(cluster, kBrokers, request, detail::Deadline(30s));
    ADD_FAILURE() << "a missing topic was reset";
  } catch (const KafkaError& e) {
    EXPECT_STREQ(e.what(), "cannot reset the offsets of group 'g' on nope: topic 'nope' does not exist at kafka-1:9092");
  }
  request = {"g", "t", ResetTarget::parse("earliest"), 2, false};
  try {
    detail::reset_offsets(cluster, kBrokers, request, detail::Deadline(30s));
    ADD_FAILURE() << "a missing partition was reset";
  } catch (const KafkaError& e) {
    EXPECT_STREQ(e.what(), "cannot reset the offsets of group 'g' on t: it has no partition 2 (its partitions are 0 to 1)");
  }
}

}  // namespace
}  // namespace samsa::admin
