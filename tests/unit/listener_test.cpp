// The runtime against a fake Kafka client (tests/support/fake_consumer_client.hpp): the
// order of a rebalance, a job that outlives revoke_timeout, a lost assignment, the
// pause/rewind/back-off of a failed batch, back-pressure, parallel jobs, the shutdown and the
// commit retry policy. Milliseconds each; the same rules are tested on brokers in
// tests/integration/.
//
// The fake records the runtime's calls (pause, seek, commit, unassign...) in order, and the
// test consumer adds its own steps to the same record, so a test reads the order of what
// happened in one list.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_consumer_client.hpp"
#include "fake_producer.hpp"
#include "kafka/handle.hpp"
#include "runtime/committer.hpp"
#include "runtime/listener.hpp"
#include "runtime/worker_pool.hpp"
#include "samsa/app.hpp"

namespace samsa::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// 30 s: a bound for a hung runtime, never a speed target (it returns as soon as `done`
// holds). Under ThreadSanitizer on two cores beside a torture run, the 400 one-millisecond
// batches of AJobOfSeveralBatches... took more than 5 s.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
  const auto until = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

class Lines : public Logger {
 public:
  void write(LogLevel, std::string_view message) override {
    std::lock_guard lock(mu_);
    lines_.emplace_back(message);
  }
  LogLevel level() const override { return LogLevel::info; }
  bool has(const std::string& text) const {
    std::lock_guard lock(mu_);
    return std::any_of(lines_.begin(), lines_.end(), [&](const auto& l) { return l.find(text) != std::string::npos; });
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

/// A gate a consumer waits at until the test opens it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct World;

/// Records its steps in the fake's call list ("consume t/0@3-4", "revoked t/0") and runs
/// what the test put in World::on_consume.
class Scripted : public Consumer {
 public:
  explicit Scripted(World& w) : w_(w) {}
  void consume() override;
  void after_fetch() override;
  void tick() override;
  void revoked() override;
  void before_stop() override;
  using Consumer::attempt;
  using Consumer::mark_as_consumed;
  using Consumer::mark_as_consumed_sync;
  using Consumer::messages;
  using Consumer::owned;
  using Consumer::partition;
  using Consumer::pause;
  using Consumer::pause_consecutive;
  using Consumer::resume;
  using Consumer::retrying;
  using Consumer::seek;
  using Consumer::topic;

 private:
  World& w_;
};

struct World {
  Settings settings;
  Routes routes;
  Lines logger;
  Monitor monitor;
  std::unique_ptr<runtime::WorkerPool> pool;
  FakeConsumerClient* fake = nullptr;
  std::unique_ptr<runtime::Listener> listener;
  std::function<void(Scripted&)> on_after_fetch = [](Scripted&) {};
  std::function<void(Scripted&)> on_tick = [](Scripted&) {};
  std::function<void(Scripted&)> on_consume = [](Scripted& c) {
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  /// Applied to topic "t"'s route before the start (e.g. a dead-letter queue).
  std::function<void(TopicRoute&)> route = [](TopicRoute&) {};
  FakeProducer producer;
  std::mutex mu;
  std::vector<std::pair<int, std::int64_t>> delivered;  // (partition, offset), in order
  std::atomic<int> refused_marks{0};
  std::atomic<bool> in_job{false};  // start_with_a_held_job's job started
  /// Reported by the first poll, before the assignment (FakeConsumerClient::report_error).
  std::vector<kafka::Status> errors_at_start;

  World() {
    settings.automatically_mark_as_consumed = false;
    settings.pause_timeout = 10ms;
    settings.pause_max_timeout = 10ms;
    settings.max_wait_time = 20ms;
    settings.tick_interval = 1h;
  }
  /// Builds the listener on a fake client with `partitions` partitions of topic "t" (each
  /// with `messages` messages) assigned at the first poll, and starts it.
  void start(int partitions, int messages) {
    ConsumerGroupRoute& group = routes.consumer_group("g");
    route(group.topic("t").consumer([this] { return std::unique_ptr<Consumer>(new Scripted(*this)); }));
    auto client = std::make_unique<FakeConsumerClient>();
    fake = client.get();
    std::vector<FakeConsumerClient::TP> parts;
    for (int p = 0; p < partitions; ++p) {
      std::vector<std::string> payloads;
      for (int i = 0; i < messages; ++i) payloads.push_back("m" + std::to_string(i));
      fake->produce("t", p, payloads);
      parts.push_back({"t", p});
    }
    for (const auto& e : errors_at_start) fake->report_error(e);
    fake->rebalance_assign(parts);
    pool = std::make_unique<runtime::WorkerPool>(settings.concurrency);
    listener =
        std::make_unique<runtime::Listener>(settings, group, std::move(client), *pool, logger, monitor, &producer);
    listener->start();
  }
  /// start(1, 10) with one batch of all ten messages whose job waits at `gate`, then marks
  /// them all; returns once the job waits.
  void start_with_a_held_job(Gate& gate) {
    on_consume = [this, &gate](Scripted& c) {
      in_job = true;
      gate.wait();
      for (const auto& m : c.messages()) c.mark_as_consumed(m);
    };
    settings.max_messages = 100;
    start(1, 10);
    ASSERT_TRUE(eventually([&] { return in_job.load(); }));
  }
  int stop() {
    listener->request_stop(Clock::now() + 5s);
    EXPECT_TRUE(listener->wait_finished(10s)) << "the listener stopped";
    return listener->exit_code();
  }
  std::vector<std::int64_t> offsets(int partition) {
    std::lock_guard lock(mu);
    std::vector<std::int64_t> out;
    for (const auto& [p, o] : delivered)
      if (p == partition) out.push_back(o);
    return out;
  }
  /// Position of the first call equal to `what` in the fake's record (npos: none).
  std::size_t index_of(const std::string& what) const {
    const auto calls = fake->calls();
    const auto it = std::find(calls.begin(), calls.end(), what);
    return it == calls.end() ? std::string::npos : static_cast<std::size_t>(it - calls.begin());
  }
  bool called(const std::string& what) const { return index_of(what) != std::string::npos; }
  std::string record() const {
    std::string out;
    for (const auto& c : fake->calls()) out += "\n  " + c;
    return out;
  }
};

std::string tp(const Scripted& c) { return c.topic() + "/" + std::to_string(c.partition()); }

void Scripted::consume() {
  const auto& ms = messages();
  {
    std::lock_guard lock(w_.mu);
    for (const auto& m : ms) w_.delivered.push_back({m.partition(), m.offset()});
  }
  w_.fake->note("consume " + tp(*this) + "@" + std::to_string(ms.first().offset()) + "-" +
                std::to_string(ms.last().offset()));
  w_.on_consume(*this);
  w_.fake->note("consumed " + tp(*this));
}
void Scripted::after_fetch() { w_.on_after_fetch(*this); }
void Scripted::tick() { w_.on_tick(*this); }
void Scripted::revoked() { w_.fake->note("revoked " + tp(*this)); }
void Scripted::before_stop() { w_.fake->note("before_stop " + tp(*this)); }

TEST(Listener, ARevocationWaitsForTheJobThenRunsRevokedThenCommitsThenGivesThePartitionUp) {
  World w;
  Gate gate;
  w.start_with_a_held_job(gate);
  w.fake->rebalance_revoke({{"t", 0}});
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(w.called("revoked t/0")) << "revoked() waits for the job in flight" << w.record();
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.called("unassign t/0"); })) << w.record();
  const std::size_t job_end = w.index_of("consumed t/0"), revoked = w.index_of("revoked t/0"),
                    commit = w.index_of("commit t/0@10"), unassign = w.index_of("unassign t/0");
  ASSERT_NE(commit, std::string::npos) << "the job's marks were committed" << w.record();
  EXPECT_LT(job_end, revoked) << w.record();
  EXPECT_LT(revoked, commit) << w.record();
  EXPECT_LT(commit, unassign) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 10);
  EXPECT_EQ(w.fake->outstanding(), 0) << "every fetched message went back to the client";
}

