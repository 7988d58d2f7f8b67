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
#include "runtime/committer.hpp"
#include "runtime/listener.hpp"
#include "runtime/worker_pool.hpp"
#include "samsa/app.hpp"

namespace samsa::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
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
  void revoked() override;
  void before_stop() override;
  using Consumer::mark_as_consumed;
  using Consumer::messages;
  using Consumer::partition;
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
  std::function<void(Scripted&)> on_consume = [](Scripted& c) {
    for (const auto& m : c.messages()) c.mark_as_consumed(m);
  };
  std::mutex mu;
  std::vector<std::pair<int, std::int64_t>> delivered;  // (partition, offset), in order
  std::atomic<int> refused_marks{0};
  std::atomic<bool> in_job{false};  // start_with_a_held_job's job started

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
    group.topic("t").consumer([this] { return std::unique_ptr<Consumer>(new Scripted(*this)); });
    auto client = std::make_unique<FakeConsumerClient>();
    fake = client.get();
    std::vector<FakeConsumerClient::TP> parts;
    for (int p = 0; p < partitions; ++p) {
      std::vector<std::string> payloads;
      for (int i = 0; i < messages; ++i) payloads.push_back("m" + std::to_string(i));
      fake->produce("t", p, payloads);
      parts.push_back({"t", p});
    }
    fake->rebalance_assign(parts);
    pool = std::make_unique<runtime::WorkerPool>(settings.concurrency);
    listener = std::make_unique<runtime::Listener>(settings, group, std::move(client), *pool, logger, monitor);
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
  w.monitor.subscribe([&](const Event& e) {
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
  w.settings.queue_max_bytes = 60;  // about twenty 3-byte payloads
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

TEST(Listener, APartitionWhoseJobHangsOverTheGroupBudgetIsPausedSoTheOthersGoOn) {
  World w;
  w.settings.queue_max_bytes = 100;
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
  EXPECT_TRUE(w.fake->calls_starting("pause t/1").empty()) << w.record();
  gate.open();
  ASSERT_TRUE(eventually([&] { return w.offsets(0).size() >= 300; })) << w.record();
  EXPECT_EQ(w.stop(), kExitOk);
  EXPECT_EQ(w.fake->committed("t", 0), 300);
  EXPECT_EQ(w.fake->committed("t", 1), 300);
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
  w.monitor.subscribe([&](const Event& e) {
    if (e.type == EventType::offsets_committed) errors.push_back(e.error);
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
  w.monitor.subscribe([&](const Event& e) {
    if (e.type == EventType::offsets_committed && !e.offsets.empty()) ++events;
  });
  EXPECT_FALSE(w.committer.commit_sync(w.one, Clock::now() + 10s));
  EXPECT_FALSE(w.committer.commit_sync(w.one, Clock::now() + 10s));  // librdkafka's repeat on unassign
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace samsa::test
