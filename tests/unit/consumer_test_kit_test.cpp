// The testing kit (samsa/testing/consumer_test.hpp) as a user's test uses it: automatic and
// manual marks, tick(), the back-off and redelivery after an exception, the dead-letter
// queue with the producer away, pause and seek, revoke/assign, before_stop, and the kit's
// own errors (a consume() that cannot finish, an unrouted topic).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "samsa/samsa.hpp"
#include "samsa/testing/consumer_test.hpp"

namespace samsa::test {
namespace {

using namespace std::chrono_literals;
using testing::ConsumerTest;

/// What the consumers of one test did, by partition.
struct Seen {
  std::mutex mu;
  std::vector<std::int64_t> delivered;  // offsets handed to consume(), in order
  std::vector<std::string> steps;       // "initialized", "revoked", "before_stop", "tick"
  std::vector<std::string> payloads;
  int instances = 0;
  void step(const std::string& s) {
    std::lock_guard lock(mu);
    steps.push_back(s);
  }
  int count(const std::string& s) {
    std::lock_guard lock(mu);
    return static_cast<int>(std::count(steps.begin(), steps.end(), s));
  }
};

/// Marks each message (with automatic marking off) unless told to throw at `fail_at`
/// `failures` times.
class Marking : public Consumer {
 public:
  Marking(Seen& seen, std::int64_t fail_at = -1, int failures = 0)
      : seen_(seen), fail_at_(fail_at), failures_(failures) {
    std::lock_guard lock(seen_.mu);
    ++seen_.instances;
  }
  void initialized() override { seen_.step("initialized"); }
  void consume() override {
    for (const auto& m : messages()) {
      {
        std::lock_guard lock(seen_.mu);
        seen_.delivered.push_back(m.offset());
        seen_.payloads.emplace_back(m.raw_payload());
      }
      if (m.offset() == fail_at_ && failures_ > 0) {
        --failures_;
        throw std::runtime_error("the database is away");
      }
      mark_as_consumed(m);
    }
  }
  void revoked() override { seen_.step("revoked"); }
  void before_stop() override { seen_.step("before_stop"); }

 private:
  Seen& seen_;
  std::int64_t fail_at_;
  int failures_;
};

/// Buffers and marks only in tick(): a consumer whose marks lag its deliveries.
class Buffering : public Consumer {
 public:
  explicit Buffering(Seen& seen) : seen_(seen) {}
  void consume() override {
    for (const auto& m : messages()) buffered_.push_back(m.offset());
  }
  void tick() override {
    seen_.step("tick");
    if (buffered_.empty()) return;
    mark_as_consumed(buffered_.back());
    buffered_.clear();
  }

 private:
  Seen& seen_;
  std::vector<std::int64_t> buffered_;
};

TEST(ConsumerTestKit, AutomaticMarksAreCommittedAtStop) {
  Seen seen;
  ConsumerTest test;
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").consumer([&] { return std::make_unique<Marking>(seen); });
  });
  EXPECT_EQ(test.produce("events", "a"), 0);
  EXPECT_EQ(test.produce("events", "b"), 1);
  test.consume();
  EXPECT_EQ(seen.delivered, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(test.marked("events"), 1);
  EXPECT_EQ(test.committed("events"), -1) << "nothing commits before a revocation or the stop";
  // After the start, messages reach the running consumer.
  test.produce("events", "c");
  test.consume();
  EXPECT_EQ(test.marked("events"), 2);
  EXPECT_EQ(test.stop(), kExitOk);
  EXPECT_EQ(test.committed("events"), 3);
  EXPECT_EQ(seen.count("initialized"), 1);
  EXPECT_EQ(seen.count("before_stop"), 1);
  EXPECT_EQ(seen.count("revoked"), 1);
  EXPECT_EQ(seen.payloads, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ConsumerTestKit, TickRunsOnDemandAndItsMarksCount) {
  Seen seen;
  ConsumerTest test;
  test.setup([](Settings& s) { s.automatically_mark_as_consumed = false; });
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").consumer([&] { return std::make_unique<Buffering>(seen); });
  });
  for (int i = 0; i < 5; ++i) test.produce("events", "e" + std::to_string(i));
  test.consume();
  EXPECT_EQ(test.marked("events"), std::nullopt) << "buffered, not marked";
  EXPECT_EQ(seen.count("tick"), 0) << "tick_interval is an hour in a ConsumerTest";
  test.tick();
  EXPECT_EQ(seen.count("tick"), 1);
  EXPECT_EQ(test.marked("events"), 4);
  EXPECT_EQ(test.stop(), kExitOk);
  EXPECT_EQ(test.committed("events"), 5);
}