TEST(Listener, AJobPastRevokeTimeoutIsGivenUpWithOnlyTheMarksMadeBeforeAndItsLateMarksAreRefused) {
  World w;
  Gate gate;
  std::atomic<bool> in_job{false};
  w.settings.revoke_timeout = 50ms;
  w.on_consume = [&](Scripted& c) {
    c.mark_as_consumed(2);  // 0..2 handled
    in_job = true;
    gate.wait();
    for (const auto& m : c.messages())
      if (m.offset() > 2 && !c.mark_as_consumed(m)) ++w.refused_marks;
  };
  w.start(1, 10);
  ASSERT_TRUE(eventually([&] { return in_job.load(); }));
  w.fake->rebalance_revoke({{"t", 0}});
  ASSERT_TRUE(eventually([&] { return w.called("unassign t/0"); })) << w.record();
  EXPECT_TRUE(w.logger.has("revoke_timeout")) << "the give-up is logged";
  EXPECT_EQ(w.fake->committed("t", 0), 3) << "only the marks made before the give-up" << w.record();
  EXPECT_FALSE(w.called("revoked t/0")) << "revoked() waits for the abandoned job" << w.record();
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.called("revoked t/0"); })) << "revoked() runs once the job returned";
  EXPECT_EQ(w.refused_marks, 7) << "every late mark returned false";
  EXPECT_LT(w.index_of("consumed t/0"), w.index_of("revoked t/0"));
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 3) << "no commit covered the messages the abandoned job marked late";
  EXPECT_EQ(w.fake->outstanding(), 0);
}

TEST(Listener, ALostAssignmentCommitsNothingAndTheJobsLaterMarksAreRefused) {
  World w;
  Gate gate;
  std::atomic<bool> in_job{false};
  w.on_consume = [&](Scripted& c) {
    in_job = true;
    gate.wait();
    for (const auto& m : c.messages())
      if (!c.mark_as_consumed(m)) ++w.refused_marks;
  };
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return in_job.load(); }));
  w.fake->rebalance_revoke({{"t", 0}}, /*lost=*/true);
  std::this_thread::sleep_for(20ms);
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.called("unassign t/0"); })) << w.record();
  EXPECT_EQ(w.refused_marks, 5) << "a lost partition is disowned before its job marks";
  EXPECT_TRUE(w.fake->calls_starting("commit t/0").empty()) << "nothing committed for a lost partition" << w.record();
  EXPECT_TRUE(w.logger.has("partitions lost"));
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), -1);
}

TEST(Listener, AFailedBatchPausesRewindsToTheFirstUnmarkedMessageAndIsDeliveredAgain) {
  World w;
  std::atomic<int> failures{0};
  w.on_consume = [&](Scripted& c) {
    for (const auto& m : c.messages()) {
      if (m.offset() == 5 && failures++ == 0) throw std::runtime_error("the database is away");
      c.mark_as_consumed(m);
    }
  };
  w.settings.max_messages = 3;
  w.start(1, 10);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 11; })) << w.record();
  const std::size_t pause = w.index_of("pause t/0"), seek = w.index_of("seek t/0@5"),
                    resume = w.index_of("resume t/0");
  ASSERT_NE(pause, std::string::npos) << w.record();
  EXPECT_LT(pause, seek) << "paused, then sought to the first unmarked message" << w.record();
  EXPECT_LT(seek, resume) << w.record();
  EXPECT_TRUE(w.logger.has("paused for 10 ms, then resumes from offset 5"));
  EXPECT_EQ(w.stop(), kExitOk);
  const auto got = w.offsets(0);
  EXPECT_EQ(std::count(got.begin(), got.end(), 5), 2) << "offset 5 delivered again";
  // Every other message exactly once: the rewind goes to the first unmarked message (3 and
  // 4, marked in the failed batch, are not repeated), and what was queued behind the failed
  // batch was dropped unhandled and fetched again.
  for (std::int64_t o = 0; o < 10; ++o)
    if (o != 5) {
      EXPECT_EQ(std::count(got.begin(), got.end(), o), 1) << o;
    }
  EXPECT_EQ(w.fake->committed("t", 0), 10);
  EXPECT_EQ(w.fake->outstanding(), 0);
}

TEST(Listener, APartitionWhoseRewindFailsStaysPausedUntilARewindSucceeds) {
  World w;
  std::atomic<int> failures{0};
  w.on_consume = [&](Scripted& c) {
    for (const auto& m : c.messages()) {
      if (m.offset() == 2 && failures++ == 0) throw std::runtime_error("poison, once");
      c.mark_as_consumed(m);
    }
  };
  w.start(1, 6);
  ASSERT_TRUE(eventually([&] { return failures.load() > 0; }));
  w.fake->fail_seeks(3);  // the pause's seek and two of the retries fail
  ASSERT_TRUE(eventually([&] { return w.fake->committed("t", 0) == 6 || w.offsets(0).size() >= 7; }, 5s))
      << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  // Between the pause and the resume, the last seek succeeded: a partition is never
  // resumed from anywhere but its first unmarked message.
  const auto calls = w.fake->calls();
  const auto resume = std::find(calls.begin(), calls.end(), "resume t/0");
  ASSERT_NE(resume, calls.end()) << w.record();
  const auto last_seek = std::find_if(std::make_reverse_iterator(resume), calls.rend(),
                                      [](const std::string& c) { return c.rfind("seek t/0@", 0) == 0; });
  ASSERT_NE(last_seek, calls.rend()) << w.record();
  EXPECT_EQ(*last_seek, "seek t/0@2") << w.record();
  EXPECT_GE(w.fake->calls_starting("seek t/0@2 failed").size(), 1u) << w.record();
  const auto got = w.offsets(0);
  EXPECT_EQ(std::count(got.begin(), got.end(), 2), 2) << "offset 2 delivered again, nothing skipped";
  EXPECT_EQ(w.fake->committed("t", 0), 6);
}

TEST(Listener, BackPressurePausesAFullPartitionAndResumesItWithoutLosingOrRepeatingAMessage) {
  World w;
  w.settings.queue_max_messages = 4;
  w.settings.queue_min_time = 0ms;  // pause on the count alone
  w.settings.max_messages = 2;
  w.on_consume = [&](Scripted& c) {
    std::this_thread::sleep_for(1ms);
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  std::atomic<int> paused{0}, resumed{0};
  w.monitor.subscribe_inline([&](const Event& e) {
    if (e.reason != "back-pressure") return;
    if (e.type == EventType::partition_paused) ++paused;
    if (e.type == EventType::partition_resumed) ++resumed;
  });
  w.start(1, 200);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 200; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_GE(paused, 1);
  EXPECT_GE(resumed, paused - 1);
  EXPECT_FALSE(w.fake->calls_starting("pause t/0").empty()) << "paused in the client";
  std::vector<std::int64_t> expected(200);
  for (int i = 0; i < 200; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(w.offsets(0), expected) << "every message once, in order";
  EXPECT_EQ(w.fake->committed("t", 0), 200);
}

TEST(Listener, AConsumerThatKeepsUpIsNotPausedWhileItsQueueHoldsLessThanQueueMinTimeOfWork) {
  World w;
  w.settings.queue_max_messages = 4;  // far below two seconds of this consumer's work
  w.settings.max_messages = 10;
  w.start(1, 3000);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 3000; }));
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_TRUE(w.fake->calls_starting("pause t/0").empty())
      << "librdkafka resumes a paused partition up to a second later: a consumer this fast would idle" << w.record();
  EXPECT_EQ(w.fake->committed("t", 0), 3000);
}

