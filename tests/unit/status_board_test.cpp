// StatusBoard: the state the operations surface shows, and its detectors, fed events by
// hand (the integration tests feed it from a running app).
#include "ops/status_board.hpp"

#include <gtest/gtest.h>

namespace samsa::ops {
namespace {

using namespace std::chrono_literals;

const SystemClock::time_point T0 = SystemClock::time_point(std::chrono::hours(24 * 365 * 50));

Event event(EventType type, std::vector<TopicPartitionOffset> offsets, SystemClock::time_point at = T0) {
  Event e{type, "g", std::move(offsets), 0, {}};
  e.at = at;
  return e;
}

Event watermarks(std::int64_t high, std::int64_t committed, SystemClock::time_point at) {
  Event e = event(EventType::watermarks, {{"t", 0, high}}, at);
  e.committed = {committed};
  return e;
}

const PartitionStatus& part(const StatusBoard& b) {
  static std::vector<GroupStatus> keep;
  keep = b.groups();
  return keep.at(0).partitions.at({"t", 0});
}

struct Board : ::testing::Test {
  StatusBoard board{5s};
  SteadyClock::time_point now = SteadyClock::now();
  std::vector<Warning> apply(const Event& e) { return board.apply(e, now); }
  void assign() { apply(event(EventType::partitions_assigned, {{"t", 0, -1001}})); }
};

TEST_F(Board, OffsetsAndLagComeFromTheEvents) {
  assign();
  Event batch = event(EventType::batch_consumed, {{"t", 0, 10}});
  batch.count = 5;
  batch.last_offset = 14;
  batch.bytes = 500;
  apply(batch);
  apply(event(EventType::offsets_marked, {{"t", 0, 15}}));
  apply(event(EventType::offsets_committed, {{"t", 0, 15}}));
  apply(watermarks(40, 15, T0 + 1s));
  const auto& p = part(board);
  EXPECT_TRUE(p.assigned);
  EXPECT_EQ(p.consumed, 15);
  EXPECT_EQ(p.marked, 15);
  EXPECT_EQ(p.committed, 15);
  EXPECT_EQ(p.high_watermark, 40);
  EXPECT_EQ(p.lag(), 25);
  EXPECT_EQ(p.messages, 5u);
  EXPECT_EQ(p.bytes, 500u);
  ASSERT_EQ(board.groups()[0].rebalances.size(), 1u);
  EXPECT_EQ(board.groups()[0].rebalances[0].kind, "assigned");
}

TEST_F(Board, FailuresShowTheAttemptAndTheLastErrorUntilABatchSucceeds) {
  assign();
  Event failed = event(EventType::hook_failed, {{"t", 0, 3}});
  failed.hook = "consume";
  failed.error = "poison at 3";
  failed.attempt = 2;
  apply(failed);
  apply(event(EventType::partition_paused, {{"t", 0, 3}}));
  EXPECT_EQ(part(board).attempt, 2);
  EXPECT_EQ(part(board).last_error, "consume: poison at 3");
  EXPECT_TRUE(part(board).paused);
  apply(event(EventType::partition_resumed, {{"t", 0, 3}}));
  Event batch = event(EventType::batch_consumed, {{"t", 0, 3}});
  batch.last_offset = 3;
  apply(batch);
  EXPECT_EQ(part(board).attempt, 0);
  EXPECT_FALSE(part(board).paused);
}

TEST_F(Board, ACommittedOffsetThatGoesBackwardsIsReportedOnce) {
  assign();
  EXPECT_TRUE(apply(event(EventType::offsets_committed, {{"t", 0, 100}}, T0)).empty());
  // The coordinator's answer to a reading that began after 100 was confirmed: 40.
  auto raised = apply(watermarks(120, 40, T0 + 2s));
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].kind, "committed_backwards");
  EXPECT_NE(raised[0].message.find("from 100 to 40"), std::string::npos) << raised[0].message;
  EXPECT_EQ(part(board).committed, 40);
  EXPECT_TRUE(apply(watermarks(120, 40, T0 + 3s)).empty()) << "once per episode";
  EXPECT_EQ(board.warning_counts().at("committed_backwards"), 1u);
}

TEST_F(Board, AStaleReadingIsNotABackwardsCommit) {
  assign();
  // The reading began at T0, the commit of 100 was confirmed after it began.
  apply(event(EventType::offsets_committed, {{"t", 0, 100}}, T0 + 1s));
  EXPECT_TRUE(apply(watermarks(120, 40, T0)).empty());
  EXPECT_EQ(part(board).committed, 100);
}

TEST_F(Board, APausedPartitionWhoseLagGrowsAtThreeReadingsIsReported) {
  assign();
  apply(event(EventType::offsets_committed, {{"t", 0, 10}}));
  Event paused = event(EventType::partition_paused, {{"t", 0, 10}});
  paused.reason = "consumer";
  apply(paused);
  EXPECT_TRUE(apply(watermarks(20, 10, T0 + 1s)).empty());
  EXPECT_TRUE(apply(watermarks(30, 10, T0 + 2s)).empty());
  EXPECT_TRUE(apply(watermarks(30, 10, T0 + 3s)).empty()) << "a reading with nothing new in between";
  EXPECT_TRUE(apply(watermarks(40, 10, T0 + 4s)).empty());
  auto raised = apply(watermarks(50, 10, T0 + 5s));
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].kind, "paused_lag_growing");
  EXPECT_TRUE(part(board).lag_growing);
  EXPECT_TRUE(apply(watermarks(60, 10, T0 + 6s)).empty()) << "once per episode";
  // A smaller lag (something was committed) ends it.
  apply(watermarks(60, 30, T0 + 7s));
  EXPECT_FALSE(part(board).lag_growing);
}

