// The scheduler (docs/architecture.md, "The loop"): partitions run in parallel on the
// workers, a long consume() holds up only its own partition and never the group's
// membership, back-pressure pauses and resumes without losing or repeating a message, and
// a revocation gives up a job that outlives revoke_timeout without committing what it did
// not mark. Offsets are read back from the broker.
#include <condition_variable>
#include <set>

#include "harness.hpp"

namespace samsa::test {
namespace {

using Scheduling = BrokerTest;

// Every (partition, offset) delivered, and how many were delivered more than once.
struct Tally {
  std::set<std::pair<int, std::int64_t>> seen;
  int duplicates = 0;
};
Tally tally(std::initializer_list<const Probe*> probes) {
  Tally t;
  for (const Probe* p : probes) {
    std::lock_guard lock(p->mu);
    for (const auto& d : p->deliveries)
      if (!t.seen.insert({d.partition, d.offset}).second) ++t.duplicates;
  }
  return t;
}

bool all_committed(const std::string& group, const std::string& topic, int partitions, std::int64_t end) {
  for (int p = 0; p < partitions; ++p)
    if (committed(group, topic, p) != end) return false;
  return true;
}

TEST_F(Scheduling, ConcurrencyWorkersRunThatManyPartitionsAtOnce) {
  constexpr int kPartitions = 4, kPerPartition = 40;
  Broker::get().create_topic(topic, kPartitions);
  produce(topic, 0, kPartitions * kPerPartition, kPartitions);
  // The first consume() of each partition waits until all four are inside consume() at
  // once: only a scheduler that runs partitions in parallel lets that happen.
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0, met = 0;
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    if (c.ready) return;
    c.ready = true;
    std::unique_lock lock(mu);
    ++inside;
    cv.notify_all();
    if (cv.wait_for(lock, 30s, [&] { return inside >= kPartitions; })) ++met;
  });
  t.app.settings().concurrency = kPartitions;
  t.app.settings().max_messages = 5;
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= kPartitions * kPerPartition; }, 90s));
  ASSERT_TRUE(eventually([&] { return all_committed(group, topic, kPartitions, kPerPartition); }));
  EXPECT_EQ(run.stop(), kExitOk);
  std::lock_guard lock(mu);
  EXPECT_EQ(met, kPartitions) << "the four partitions' first jobs ran at the same time";
  EXPECT_EQ(tally({&t.probe}).duplicates, 0);
}

TEST_F(Scheduling, ALongConsumeHoldsUpOnlyItsOwnPartition) {
  constexpr int kPerPartition = 50;
  Broker::get().create_topic(topic, 2);
  std::vector<admin::Record> first(5);
  for (auto& r : first) r = {std::nullopt, R"({"id":0})", 0};
  admin::produce(Broker::get().cluster(), topic, first);
  // Partition 0's first batch waits until partition 1 was consumed to its end (ten batches
  // of five), and partition 1's messages are produced only once that batch runs: the
  // listener must keep polling and dispatching while a job runs.
  std::atomic<bool> started{false}, other_finished{false};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    if (c.partition() != 0 || c.ready) return;
    c.ready = true;
    started = true;
    other_finished = eventually([&] { return t.probe.offsets(1).size() >= kPerPartition; }, 60s);
  });
  t.app.settings().max_messages = 5;
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  std::vector<admin::Record> second(kPerPartition);
  for (auto& r : second) r = {std::nullopt, R"({"id":1})", 1};
  admin::produce(Broker::get().cluster(), topic, second);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 5 + kPerPartition; }, 90s));
  EXPECT_TRUE(other_finished) << "partition 1 was consumed while partition 0's job ran";
  ASSERT_TRUE(eventually([&] { return committed(group, topic, 0) == 5 && committed(group, topic, 1) == kPerPartition; }));
  EXPECT_EQ(run.stop(), kExitOk);
  const Tally seen = tally({&t.probe});
  EXPECT_EQ(seen.seen.size(), static_cast<std::size_t>(5 + kPerPartition));
  EXPECT_EQ(seen.duplicates, 0);
}

TEST_F(Scheduling, AConsumeLongerThanMaxPollIntervalKeepsTheMemberAndItsPartitions) {
  constexpr int kPartitions = 2, kPerPartition = 20;
  Broker::get().create_topic(topic, kPartitions);
  produce(topic, 0, kPartitions * kPerPartition, kPartitions);
  std::atomic<bool> slept{false};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    if (c.partition() != 0 || c.ready) return;
    c.ready = true;
    std::this_thread::sleep_for(15s);  // 2.5 x max.poll.interval.ms
    slept = true;
  });
  // The shortest librdkafka accepts with the tests' 6 s session (Kafka's own minimum,
  // group.min.session.timeout.ms): it must not be shorter than the session.
  t.app.settings().kafka["max.poll.interval.ms"] = "6000";
  std::atomic<int> revocations{0};
  t.app.monitor().subscribe_inline([&](const Event& e) {
    if (e.type == EventType::partitions_revoked) ++revocations;
  });
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return slept && t.probe.consumed >= kPartitions * kPerPartition; }, 90s));
  ASSERT_TRUE(eventually([&] { return all_committed(group, topic, kPartitions, kPerPartition); }));
  EXPECT_EQ(revocations, 0) << "the member kept its partitions through the long job";
  EXPECT_EQ(t.probe.hook_calls("revoked"), 0);
  EXPECT_EQ(t.probe.hook_calls("initialized"), kPartitions) << "no partition was assigned twice";
  EXPECT_EQ(run.stop(), kExitOk);
  const Tally seen = tally({&t.probe});
  EXPECT_EQ(seen.seen.size(), static_cast<std::size_t>(kPartitions * kPerPartition)) << "nothing lost";
  EXPECT_EQ(seen.duplicates, 0) << "nothing re-delivered";
}