TEST(Listener, OverTheGroupBudgetTheListenerStopsTakingMessagesInsteadOfPausing) {
  World w;
  // Twenty 3-byte messages in the group's queues (half of the budget is librdkafka's).
  w.settings.max_buffered_bytes = 2 * 20 * (3 + kafka::Fetched::kOverhead);
  w.settings.max_messages = 5;
  w.on_consume = [&](Scripted& c) {
    std::this_thread::sleep_for(1ms);
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(1, 400);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 400; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_TRUE(w.fake->calls_starting("pause t/0").empty()) << "throttled, never paused" << w.record();
  std::vector<std::int64_t> expected(400);
  for (int i = 0; i < 400; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(w.offsets(0), expected) << "every message once, in order";
  EXPECT_EQ(w.fake->committed("t", 0), 400);
}

TEST(Listener, APartitionWhoseJobHangsOverTheGroupBudgetShedsItsQueueSoTheOthersGoOn) {
  World w;
  w.settings.max_buffered_bytes = 2 * 33 * (3 + kafka::Fetched::kOverhead);
  w.settings.max_messages = 5;
  Gate gate;
  w.on_consume = [&](Scripted& c) {
    if (c.partition() == 0) gate.wait();  // partition 0's first job hangs
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(2, 300);
  ASSERT_TRUE(eventually([&] { return w.offsets(1).size() >= 300; }, 10s))
      << "partition 1 is consumed while partition 0's job hangs" << w.offsets(1).size() << w.record();
  EXPECT_FALSE(w.fake->calls_starting("pause t/0").empty()) << "the hung partition was paused" << w.record();
  EXPECT_FALSE(w.fake->calls_starting("seek t/0@5").empty())
      << "its queue was shed: fetched again after the batch in its job (offsets 0-4)" << w.record();
  EXPECT_TRUE(w.fake->calls_starting("pause t/1").empty()) << w.record();
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 300; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  std::vector<std::int64_t> expected(300);
  for (int i = 0; i < 300; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(w.offsets(0), expected) << "every message of the shed partition once, in order";
  EXPECT_EQ(w.fake->committed("t", 0), 300);
  EXPECT_EQ(w.fake->committed("t", 1), 300);
}

TEST(Listener, ASinglePartitionWhoseJobHangsOverTheBudgetKeepsItsQueue) {
  World w;
  w.settings.max_buffered_bytes = 2 * 33 * (3 + kafka::Fetched::kOverhead);
  w.settings.max_messages = 5;
  Gate gate;
  std::atomic<bool> first{true};
  w.on_consume = [&](Scripted& c) {
    if (first.exchange(false)) gate.wait();  // the first job hangs past a second
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(1, 300);
  std::this_thread::sleep_for(1500ms);
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 300; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_TRUE(w.fake->calls_starting("seek t/0").empty())
      << "no other partition could use the memory: nothing shed, nothing fetched twice" << w.record();
  std::vector<std::int64_t> expected(300);
  for (int i = 0; i < 300; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(w.offsets(0), expected);
  EXPECT_EQ(w.fake->committed("t", 0), 300);
}

TEST(Listener, ALongQueueIsHandedOutInBatchesOfMaxMessagesInOrder) {
  World w;
  w.settings.max_messages = 7;
  w.settings.queue_max_messages = 100000;  // the whole topic queues up behind the first job
  std::atomic<std::size_t> largest{0};
  Gate gate;
  std::atomic<bool> first{true};
  w.on_consume = [&](Scripted& c) {
    if (first.exchange(false)) gate.wait();  // let the queue grow long
    largest = std::max(largest.load(), c.messages().size());
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(1, 5000);
  std::this_thread::sleep_for(50ms);
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 5000; })) << w.offsets(0).size();
  EXPECT_EQ(w.stop(), kExitOk);
  std::vector<std::int64_t> expected(5000);
  for (int i = 0; i < 5000; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(w.offsets(0), expected);
  EXPECT_EQ(largest, 7u);
  EXPECT_EQ(w.fake->committed("t", 0), 5000);
}

// With a consume() of about 1 ms per batch of 5, the jobs after the first (one batch: the
// rate is not known yet) take fifty batches: 0-4, 5-254, 255-504, ... (Listener::job_size;
// fewer when the machine is slow, which moves the boundaries but keeps what is asserted).
TEST(Listener, AJobOfSeveralBatchesStopsAtTheBatchThatFailedAndTheRestComesAgainAfterTheRewind) {
  World w;
  w.settings.max_messages = 5;
  w.settings.queue_max_messages = 100000;
  std::atomic<int> failures{0};
  std::atomic<std::size_t> largest{0};
  w.on_consume = [&](Scripted& c) {
    std::this_thread::sleep_for(1ms);
    largest = std::max(largest.load(), c.messages().size());
    for (const auto& m : c.messages()) {
      // In the 46th batch of the job 1255-1504.
      if (m.offset() == 1482 && failures++ == 0) throw std::runtime_error("the database is away");
      c.mark_as_consumed(m);
    }
  };
  w.start(1, 2000);
  // Until the last message came after the rewind (the failed batch's bounds, and so how
  // many messages come twice, depend on the machine's speed: 1479-1483 gives 2, 1480-1484 3).
  ASSERT_TRUE(eventually([&] {
    const auto got = w.offsets(0);
    return failures.load() > 0 && !got.empty() && got.back() == 1999;
  })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(largest.load(), 5u) << "consume() never gets more than max_messages";
  EXPECT_TRUE(w.called("seek t/0@1482")) << "rewound to the first unmarked message" << w.record();
  // Up to the end of the failed batch once (usually 1480-1484; a slow machine, the
  // sanitizers', may cut a job short and move the batch's bounds), never a later batch of
  // the job; then from 1482, the first unmarked message (1480 and 1481 were marked before
  // the throw), to the end.
  const auto got = w.offsets(0);
  std::size_t rewind = 1;
  while (rewind < got.size() && got[rewind] == got[rewind - 1] + 1) ++rewind;
  ASSERT_LT(rewind, got.size()) << "a rewind" << w.record();
  EXPECT_EQ(got.front(), 0);
  EXPECT_GE(got[rewind - 1], 1482) << "the failed batch was handed out";
  EXPECT_LE(got[rewind - 1], 1482 + 4) << "no batch of the job after the failed one (batches of 5)";
  std::vector<std::int64_t> after(got.begin() + static_cast<std::ptrdiff_t>(rewind), got.end());
  std::vector<std::int64_t> expected;
  for (std::int64_t o = 1482; o < 2000; ++o) expected.push_back(o);
  EXPECT_EQ(after, expected);
  EXPECT_EQ(w.fake->committed("t", 0), 2000);
}

TEST(Listener, ARevocationEndsAJobOfSeveralBatchesAfterTheBatchInHand) {
  World w;
  w.settings.max_messages = 5;
  w.settings.queue_max_messages = 100000;
  Gate gate;
  std::atomic<bool> held{false};
  std::atomic<int> batches_after{0};
  w.on_consume = [&](Scripted& c) {
    std::this_thread::sleep_for(1ms);
    if (held) ++batches_after;
    // The second batch of the job 1005-1254 waits until the revocation began.
    if (c.messages().first().offset() == 1010 && !held.exchange(true)) gate.wait();
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(1, 2000);
  ASSERT_TRUE(eventually([&] { return held.load(); })) << w.record();
  w.fake->rebalance_revoke({{"t", 0}}, false);
  std::this_thread::sleep_for(100ms);  // the revocation began and waits for the job
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.called("revoked t/0"); })) << w.record();
  // The revocation commits after revoked() returned.
  ASSERT_TRUE(eventually([&] { return w.fake->committed("t", 0) >= 0; })) << w.record();
  EXPECT_EQ(batches_after.load(), 0) << "no batch after the one in hand" << w.record();
  EXPECT_EQ(w.fake->committed("t", 0), 1015) << "what the job marked before it ended" << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
}

TEST(Listener, JobsOfDifferentPartitionsRunAtOnceAndAStuckOneHoldsUpOnlyItsOwn) {
  World w;
  w.settings.concurrency = 3;
  Gate gate;
  std::atomic<int> inside{0};
  w.on_consume = [&](Scripted& c) {
    if (c.partition() == 0) gate.wait();  // partition 0 is stuck until the end
    ++inside;
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(3, 50);
  ASSERT_TRUE(eventually([&] { return w.offsets(1).size() == 50 && w.offsets(2).size() == 50; }))
      << "partitions 1 and 2 are consumed while partition 0's job is stuck" << w.record();
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() == 50; }));
  EXPECT_EQ(w.stop(), kExitOk);
  for (int p = 0; p < 3; ++p) EXPECT_EQ(w.fake->committed("t", p), 50) << p;
}

TEST(Listener, ShutdownWaitsForTheJobInFlightThenRunsBeforeStopThenCommitsThenCloses) {
  World w;
  Gate gate;
  w.start_with_a_held_job(gate);
  w.listener->request_stop(Clock::now() + 5s);
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(w.listener->finished()) << "the shutdown waits for the job in flight";
  gate.open();
  ASSERT_TRUE(w.listener->wait_finished(5s));
  EXPECT_EQ(w.listener->exit_code(), kExitOk);
  const std::size_t job_end = w.index_of("consumed t/0"), before_stop = w.index_of("before_stop t/0"),
                    commit = w.index_of("commit t/0@10"), close = w.index_of("close");
  ASSERT_NE(commit, std::string::npos) << w.record();
  EXPECT_LT(job_end, before_stop) << w.record();
  EXPECT_LT(before_stop, commit) << w.record();
  EXPECT_LT(commit, close) << w.record();
  EXPECT_EQ(w.fake->outstanding(), 0);
}

TEST(Listener, AShutdownWhoseCommitIsNeverConfirmedExitsWithUncommitted) {
  World w;
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() == 5; }));
  w.fake->fail_commits(1000, kafka::Status(kafka::Status::Code::other, "UNKNOWN", "the broker said no (fake)"));
  w.listener->request_stop(Clock::now() + 2s);
  ASSERT_TRUE(w.listener->wait_finished(10s));
  EXPECT_EQ(w.listener->exit_code(), kExitUncommitted) << w.record();
  EXPECT_TRUE(w.logger.has("t/0@5")) << "the unconfirmed marks are named";
}