TEST_F(Board, AnUnpausedPartitionsGrowingLagIsNotThePausedDetector) {
  assign();
  apply(event(EventType::offsets_committed, {{"t", 0, 10}}));
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(apply(watermarks(10 + 10 * i, 10, T0 + std::chrono::seconds(i))).empty());
}

TEST_F(Board, APartitionWithMessagesWaitingAndNoBatchIsStuck) {
  assign();
  apply(event(EventType::offsets_committed, {{"t", 0, 10}}));
  apply(watermarks(30, 10, T0 + 1s));
  EXPECT_TRUE(board.check(now + 4s).empty()) << "not yet stuck_partition_after";
  auto raised = board.check(now + 6s);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].kind, "stuck_partition");
  EXPECT_NE(raised[0].message.find("20 messages waiting"), std::string::npos) << raised[0].message;
  EXPECT_TRUE(board.check(now + 7s).empty()) << "once per episode";
  // A batch ends it.
  Event batch = event(EventType::batch_consumed, {{"t", 0, 10}});
  batch.last_offset = 29;
  board.apply(batch, now + 8s);
  EXPECT_FALSE(part(board).stuck);
}

TEST_F(Board, ACaughtUpOrPausedPartitionIsNotStuck) {
  assign();
  Event batch = event(EventType::batch_consumed, {{"t", 0, 0}});
  batch.last_offset = 29;
  apply(batch);
  apply(watermarks(30, 10, T0 + 1s));  // consumed 30 = high watermark: nothing waiting
  EXPECT_TRUE(board.check(now + 60s).empty());
  apply(watermarks(50, 10, T0 + 2s));
  apply(event(EventType::partition_paused, {{"t", 0, 30}}));
  EXPECT_TRUE(board.check(now + 60s).empty()) << "paused: it waits on purpose";
}

TEST_F(Board, ARevokedPartitionLeavesTheAssignedOnes) {
  assign();
  apply(event(EventType::partitions_lost, {{"t", 0, -1}}));
  EXPECT_FALSE(part(board).assigned);
  EXPECT_EQ(board.groups()[0].rebalances.back().kind, "lost");
  EXPECT_EQ(board.groups()[0].rebalance_count, 2u);
}

Event described(std::vector<GroupMember> members, std::string state, SystemClock::time_point at) {
  Event e = event(EventType::group_described, {}, at);
  e.reason = std::move(state);
  e.members = std::move(members);
  return e;
}

Event undescribed(std::string error, SystemClock::time_point at) {
  Event e = event(EventType::group_described, {}, at);
  e.error = std::move(error);
  return e;
}

TEST_F(Board, TheGroupsMembersAreTheLatestDescription) {
  EXPECT_TRUE(board.groups().empty());
  apply(described({{"m-1", "app", "/10.0.0.1", {{"t", 0}}}, {"m-2", "app", "/10.0.0.2", {{"t", 1}, {"t", 2}}}},
                  "Stable", T0));
  auto g = board.groups().at(0);
  EXPECT_EQ(g.name, "g");
  EXPECT_TRUE(g.members_known());
  EXPECT_EQ(g.group_state, "Stable");
  EXPECT_EQ(g.described_at, T0);
  ASSERT_EQ(g.members.size(), 2u);
  EXPECT_EQ(g.members[1].member_id, "m-2");
  EXPECT_EQ(g.members[1].host, "/10.0.0.2");
  EXPECT_EQ(g.members[1].assignment.size(), 2u);
  // The next reading replaces it: m-1 left.
  apply(described({{"m-2", "app", "/10.0.0.2", {{"t", 0}, {"t", 1}, {"t", 2}}}}, "PreparingRebalance", T0 + 10s));
  g = board.groups().at(0);
  EXPECT_EQ(g.group_state, "PreparingRebalance");
  ASSERT_EQ(g.members.size(), 1u);
  EXPECT_EQ(g.members[0].assignment.size(), 3u);
  EXPECT_EQ(g.described_at, T0 + 10s);
}

TEST_F(Board, AReadingThatCannotSayLeavesTheMembersUnknownNotEmpty) {
  apply(described({{"m-1", "app", "/10.0.0.1", {{"t", 0}}}}, "Stable", T0));
  apply(undescribed("Local: Timed out", T0 + 10s));
  auto g = board.groups().at(0);
  EXPECT_FALSE(g.members_known());
  EXPECT_EQ(g.members_error, "Local: Timed out");
  EXPECT_TRUE(g.members.empty()) << "no stale members from an earlier reading";
  EXPECT_TRUE(g.group_state.empty());
  EXPECT_EQ(g.described_at, T0 + 10s);
  // Known again, and a group with no members is known to have none.
  apply(described({}, "Empty", T0 + 20s));
  g = board.groups().at(0);
  EXPECT_TRUE(g.members_known());
  EXPECT_TRUE(g.members_error.empty());
  EXPECT_EQ(g.group_state, "Empty");
}

TEST_F(Board, MembersAreUnknownUntilTheFirstReading) {
  assign();
  EXPECT_FALSE(board.groups().at(0).members_known());
}

}  // namespace
}  // namespace samsa::ops