TEST_F(Scheduling, BackPressurePausesAndResumesWithoutLosingOrRepeatingAMessage) {
  constexpr int kMessages = 300;
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, kMessages);
  TestApp t(topic, group, [](RecordingConsumer&) { std::this_thread::sleep_for(2ms); });
  t.app.settings().max_messages = 2;
  t.app.settings().queue_max_messages = 4;  // paused whenever four messages wait
  t.app.settings().queue_min_time = 0ms;    // whatever the consumer's rate
  std::atomic<int> paused{0}, resumed{0};
  t.app.monitor().subscribe_inline([&](const Event& e) {
    if (e.reason != "back-pressure") return;
    if (e.type == EventType::partition_paused) ++paused;
    if (e.type == EventType::partition_resumed) ++resumed;
  });
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= kMessages; }, 90s));
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == kMessages; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_GE(paused, 1) << "the queue limit paused the partition";
  EXPECT_GE(resumed, paused - 1) << "and each pause but maybe the last was resumed";
  std::vector<std::int64_t> expected(kMessages);
  for (int i = 0; i < kMessages; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(t.probe.offsets(0), expected) << "every message once, in order";
}

TEST_F(Scheduling, AJobThatOutlivesRevokeTimeoutIsGivenUpWithOnlyItsMarksCommitted) {
  constexpr int kPartitions = 2, kPerPartition = 30;
  Broker::get().create_topic(topic, kPartitions);
  produce(topic, 0, kPartitions * kPerPartition, kPartitions);
  // In member A, the batch from offset 10 of each partition blocks until a second member
  // joined and then 4 s more (past A's revoke_timeout of 1 s), then marks its messages.
  std::atomic<bool> b_joined{false};
  std::atomic<int> refused{0}, blocked{0};
  std::mutex blocked_mu;
  // (partition, first offset) of blocked batches whose late marks were refused: those
  // partitions were taken from A while the batch ran. A blocked batch whose partition A
  // kept (the assignor may leave one with A) marks normally and is not among them.
  std::set<std::pair<int, std::int64_t>> refused_at;
  auto blocking = [&](RecordingConsumer& c) {
    for (const auto& m : c.messages()) {
      if (m.offset() >= 10 && !c.ready) {
        c.ready = true;
        ++blocked;
        eventually([&] { return b_joined.load(); }, 60s);
        std::this_thread::sleep_for(4s);
        bool any_refused = false;
        for (const auto& late : c.messages())
          if (!c.mark_as_consumed(late)) {
            ++refused;
            any_refused = true;
          }
        if (any_refused) {
          std::lock_guard lock(blocked_mu);
          refused_at.insert({c.partition(), m.offset()});
        }
        return;
      }
      c.mark_as_consumed(m);
    }
  };
  TestApp a(topic, group, blocking), b(topic, group);
  a.app.settings().automatically_mark_as_consumed = false;
  a.app.settings().revoke_timeout = 1s;
  a.app.settings().max_messages = 5;
  auto logger = std::make_shared<CapturingLogger>();
  a.app.logger(logger);
  Running run_a(a.app);
  ASSERT_TRUE(eventually([&] { return blocked >= 1; }, 60s));
  Running run_b(b.app);
  ASSERT_TRUE(eventually([&] { return b.probe.hook_calls("initialized") > 0; }, 90s)) << "B never got partitions";
  b_joined = true;
  ASSERT_TRUE(eventually([&] { return all_committed(group, topic, kPartitions, kPerPartition); }, 90s))
      << "every partition fully committed";
  ASSERT_TRUE(eventually([&] { return refused >= 1; }, 30s)) << "the given-up job's late marks were refused";
  EXPECT_EQ(run_b.stop(), kExitOk);
  EXPECT_EQ(run_a.stop(), kExitOk);
  EXPECT_FALSE(logger->grep("revoke_timeout").empty()) << "the give-up is logged";
  const Tally seen = tally({&a.probe, &b.probe});
  EXPECT_EQ(seen.seen.size(), static_cast<std::size_t>(kPartitions * kPerPartition)) << "nothing lost";
  // No commit covered a blocked batch whose marks were refused: its first message was
  // delivered again (to B, or to A's next instance of the partition).
  std::lock_guard lock(blocked_mu);
  EXPECT_FALSE(refused_at.empty()) << "at least one blocked batch was given up";
  for (const auto& [partition, offset] : refused_at) {
    int deliveries = 0;
    for (const Probe* p : {&a.probe, &b.probe}) {
      std::lock_guard probe_lock(p->mu);
      for (const auto& d : p->deliveries) deliveries += d.partition == partition && d.offset == offset;
    }
    EXPECT_GE(deliveries, 2) << "partition " << partition << " offset " << offset << " delivered again";
  }
}

}  // namespace
}  // namespace samsa::test