TEST(Listener, PartitionsRevokedWhileStoppingWithTheirCommitRefusedAreNotReportedCommitted) {
  // The embedded broker refuses commits while its group rebalances: the shutdown's commit
  // is refused, the rebalance it serves revokes the partition (its commit refused again),
  // and then nothing is left to commit. That is not "committed the marked offsets".
  World w;
  std::vector<std::string> steps;
  std::mutex steps_mu;
  w.monitor.subscribe_inline([&](const Event& e) {
    if (e.type != EventType::shutdown_step) return;
    std::lock_guard lock(steps_mu);
    steps.push_back(e.reason);
  });
  w.on_consume = [](Scripted& c) { c.mark_as_consumed(c.messages().last()); };
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() == 5; }));
  w.fake->fail_commits(1000, kafka::Status(kafka::Status::Code::rebalance_in_progress, "REBALANCE_IN_PROGRESS",
                                           "the group is rebalancing (fake)"));
  w.listener->request_stop(Clock::now() + 3s);
  w.fake->rebalance_revoke({{"t", 0}});
  ASSERT_TRUE(w.listener->wait_finished(10s));
  EXPECT_EQ(w.listener->exit_code(), kExitUncommitted) << w.record();
  EXPECT_FALSE(w.logger.has("committed the marked offsets")) << w.record();
  EXPECT_TRUE(w.logger.has("the broker refused those of the partitions revoked while stopping (t/0@5)"));
  std::lock_guard lock(steps_mu);
  EXPECT_EQ(std::count(steps.begin(), steps.end(), "committed"), 0);
  EXPECT_EQ(std::count(steps.begin(), steps.end(), "final commit not confirmed"), 1);
}

// ---- The Committer's retry policy ----

struct CommitterWorld {
  FakeConsumerClient fake;
  Lines logger;
  Monitor monitor;
  std::string group = "g";
  std::vector<kafka::CommitOffset> confirmed;
  runtime::Committer committer{fake, group, logger, monitor,
                               [this](const kafka::CommitOffset& o) { confirmed.push_back(o); }, [] {}};
  std::vector<kafka::CommitOffset> one{{"t", 0, 7, "", {}}};
};

kafka::Status retriable() {
  return kafka::Status(kafka::Status::Code::other, "COORDINATOR_NOT_AVAILABLE", "moving (fake)", false, true);
}

TEST(Committer, RetriesATransientErrorAndSucceeds) {
  CommitterWorld w;
  w.fake.fail_commits(2, retriable());
  EXPECT_FALSE(w.committer.commit_sync(w.one, Clock::now() + 10s));
  EXPECT_EQ(w.fake.calls_starting("commit").size(), 3u);
  EXPECT_EQ(w.fake.committed("t", 0), 7);
  ASSERT_EQ(w.confirmed.size(), 1u);
  EXPECT_EQ(w.confirmed[0].offset, 7);
}

TEST(Committer, GivesUpAfterFiveTries) {
  CommitterWorld w;
  w.fake.fail_commits(100, retriable());
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 10s);
  EXPECT_EQ(err.name(), "COORDINATOR_NOT_AVAILABLE");
  EXPECT_EQ(w.fake.calls_starting("commit failed").size(), 5u);
  EXPECT_TRUE(w.confirmed.empty());
}

TEST(Committer, NeverRetriesARebalanceInProgress) {
  CommitterWorld w;
  w.fake.fail_commits(1, kafka::Status(kafka::Status::Code::rebalance_in_progress, "REBALANCE_IN_PROGRESS",
                                       "rebalancing (fake)", false, true));
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 10s);
  EXPECT_EQ(err.code(), kafka::Status::Code::rebalance_in_progress);
  EXPECT_EQ(w.fake.calls_starting("commit").size(), 1u);
  EXPECT_TRUE(w.logger.has("ownership changing"));
}

TEST(Committer, NoAnswerIsATimeoutReportedAsAFailedCommit) {
  CommitterWorld w;
  std::vector<std::string> errors;
  w.monitor.subscribe_inline([&](const Event& e) {
    if (e.type == EventType::offsets_committed || e.type == EventType::commit_failed) errors.push_back(e.error);
  });
  w.fake.fail_commits(1, kafka::Status(kafka::Status::Code::timed_out, "_TIMED_OUT", "Local: Timed out"));
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 10s);
  EXPECT_EQ(err.code(), kafka::Status::Code::timed_out);
  EXPECT_TRUE(w.logger.has("got no answer"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "Local: Timed out");
}

TEST(Committer, AnOffsetConfirmedTwiceIsReportedOnce) {
  CommitterWorld w;
  int events = 0;
  w.monitor.subscribe_inline([&](const Event& e) {
    if (e.type == EventType::offsets_committed && !e.offsets.empty()) ++events;
  });
  EXPECT_FALSE(w.committer.commit_sync(w.one, Clock::now() + 10s));
  EXPECT_FALSE(w.committer.commit_sync(w.one, Clock::now() + 10s));  // librdkafka's repeat on unassign
  EXPECT_EQ(events, 1);
}


// ---- Security failures (docs/operations.md, "Secure clusters: TLS and SASL") ----