TEST(ConsumerTestKit, AnExceptionPausesAndRedeliversFromTheFirstUnmarkedMessage) {
  Seen seen;
  ConsumerTest test;
  test.setup([](Settings& s) { s.automatically_mark_as_consumed = false; });
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").consumer([&] { return std::make_unique<Marking>(seen, 2, 2); });
  });
  for (int i = 0; i < 4; ++i) test.produce("events", "e" + std::to_string(i));
  test.consume();
  // 0 and 1 marked before the throw at 2 stay marked; 2 comes again (twice), then 3.
  EXPECT_EQ(seen.delivered, (std::vector<std::int64_t>{0, 1, 2, 2, 2, 3}));
  const auto failures = test.failures();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].hook, "consume");
  EXPECT_EQ(failures[0].topic, "events");
  EXPECT_EQ(failures[0].error, "the database is away");
  EXPECT_EQ(failures[0].attempt, 1);
  EXPECT_EQ(failures[1].attempt, 2);
  EXPECT_EQ(test.seeks("events"), (std::vector<std::int64_t>{2, 2})) << "each rewind to the first unmarked";
  EXPECT_EQ(test.marked("events"), 3);
}

TEST(ConsumerTestKit, APoisonMessageIsDeadLetteredEvenWhenTheProducerIsAwayAtFirst) {
  Seen seen;
  ConsumerTest test;
  test.setup([](Settings& s) { s.automatically_mark_as_consumed = false; });
  test.routes([&](Routes& r) {
    r.consumer_group("g")
        .topic("events")
        .consumer([&] { return std::make_unique<Marking>(seen, 1, 1000); })
        .dead_letter_queue({"events-dlq", 2});
  });
  test.fail_produces(1);
  samsa::testing::TestMessage poison;
  test.produce("events", "fine");
  poison.payload = "poison";
  poison.key = "k1";
  poison.headers = {{"trace", "t-1"}};
  test.produce("events", poison);
  test.produce("events", "fine too");
  test.consume();
  const auto dead = test.produced("events-dlq");
  ASSERT_EQ(dead.size(), 1u) << "one dead letter, after the failed dispatch was tried again";
  EXPECT_EQ(dead[0].payload, "poison");
  EXPECT_EQ(dead[0].key, "k1");
  EXPECT_EQ(dead[0].header("trace"), "t-1");
  EXPECT_EQ(dead[0].header("original_offset"), "1");
  EXPECT_EQ(dead[0].header("error_message"), "the database is away");
  EXPECT_EQ(test.marked("events"), 2) << "past the poison message, and the next one handled";
  EXPECT_EQ(test.stop(), kExitOk);
  EXPECT_EQ(test.committed("events"), 3);
}

/// Pauses at its second message for an hour, or seeks back to 0 once.
class Steering : public Consumer {
 public:
  Steering(Seen& seen, bool pause) : seen_(seen), pause_(pause) {}
  void consume() override {
    for (const auto& m : messages()) {
      {
        std::lock_guard lock(seen_.mu);
        seen_.delivered.push_back(m.offset());
      }
      if (m.offset() == 1 && pause_) {
        pause(m.offset(), 1h);
        return;
      }
      if (m.offset() == 2 && !pause_ && !sought_) {
        sought_ = true;
        seek(0);
        return;
      }
      mark_as_consumed(m);
    }
  }

 private:
  Seen& seen_;
  bool pause_;
  bool sought_ = false;
};

