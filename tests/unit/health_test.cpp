// /health/live and /health/ready from the listeners' state.
#include "ops/health.hpp"

#include <gtest/gtest.h>

namespace samsa::ops {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point kNow = Clock::now();

ListenerState serving() {
  ListenerState g;
  g.group = "g";
  g.started = true;
  g.joined = true;
  g.last_loop = kNow - 1s;
  g.partitions = 3;
  return g;
}

// A started group that has not joined, for `for_` so far.
ListenerState joining(Clock::duration for_) {
  auto g = serving();
  g.joined = false;
  g.rebalancing_since = kNow - for_;
  return g;
}

std::string reasons(const HealthReport& r) { return r.body["groups"][0]["reasons"].dump(); }

TEST(Health, AServingGroupIsLiveAndReady) {
  HealthLimits limits;
  EXPECT_TRUE(liveness({serving()}, kNow, limits).ok);
  const auto ready = readiness({serving()}, kNow, limits, false);
  EXPECT_TRUE(ready.ok) << ready.body.dump();
  EXPECT_EQ(ready.body["status"], "ok");
}

TEST(Health, AJobPastStuckJobAfterFailsLiveness) {
  HealthLimits limits;
  limits.stuck_job_after = 10s;
  auto g = serving();
  g.longest_job = 11s;
  const auto r = liveness({g}, kNow, limits);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(reasons(r).find("a job has run for 11000 ms"), std::string::npos) << reasons(r);
  EXPECT_FALSE(readiness({g}, kNow, limits, false).ok);
}

TEST(Health, ALoopThatStoppedTurningFailsLiveness) {
  HealthLimits limits;
  limits.loop_stalled_after = 30s;
  auto g = serving();
  g.last_loop = kNow - 31s;
  EXPECT_FALSE(liveness({g}, kNow, limits).ok);
  g.stopping = true;  // a shutdown commits and leaves: bounded by shutdown_timeout, not this
  EXPECT_TRUE(liveness({g}, kNow, limits).ok);
}

TEST(Health, AListenerThatEndedByItselfIsNotLive) {
  auto g = serving();
  g.finished = true;
  EXPECT_FALSE(liveness({g}, kNow, HealthLimits{}).ok);
}

TEST(Health, JoiningIsNotReadyAndStuckJoiningSaysSo) {
  HealthLimits limits;
  limits.stuck_rebalance_after = 20s;
  auto g = joining(5s);
  auto r = readiness({g}, kNow, limits, false);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(reasons(r).find("joining"), std::string::npos);
  EXPECT_FALSE(rebalance_stuck(g, kNow, limits));
  g.rebalancing_since = kNow - 25s;
  r = readiness({g}, kNow, limits, false);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(reasons(r).find("not joined for 25000 ms"), std::string::npos) << reasons(r);
  EXPECT_TRUE(rebalance_stuck(g, kNow, limits));
  EXPECT_TRUE(liveness({g}, kNow, limits).ok) << "a rebalance is the broker's, not a reason to restart";
}

TEST(Health, JoiningSaysWhyWhenTheConsumerKnows) {
  HealthLimits limits;
  limits.stuck_rebalance_after = 60s;
  auto g = joining(12s);
  g.brokers_down_since = kNow - 12s;
  g.broker_error = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused";
  auto r = readiness({g}, kNow, limits, false);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.body["groups"][0]["reasons"][0],
            "joining the group: cannot reach the brokers: 127.0.0.1:1/bootstrap: Connect to "
            "ipv4#127.0.0.1:1 failed: Connection refused (for 12 s)");

  g.broker_error.clear();  // all down, no error text (yet)
  EXPECT_EQ(joining_detail(g, kNow), "cannot reach the brokers: no broker answers (for 12 s)");

  g.brokers_down_since = {};  // the brokers answer; a subscribed topic does not exist
  g.missing_topics = {"orders", "payments"};
  r = readiness({g}, kNow, limits, false);
  EXPECT_EQ(r.body["groups"][0]["reasons"][0],
            "joining the group: topic 'orders' does not exist; topic 'payments' does not exist");

  g.rebalancing_since = kNow - 61s;  // stuck: the same detail instead of the guess
  r = readiness({g}, kNow, limits, false);
  EXPECT_NE(reasons(r).find("not joined for 61000 ms (stuck_rebalance_after 60000 ms): topic 'orders' does not exist"),
            std::string::npos) << reasons(r);

  g.joined = true;  // once joined, a missing topic is not a readiness matter
  g.rebalancing_since = {};
  EXPECT_TRUE(readiness({g}, kNow, limits, false).ok);
}

TEST(Health, JoiningWithNothingKnownSaysJustThat) {
  auto g = joining(1s);
  EXPECT_EQ(joining_detail(g, kNow), "");
  EXPECT_EQ(readiness({g}, kNow, HealthLimits{}, false).body["groups"][0]["reasons"][0], "joining the group");
}

TEST(Health, AShortRebalanceKeepsAJoinedGroupReady) {
  HealthLimits limits;
  auto g = serving();
  g.rebalancing_since = kNow - 2s;
  g.partitions = 0;
  EXPECT_TRUE(readiness({g}, kNow, limits, false).ok);
}

TEST(Health, AnIdleGroupIsReadyAndSaysWhy) {
  auto g = serving();
  g.partitions = 0;
  const auto r = readiness({g}, kNow, HealthLimits{}, false);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.body["groups"][0].contains("idle"));
}

TEST(Health, ShuttingDownIsNotReady) {
  const auto r = readiness({serving()}, kNow, HealthLimits{}, true);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.body["reason"], "shutting down");
}

}  // namespace
}  // namespace samsa::ops