TEST(KafkaStatus, AuthenticationAndTlsFailuresAreSecurityFailuresWhoseTextNamesTheSettingToFix) {
  const kafka::Status sasl = kafka::status(RD_KAFKA_RESP_ERR__AUTHENTICATION)
                                 .with_text("SASL authentication error: Authentication failed during authentication "
                                            "due to invalid credentials with SASL mechanism SCRAM-SHA-256");
  EXPECT_EQ(sasl.code(), kafka::Status::Code::authentication);
  EXPECT_TRUE(kafka::is_security_failure(sasl));
  EXPECT_TRUE(kafka::is_security_failure(kafka::status(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)));
  EXPECT_NE(kafka::security_failure_text(sasl).find("kafka.sasl.password"), std::string::npos);
  const kafka::Status mechanism = kafka::status(RD_KAFKA_RESP_ERR__AUTHENTICATION)
                                      .with_text("SASL SCRAM-SHA-512 mechanism handshake failed: Broker: Unsupported "
                                                 "SASL mechanism: broker's supported mechanisms: SCRAM-SHA-256");
  EXPECT_NE(kafka::security_failure_text(mechanism).find("kafka.sasl.mechanism"), std::string::npos);

  const kafka::Status untrusted =
      kafka::status(RD_KAFKA_RESP_ERR__SSL)
          .with_text("SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker "
                     "certificate could not be verified, verify that ssl.ca.location is correctly configured");
  EXPECT_EQ(untrusted.code(), kafka::Status::Code::tls);
  EXPECT_TRUE(kafka::is_security_failure(untrusted));
  EXPECT_NE(kafka::security_failure_text(untrusted).find("kafka.ssl.ca.location"), std::string::npos);
  const kafka::Status client_cert =
      kafka::status(RD_KAFKA_RESP_ERR__SSL)
          .with_text("SSL handshake failed: unexpected message: client SSL authentication might be required");
  EXPECT_NE(kafka::security_failure_text(client_cert).find("kafka.ssl.certificate.location"), std::string::npos);

  const kafka::Status expired = kafka::status(RD_KAFKA_RESP_ERR__SSL)
                                    .with_text("SSL handshake failed: Failed to verify broker certificate: "
                                               "certificate has expired");
  EXPECT_TRUE(kafka::is_security_failure(expired));
  EXPECT_NE(kafka::security_failure_text(expired).find("expired"), std::string::npos);

  // A handshake the connection cut short (a broker restarting), a token its provider did not
  // hand out in time, a socket error inside TLS: librdkafka reports them as authentication or
  // TLS failures, but a retry can succeed.
  for (const char* text : {"SASL SCRAM-SHA-256 mechanism handshake failed: Local: Broker transport failure: broker's "
                           "supported mechanisms: (n/a)",
                           "Failed to acquire SASL OAUTHBEARER token: the provider timed out"})
    EXPECT_FALSE(kafka::is_security_failure(kafka::status(RD_KAFKA_RESP_ERR__AUTHENTICATION).with_text(text))) << text;
  EXPECT_FALSE(kafka::is_security_failure(
      kafka::status(RD_KAFKA_RESP_ERR__SSL).with_text("SSL transport error: Connection reset by peer")));

  // An unreachable broker is retried, not a setting to fix.
  EXPECT_FALSE(kafka::is_security_failure(kafka::status(RD_KAFKA_RESP_ERR__TRANSPORT)));
  EXPECT_FALSE(kafka::is_security_failure(kafka::status(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)));
  EXPECT_EQ(kafka::security_failure_text(kafka::status(RD_KAFKA_RESP_ERR__TRANSPORT)), "");
}

TEST(Listener, ASecurityFailureBeforeTheGroupReachedTheClusterStopsItFatallyNamingTheSetting) {
  World w;
  w.errors_at_start = {kafka::status(RD_KAFKA_RESP_ERR__AUTHENTICATION).with_text("invalid credentials (fake)"),
                       kafka::status(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)};
  w.start(1, 5);
  ASSERT_TRUE(w.listener->wait_finished(10s)) << "the group stops by itself";
  EXPECT_EQ(w.listener->exit_code(), kExitFatal);
  EXPECT_TRUE(w.logger.has("cannot connect to the Kafka cluster: SASL authentication failed: check "
                           "kafka.sasl.username and kafka.sasl.password"));
  EXPECT_FALSE(w.logger.has("Samsa keeps retrying")) << "the stop is not followed by a retry message";
}

TEST(Listener, ASecurityFailureAfterTheGroupReachedTheClusterIsLoggedAndRetried) {
  World w;
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() == 5; }));
  w.fake->report_error(kafka::status(RD_KAFKA_RESP_ERR__SSL).with_text("SSL handshake failed: certificate verify "
                                                                       "failed (fake)"));
  ASSERT_TRUE(eventually([&] { return w.logger.has("kafka.ssl.ca.location"); }));
  EXPECT_FALSE(w.listener->finished()) << "a member that reached the cluster keeps going";
  EXPECT_EQ(w.stop(), kExitOk);
}

// ---- A stale member epoch (KIP-848; docs/offsets.md, "A stale member epoch") ----

TEST(KafkaStatus, AStaleMemberEpochIsRetriableAndNotALossOfOwnership) {
#if RD_KAFKA_VERSION >= 0x020c0000
  const kafka::Status s = kafka::status(RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH);
  EXPECT_EQ(s.code(), kafka::Status::Code::stale_member_epoch);
  EXPECT_EQ(s.name(), "STALE_MEMBER_EPOCH");
  EXPECT_TRUE(s.retriable());
  EXPECT_FALSE(s.ownership_lost());
  // The ones that are a loss stay one.
  EXPECT_TRUE(kafka::status(RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID).ownership_lost());
  EXPECT_TRUE(kafka::status(RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST).ownership_lost());
#else
  GTEST_SKIP() << "librdkafka " << rd_kafka_version_str() << " has no STALE_MEMBER_EPOCH (2.12 and later)";
#endif
}

/// Once the fake's record shows a commit refused for a stale epoch, runs `then` (on a
/// thread of its own, as librdkafka's heartbeat answer arrives on its own thread).
std::thread after_a_stale_refusal(FakeConsumerClient& fake, std::function<void()> then, int nth = 1) {
  return std::thread([&fake, then = std::move(then), nth] {
    ASSERT_TRUE(eventually([&] {
      return fake.calls_starting("commit failed STALE_MEMBER_EPOCH").size() >= static_cast<std::size_t>(nth);
    })) << "no commit was refused for a stale epoch";
    then();
  });
}

TEST(Committer, AStaleMemberEpochIsRetriedOnceTheClientHasTheNewEpoch) {
  CommitterWorld w;
  w.fake.set_member_epoch(5);
  w.fake.set_broker_epoch(6);  // a heartbeat moved the member on; its answer is on the way
  std::thread heartbeat = after_a_stale_refusal(w.fake, [&] { w.fake.set_member_epoch(6); });
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 10s);
  heartbeat.join();
  EXPECT_FALSE(err) << err.text();
  EXPECT_EQ(w.fake.committed("t", 0), 7);
  ASSERT_EQ(w.confirmed.size(), 1u);
  const auto calls = w.fake.calls();
  const auto at = [&](const std::string& what) { return std::find(calls.begin(), calls.end(), what) - calls.begin(); };
  EXPECT_EQ(w.fake.calls_starting("commit failed").size(), 1u) << "the retry waited for the new epoch";
  EXPECT_LT(at("commit failed STALE_MEMBER_EPOCH"), at("member epoch 6"));
  EXPECT_LT(at("member epoch 6"), at("commit t/0@7"));
  EXPECT_TRUE(w.logger.has("epoch moved on"));
}

TEST(Committer, AStaleMemberEpochIsRetriedAsOftenAsTheEpochMovesOnWithinTheDeadline) {
  CommitterWorld w;
  w.fake.set_member_epoch(5);
  w.fake.set_broker_epoch(7);  // two moves, the client learns of them one at a time
  std::thread first = after_a_stale_refusal(w.fake, [&] { w.fake.set_member_epoch(6); });
  std::thread second = after_a_stale_refusal(w.fake, [&] { w.fake.set_member_epoch(7); }, 2);
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 10s);
  first.join();
  second.join();
  EXPECT_FALSE(err) << err.text();
  EXPECT_EQ(w.fake.calls_starting("commit failed STALE_MEMBER_EPOCH").size(), 2u);
  EXPECT_EQ(w.fake.committed("t", 0), 7);
}