TEST(ConsumerTestKit, AConsumersPauseShowsAndHoldsItsPosition) {
  Seen seen;
  ConsumerTest test;
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").batch_fetching(false).consumer([&] {
      return std::make_unique<Steering>(seen, true);
    });
  });
  for (int i = 0; i < 3; ++i) test.produce("events", "e");
  test.consume();
  EXPECT_TRUE(test.paused("events"));
  EXPECT_EQ(test.position("events"), 1);
  EXPECT_EQ(seen.delivered, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(test.marked("events"), 0);
}

TEST(ConsumerTestKit, AConsumersSeekIsRecorded) {
  Seen seen;
  ConsumerTest test;
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").batch_fetching(false).consumer([&] {
      return std::make_unique<Steering>(seen, false);
    });
  });
  for (int i = 0; i < 4; ++i) test.produce("events", "e");
  test.consume();
  EXPECT_EQ(test.seeks("events"), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(seen.delivered, (std::vector<std::int64_t>{0, 1, 2, 0, 1, 2, 3}));
  EXPECT_FALSE(test.paused("events"));
  EXPECT_EQ(test.position("events"), 4);
}

TEST(ConsumerTestKit, RevokeCommitsAndAssignStartsANewInstanceFromTheCommittedOffset) {
  Seen seen;
  ConsumerTest test;
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").partitions(2).consumer([&] { return std::make_unique<Marking>(seen); });
  });
  test.produce("events", "p0", 0);
  test.produce("events", "p1", 1);
  test.consume();
  EXPECT_EQ(seen.instances, 2);
  test.revoke("events", 1);
  EXPECT_EQ(seen.count("revoked"), 1);
  EXPECT_EQ(test.committed("events", 1), 1) << "the revocation committed its marks";
  EXPECT_EQ(test.marked("events", 1), std::nullopt) << "not assigned any more";
  test.produce("events", "p1 again", 1);
  test.assign("events", 1);
  test.consume();
  EXPECT_EQ(seen.instances, 3) << "a new instance for the partition given back";
  EXPECT_EQ(seen.count("initialized"), 3);
  EXPECT_EQ(seen.delivered.back(), 1) << "from the committed offset: only the new message";
  EXPECT_EQ(seen.delivered.size(), 3u);
}

TEST(ConsumerTestKit, APartitionAssignedBeforeAnyMessageIsFedLikeAnyOther) {
  Seen seen;
  ConsumerTest test;
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").consumer([&] { return std::make_unique<Marking>(seen); });
  });
  test.assign("events", 3);
  test.produce("events", "late", 3);
  test.consume();
  EXPECT_EQ(seen.delivered, (std::vector<std::int64_t>{0}));
  EXPECT_EQ(test.marked("events", 3), 0);
}

TEST(ConsumerTestKit, AConsumeThatCannotFinishNamesThePartitionAndTheFailure) {
  Seen seen;
  ConsumerTest test;
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").consumer([&] { return std::make_unique<Marking>(seen, 0, 1000000); });
  });
  test.produce("events", "never");
  try {
    test.consume(1500ms);
    FAIL() << "consume() returned";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("events/0"), std::string::npos) << what;
    EXPECT_NE(what.find("the database is away"), std::string::npos) << what;
  }
  EXPECT_GE(test.failures().size(), 2u) << "it kept retrying, with the back-off";
}

TEST(ConsumerTestKit, MistakesAreRefusedWithTheReason) {
  Seen seen;
  ConsumerTest test;
  test.routes([&](Routes& r) {
    r.consumer_group("g").topic("events").consumer([&] { return std::make_unique<Marking>(seen); });
  });
  EXPECT_THROW(test.produce("evnets", "x"), std::logic_error);
  ConsumerTest transactional;
  transactional.setup([](Settings& s) { s.transactional_id = "t"; });
  transactional.routes([&](Routes& r) {
    r.consumer_group("tx").transactional(true).topic("events").consumer([&] {
      return std::make_unique<Marking>(seen);
    });
  });
  EXPECT_THROW(transactional.start(), std::logic_error);
  ConsumerTest unrouted;
  EXPECT_THROW(unrouted.start(), RoutingError) << "no routes: App::validate's error";
}

}  // namespace
}  // namespace samsa::test