TEST(Committer, AStaleMemberEpochIsNotRetriedForAPartitionNoLongerOwned) {
  CommitterWorld w;
  std::atomic<bool> owns_1{true};
  const runtime::Committer::Owned owned = [&](const std::string&, std::int32_t p) { return p != 1 || owns_1.load(); };
  w.fake.set_member_epoch(5);
  w.fake.set_broker_epoch(6);
  // Partition 1 is revoked before the new epoch arrives.
  std::thread heartbeat = after_a_stale_refusal(w.fake, [&] {
    owns_1 = false;
    w.fake.set_member_epoch(6);
  });
  const kafka::Status err =
      w.committer.commit_sync({{"t", 0, 7, "", {}}, {"t", 1, 3, "", {}}}, Clock::now() + 10s, owned);
  heartbeat.join();
  EXPECT_EQ(w.fake.committed("t", 0), 7) << "the partition still owned is committed";
  EXPECT_EQ(w.fake.committed("t", 1), -1) << "never a commit for a partition no longer owned";
  EXPECT_TRUE(w.fake.calls_starting("commit t/1").empty());
  EXPECT_TRUE(err.ownership_lost()) << "false for the partition taken away: " << err.text();
  EXPECT_TRUE(w.logger.has("t/1@3 not retried: no longer assigned"));
}

TEST(Committer, AStaleMemberEpochOfTheOnlyPartitionRevokedMeanwhileIsAnOwnershipLoss) {
  CommitterWorld w;
  std::atomic<bool> owns{true};
  w.fake.set_member_epoch(5);
  w.fake.set_broker_epoch(6);
  std::thread heartbeat = after_a_stale_refusal(w.fake, [&] {
    owns = false;
    w.fake.set_member_epoch(6);
  });
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 10s,
                                                    [&](const std::string&, std::int32_t) { return owns.load(); });
  heartbeat.join();
  EXPECT_TRUE(err.ownership_lost()) << err.text();
  EXPECT_EQ(err.code(), kafka::Status::Code::state);
  EXPECT_EQ(w.fake.calls_starting("commit").size(), 1u) << "only the refused commit";
  EXPECT_EQ(w.fake.committed("t", 0), -1);
}

TEST(Committer, AStaleMemberEpochIsNotRetriedWhileTheClientSaysTheAssignmentIsLost) {
  CommitterWorld w;
  w.fake.set_member_epoch(5);
  w.fake.set_broker_epoch(6);
  std::thread heartbeat = after_a_stale_refusal(w.fake, [&] {
    w.fake.set_assignment_lost(true);  // fenced: librdkafka knows before poll() revokes
    w.fake.set_member_epoch(6);
  });
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 10s);
  heartbeat.join();
  EXPECT_TRUE(err.ownership_lost()) << err.text();
  EXPECT_EQ(w.fake.committed("t", 0), -1);
  EXPECT_TRUE(w.logger.has("(assignment lost)"));
}

TEST(Committer, AStaleMemberEpochDoesNotWaitForANewEpochOnceTheAssignmentIsLost) {
  CommitterWorld w;
  w.fake.set_member_epoch(5);
  w.fake.set_broker_epoch(6);
  // Fenced: librdkafka gets a new epoch only after the lost partitions were given up.
  std::thread fence = after_a_stale_refusal(w.fake, [&] { w.fake.set_assignment_lost(true); });
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 30s);
  fence.join();
  EXPECT_TRUE(err.ownership_lost()) << "a loss, not the deadline's stale epoch: " << err.text();
  EXPECT_EQ(w.fake.calls_starting("commit").size(), 1u);
  EXPECT_EQ(w.fake.committed("t", 0), -1);
}

TEST(Committer, AStaleMemberEpochThatOutlivesTheDeadlineIsReturnedAndNotSentAgainWithTheOldEpoch) {
  CommitterWorld w;
  w.fake.set_member_epoch(5);
  w.fake.set_broker_epoch(6);  // the heartbeat's answer never comes
  const kafka::Status err = w.committer.commit_sync(w.one, Clock::now() + 300ms);
  EXPECT_EQ(err.code(), kafka::Status::Code::stale_member_epoch) << err.text();
  EXPECT_FALSE(err.ownership_lost()) << "not a loss: the partition is still this member's";
  EXPECT_EQ(w.fake.calls_starting("commit").size(), 1u) << "no retry with the epoch the broker refused";
  EXPECT_EQ(w.fake.committed("t", 0), -1);
  EXPECT_TRUE(w.logger.has("still 5 at the commit's deadline"));
}

TEST(Committer, TheClassicProtocolAsksNoEpochAndRetriesNoStaleness) {
  CommitterWorld w;  // member_epoch() is nullopt, as under the classic protocol
  EXPECT_FALSE(w.committer.commit_sync(w.one, Clock::now() + 10s));
  EXPECT_EQ(w.fake.committed("t", 0), 7);
  EXPECT_EQ(w.fake.calls_starting("commit failed").size(), 0u);
}

TEST(Listener, ASyncMarkThatMeetsAStaleMemberEpochReturnsTrueOnceTheEpochIsCurrent) {
  World w;
  Gate gate;
  std::atomic<bool> in_job{false};
  std::mutex mu;
  std::vector<bool> answers;
  w.on_consume = [&](Scripted& c) {
    in_job = true;
    gate.wait();
    for (const auto& m : c.messages()) {
      const bool ok = c.mark_as_consumed_sync(m);
      std::lock_guard lock(mu);
      answers.push_back(ok);
    }
  };
  w.settings.max_messages = 100;
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return in_job.load(); }));
  w.fake->set_member_epoch(5);
  w.fake->set_broker_epoch(6);
  std::thread heartbeat = after_a_stale_refusal(*w.fake, [&] { w.fake->set_member_epoch(6); });
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.called("consumed t/0"); })) << w.record();
  heartbeat.join();
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(answers, std::vector<bool>(5, true)) << w.record();
  }
  EXPECT_EQ(w.fake->committed("t", 0), 5);
  EXPECT_EQ(w.stop(), kExitOk);
}

TEST(Listener, ASyncMarkWhosePartitionIsLostWhileItWaitsForTheNewEpochReturnsFalseAndCommitsNothing) {
  World w;
  Gate gate;
  std::atomic<bool> in_job{false};
  std::atomic<int> answer{-1};
  w.settings.revoke_timeout = 50ms;
  w.on_consume = [&](Scripted& c) {
    in_job = true;
    gate.wait();
    answer = c.mark_as_consumed_sync(c.messages().last()) ? 1 : 0;
  };
  w.settings.max_messages = 100;
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return in_job.load(); }));
  w.fake->set_member_epoch(5);
  w.fake->set_broker_epoch(6);
  gate.open();
  ASSERT_TRUE(eventually([&] { return !w.fake->calls_starting("commit failed STALE_MEMBER_EPOCH").empty(); }));
  // The partition is lost while the sync mark waits for the new epoch: the listener
  // disowns it, gives the job up after revoke_timeout and unassigns it. The wait ends with
  // the loss (or, had it not seen it, with the new epoch below): no retry either way.
  w.fake->rebalance_revoke({{"t", 0}}, /*lost=*/true);
  ASSERT_TRUE(eventually([&] { return w.called("unassign t/0"); })) << w.record();
  w.fake->set_member_epoch(6);
  ASSERT_TRUE(eventually([&] { return answer.load() != -1; }));
  EXPECT_EQ(answer.load(), 0) << "false: the partition was taken away";
  EXPECT_TRUE(w.fake->calls_starting("commit t/0").empty()) << "nothing committed for it" << w.record();
  EXPECT_EQ(w.fake->committed("t", 0), -1);
  w.stop();
}


// ---- Retries and dead letters ----

// A consumer that handles message by message and always throws on offset `poison`,
// recording the attempt() it saw for each delivery.
struct PoisonAt {
  explicit PoisonAt(std::int64_t at) : poison(at) {}
  std::int64_t poison;
  std::mutex mu;
  std::vector<std::pair<std::int64_t, int>> attempts;  // (offset, attempt())
  void operator()(Scripted& c) {
    for (const auto& m : c.messages()) {
      {
        std::lock_guard lock(mu);
        attempts.push_back({m.offset(), c.attempt()});
      }
      if (m.offset() == poison) throw std::runtime_error("poison " + std::to_string(m.offset()));
      c.mark_as_consumed(m);
    }
  }
  /// Waits until `offset` was attempted.
  bool reached(std::int64_t offset) {
    return eventually([&] { return !attempts_of(offset).empty(); });
  }
  std::vector<int> attempts_of(std::int64_t offset) {
    std::lock_guard lock(mu);
    std::vector<int> out;
    for (const auto& [o, a] : attempts)
      if (o == offset) out.push_back(a);
    return out;
  }
};

// The fake commits at the revocation and the shutdown (no auto-commit timer): the tests
// wait for the last message to be delivered, stop, then read the committed offset.
bool delivered_through(World& w, std::int64_t last) {
  return eventually([&] {
    const auto got = w.offsets(0);
    return !got.empty() && got.back() == last;
  });
}

TEST(DeadLetter, APoisonMessageIsDispatchedAfterMaxRetriesWithItsHeadersMarkedAndThePartitionGoesOn) {
  World w;
  PoisonAt poison(3);
  w.on_consume = [&](Scripted& c) { poison(c); };
  w.route = [](TopicRoute& t) { t.dead_letter_queue({.topic = "t_dlq", .max_retries = 2}); };
  w.settings.max_messages = 4;
  w.start(1, 10);
  ASSERT_TRUE(poison.reached(9)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 10);
  EXPECT_EQ(poison.attempts_of(3), (std::vector<int>{1, 2, 3})) << "the first delivery and max_retries retries";
  EXPECT_EQ(poison.attempts_of(2), (std::vector<int>{1})) << "marked before the failure: never again";
  for (std::int64_t o : {4, 5, 6, 7, 8, 9}) EXPECT_EQ(poison.attempts_of(o), (std::vector<int>{1})) << o;
  const auto sent = w.producer.sent();
  ASSERT_EQ(sent.size(), 1u) << "only the poison message is dispatched";
  EXPECT_EQ(sent[0].topic, "t_dlq");
  EXPECT_EQ(sent[0].payload, std::optional<std::string>("m3"));
  EXPECT_EQ(sent[0].header("original_topic"), "t");
  EXPECT_EQ(sent[0].header("original_partition"), "0");
  EXPECT_EQ(sent[0].header("original_offset"), "3");
  EXPECT_EQ(sent[0].header("original_timestamp"), "3000");
  EXPECT_EQ(sent[0].header("original_consumer_group"), "g");
  EXPECT_EQ(sent[0].header("original_attempts"), "3");
  EXPECT_EQ(sent[0].header("error_class"), "std::runtime_error");
  EXPECT_EQ(sent[0].header("error_message"), "poison 3");
  EXPECT_TRUE(w.logger.has("dispatched to dead-letter topic 't_dlq'"));
  EXPECT_EQ(w.fake->outstanding(), 0);
}

TEST(DeadLetter, AFailingDispatchMarksNothingAndIsRetriedUntilItSucceeds) {
  World w;
  PoisonAt poison(3);
  std::atomic<std::int64_t> committed_while_failing{-2};
  w.on_consume = [&](Scripted& c) { poison(c); };
  w.route = [](TopicRoute& t) { t.dead_letter_queue({.topic = "t_dlq", .max_retries = 0}); };
  w.producer.fail_next(3);
  w.start(1, 6);
  ASSERT_TRUE(eventually([&] { return w.producer.attempts() >= 2; })) << w.record();
  committed_while_failing = w.fake->committed("t", 0);
  ASSERT_TRUE(poison.reached(5)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 6);
  EXPECT_LE(committed_while_failing.load(), 3) << "nothing past the poison message is committed while the DLQ is away";
  EXPECT_EQ(w.producer.attempts(), 4) << "three failed dispatches, then one that succeeded";
  EXPECT_EQ(w.producer.sent().size(), 1u);
  EXPECT_GE(poison.attempts_of(3).size(), 4u) << "the partition kept retrying meanwhile";
  EXPECT_TRUE(w.logger.has("could not go to dead-letter topic 't_dlq'"));
  for (std::int64_t o : {4, 5}) EXPECT_EQ(poison.attempts_of(o), (std::vector<int>{1})) << o;
}

TEST(DeadLetter, WithoutDispatchThePoisonMessageIsSkippedAfterMaxRetriesAndLogged) {
  World w;
  PoisonAt poison(1);
  w.on_consume = [&](Scripted& c) { poison(c); };
  w.route = [](TopicRoute& t) { t.dead_letter_queue({.topic = "", .max_retries = 1, .dispatch = false}); };
  w.start(1, 4);
  ASSERT_TRUE(poison.reached(3)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 4);
  EXPECT_EQ(poison.attempts_of(1), (std::vector<int>{1, 2}));
  EXPECT_TRUE(w.producer.sent().empty());
  EXPECT_TRUE(w.logger.has("the message at offset 1 failed 2 times; skipped without dispatch"));
}

TEST(DeadLetter, WithoutADeadLetterQueueAPoisonMessageIsRetriedForeverAndNothingAfterItIsCommitted) {
  World w;
  PoisonAt poison(2);
  w.on_consume = [&](Scripted& c) { poison(c); };
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return poison.attempts_of(2).size() >= 5; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 2);
  EXPECT_TRUE(poison.attempts_of(3).empty());
  const auto a = poison.attempts_of(2);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], static_cast<int>(i) + 1) << "attempt() counts up";
}

// ---- The consumer's pause and seek ----

TEST(ConsumerControl, ASeekForwardSkipsRefusesEarlierMarksAndDoesNotMarkTheBatchAutomatically) {
  World w;
  std::atomic<int> refused{0};
  std::atomic<bool> sought{false};
  w.settings.automatically_mark_as_consumed = true;
  w.settings.max_messages = 3;
  w.on_consume = [&](Scripted& c) {
    if (!sought.exchange(true)) {
      c.mark_as_consumed(c.messages().first());  // 0: handled
      ASSERT_TRUE(c.seek(std::int64_t{7}));
      if (!c.mark_as_consumed(c.messages().last())) ++refused;  // 2: before the new position
    }
  };
  w.start(1, 10);
  ASSERT_TRUE(delivered_through(w, 9)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 10);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(w.offsets(0), (std::vector<std::int64_t>{0, 1, 2, 7, 8, 9})) << w.record();
  EXPECT_TRUE(w.called("seek t/0@7")) << w.record();
  for (const auto& call : w.fake->calls_starting("commit t/0@"))
    EXPECT_TRUE(call == "commit t/0@1" || call == "commit t/0@10") << "only the manual mark, then past the seek: "
                                                                     << w.record();
}

TEST(ConsumerControl, ASeekBackReplaysWithoutMovingTheCommittedOffsetBackwards) {
  World w;
  std::atomic<int> batches{0};
  w.settings.automatically_mark_as_consumed = true;
  w.settings.max_messages = 10;
  w.on_consume = [&](Scripted& c) {
    if (batches++ == 0) {
      c.mark_as_consumed(c.messages().last());
      c.seek(Seek::earliest);
    }
  };
  w.start(1, 10);
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 20; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  std::vector<std::int64_t> twice;
  for (int round = 0; round < 2; ++round)
    for (std::int64_t o = 0; o < 10; ++o) twice.push_back(o);
  EXPECT_EQ(w.offsets(0), twice);
  EXPECT_EQ(w.fake->committed("t", 0), 10);
}

TEST(ConsumerControl, APauseRedeliversFromTheGivenOffsetAfterTheDurationAndMarksNothingAutomatically) {
  World w;
  std::atomic<bool> paused{false};
  std::atomic<std::int64_t> committed_at_pause{-2};
  Clock::time_point paused_at{}, redelivered_at{};
  w.settings.automatically_mark_as_consumed = true;
  w.settings.max_messages = 5;
  w.on_consume = [&](Scripted& c) {
    if (c.messages().first().offset() == 0 && !paused.exchange(true)) {
      c.mark_as_consumed(std::int64_t{1});
      paused_at = Clock::now();
      ASSERT_TRUE(c.pause(std::int64_t{2}, 200ms));  // "the API said: come back later"
      return;
    }
    if (c.messages().first().offset() == 2 && redelivered_at == Clock::time_point{}) {
      redelivered_at = Clock::now();
      committed_at_pause = w.fake->committed("t", 0);
    }
  };
  w.start(1, 8);
  ASSERT_TRUE(delivered_through(w, 7)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 8);
  EXPECT_EQ(w.offsets(0), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7})) << w.record();
  EXPECT_GE(redelivered_at - paused_at, 200ms) << "not before the pause ended";
  EXPECT_LE(committed_at_pause.load(), 2) << "the paused batch was not marked automatically";
}

TEST(ConsumerControl, ResumeFromAnotherThreadEndsAPauseEarly) {
  World w;
  std::atomic<bool> paused{false};
  Scripted* consumer = nullptr;
  w.settings.max_messages = 10;
  w.on_consume = [&](Scripted& c) {
    if (!paused.exchange(true)) {
      consumer = &c;
      c.pause_consecutive(1h);
    }
    EXPECT_TRUE(c.mark_as_consumed(c.messages().last())) << "a pause leaves marking alone";
  };
  w.start(1, 4);
  ASSERT_TRUE(eventually([&] { return paused.load(); }));
  w.fake->produce("t", 0, {"m4", "m5"});
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(w.offsets(0).size(), 4u) << "paused: nothing delivered" << w.record();
  consumer->resume();
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() == 6; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.offsets(0), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5})) << "pause_consecutive does not move";
  EXPECT_EQ(w.fake->committed("t", 0), 6);
}

TEST(ConsumerControl, ASeekOutsideThePartitionIsRefusedAndMovesNothing) {
  World w;
  std::atomic<int> refusals{0};
  w.on_consume = [&](Scripted& c) {
    try {
      c.seek(std::int64_t{1000});
    } catch (const std::invalid_argument& e) {
      if (std::string(e.what()).find("holds offsets 0 to 5") != std::string::npos) ++refusals;
    }
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(1, 5);
  ASSERT_TRUE(delivered_through(w, 4)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 5);
  EXPECT_GE(refusals, 1);
  EXPECT_TRUE(w.fake->calls_starting("seek").empty()) << w.record();
}

TEST(ConsumerControl, ASeekToATimeGoesToTheFirstMessageAtOrAfterIt) {
  World w;
  std::atomic<bool> sought{false};
  w.settings.max_messages = 2;
  w.on_consume = [&](Scripted& c) {
    if (!sought.exchange(true)) c.seek(std::chrono::system_clock::time_point(std::chrono::milliseconds(5500)));
    else
      for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  w.start(1, 8);  // the fake's timestamps: 1000 ms * offset
  ASSERT_TRUE(delivered_through(w, 7)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 8);
  EXPECT_EQ(w.offsets(0), (std::vector<std::int64_t>{0, 1, 6, 7})) << w.record();
}

// ---- Found by review: pause_consecutive's position, attempts, resume, threads ----

TEST(ConsumerControl, PauseConsecutivePerMessageGoesOnAfterTheMessageInHandNotAfterTheBatch) {
  World w;
  std::atomic<bool> paused{false};
  w.settings.automatically_mark_as_consumed = true;
  w.settings.batch_fetching = false;
  w.settings.max_messages = 10;
  w.on_consume = [&](Scripted& c) {
    if (c.messages().first().offset() == 2 && !paused.exchange(true)) c.pause_consecutive(50ms);
  };
  w.start(1, 10);
  ASSERT_TRUE(eventually([&] { return paused.load(); }));
  std::this_thread::sleep_for(300ms);
  w.fake->produce("t", 0, {"m10"});
  ASSERT_TRUE(eventually([&] { auto o = w.offsets(0); return !o.empty() && o.back() == 10; }, 2s)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.offsets(0), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})) << w.record();
  EXPECT_EQ(w.fake->committed("t", 0), 11);
}

TEST(ConsumerControl, PauseConsecutiveInAfterFetchDeliversTheWholeBatchAfterThePause) {
  World w;
  std::atomic<bool> paused{false};
  w.settings.automatically_mark_as_consumed = true;
  w.settings.max_messages = 10;
  w.on_after_fetch = [&](Scripted& c) {
    if (!paused.exchange(true)) c.pause_consecutive(50ms);
  };
  w.start(1, 5);
  ASSERT_TRUE(eventually([&] { return paused.load(); }));
  std::this_thread::sleep_for(300ms);
  w.fake->produce("t", 0, {"m5"});
  ASSERT_TRUE(eventually([&] { auto o = w.offsets(0); return !o.empty() && o.back() == 5; }, 2s)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.offsets(0), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5})) << w.record();
}

TEST(DeadLetter, AFailureAfterTheWholeBatchWasMarkedIsNoAttemptOfTheNextMessage) {
  World w;
  std::atomic<bool> threw{false};
  PoisonAt poison(2);
  w.settings.max_messages = 2;
  w.route = [](TopicRoute& t) { t.dead_letter_queue({.topic = "t_dlq", .max_retries = 1}); };
  w.on_consume = [&](Scripted& c) {
    poison(c);
    if (c.messages().last().offset() == 1 && !threw.exchange(true)) throw std::runtime_error("flush after marking");
  };
  w.start(1, 6);
  ASSERT_TRUE(poison.reached(5)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(poison.attempts_of(2), (std::vector<int>{1, 2})) << "max_retries = 1: two attempts of offset 2";
}

TEST(ConsumerControl, AResumeBeforeAPauseDoesNotEndTheLaterPause) {
  World w;
  std::atomic<bool> paused{false};
  w.settings.max_messages = 10;
  w.on_consume = [&](Scripted& c) {
    if (!paused.exchange(true)) {
      c.resume();  // not paused: does nothing, says the header
      c.pause_consecutive(1h);
    }
    c.mark_as_consumed(c.messages().last());
  };
  w.start(1, 4);
  ASSERT_TRUE(eventually([&] { return paused.load(); }));
  w.fake->produce("t", 0, {"m4"});
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(w.offsets(0).size(), 4u) << "still paused for 1h" << w.record();
  w.stop();
}

TEST(ConsumerControl, ASeekFromAnotherThreadDuringAHookIsRefused) {
  World w;
  std::atomic<int> outcome{0};  // 1 logic_error, 2 accepted
  std::atomic<bool> done{false};
  w.settings.max_messages = 10;
  w.on_consume = [&](Scripted& c) {
    if (!done.exchange(true)) {
      std::thread t([&] {
        try {
          c.seek(std::int64_t{0});
          outcome = 2;
        } catch (const std::logic_error&) {
          outcome = 1;
        }
      });
      t.join();
    }
    c.mark_as_consumed(c.messages().last());
  };
  w.start(1, 4);
  ASSERT_TRUE(eventually([&] { return outcome.load() != 0; }));
  w.stop();
  EXPECT_EQ(outcome.load(), 1) << "seek from another thread must throw std::logic_error";
}

TEST(ConsumerControl, PauseConsecutiveInATickDuringAPauseKeepsThePausedAtOffset) {
  World w;
  std::atomic<int> phase{0};
  w.settings.automatically_mark_as_consumed = true;
  w.settings.max_messages = 5;
  w.settings.tick_interval = 20ms;
  w.on_consume = [&](Scripted& c) {
    if (phase == 0 && c.messages().first().offset() == 0) {
      c.mark_as_consumed(std::int64_t{1});
      c.pause(std::int64_t{2}, 1h);  // rate limited at 2
      phase = 1;
    }
  };
  w.on_tick = [&](Scripted& c) {
    if (phase == 1) {
      phase = 2;
      c.pause_consecutive(50ms);  // "still rate limited: keep pausing"
    }
  };
  w.start(1, 8);
  ASSERT_TRUE(delivered_through(w, 7)) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.offsets(0), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7})) << w.record();
}

}  // namespace
}  // namespace samsa::test
