// What an exception from each hook does to the offsets (docs/offsets.md, "When a hook
// throws"), and the rule that a mark names a delivered message. Offsets are read back from
// the broker; what the consumer handled is recorded beside them.
#include <cstdint>
#include <set>
#include <stdexcept>

#include "harness.hpp"

namespace samsa::test {
namespace {

// A sink (a database, an HTTP service) that refuses the first `failures` imports.
struct Sink {
  std::mutex mu;
  std::vector<std::int64_t> imported;
  std::atomic<int> failures;
  explicit Sink(int f) : failures(f) {}

  std::vector<std::int64_t> rows() {
    std::lock_guard lock(mu);
    return imported;
  }
  // The buffer pattern of buffered_import: import all, then mark the last; on failure drop
  // the buffer (Samsa delivers it again from the first unmarked message) and rethrow.
  void flush(RecordingConsumer& c) {
    if (c.buffer.empty()) return;
    if (failures.fetch_sub(1) > 0) {
      c.buffer.clear();
      throw std::runtime_error("sink unavailable");
    }
    {
      std::lock_guard lock(mu);
      imported.insert(imported.end(), c.buffer.begin(), c.buffer.end());
    }
    const std::int64_t last = c.buffer.back();
    c.buffer.clear();
    c.mark_as_consumed(last);
  }
};

void expect_each_once(const std::vector<std::int64_t>& rows, std::int64_t count) {
  std::multiset<std::int64_t> seen(rows.begin(), rows.end());
  for (std::int64_t o = 0; o < count; ++o) EXPECT_EQ(seen.count(o), 1u) << "offset " << o << " imported once";
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(count));
}

// A consumer buffers what it receives and imports the buffer in one hook, while the sink
// fails its first three imports. Whatever the hook, nothing is lost and nothing imported
// twice. (Before the hook rules, a failed import in tick(), before_poll() or after_poll()
// was logged and ignored: the next import marked past the dropped events.)
class FlushingHook : public BrokerTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(FlushingHook, AFailedImportInTheHookLosesNothingAndImportsNothingTwice) {
  const std::string hook = GetParam();
  constexpr int kEvents = 40;
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, kEvents);
  Sink sink(3);
  HookFailures failures;
  TestApp t(
      topic, group,
      [&](RecordingConsumer& c) {
        for (const auto& m : c.messages()) c.buffer.push_back(m.offset());
        if (hook == "consume") sink.flush(c);
      },
      [&](RecordingConsumer& c) { sink.flush(c); });  // before_stop imports the rest
  if (hook != "consume") t.hooks[hook] = [&](RecordingConsumer& c) { sink.flush(c); };
  t.app.settings().automatically_mark_as_consumed = false;
  t.app.settings().max_messages = 5;  // several batches, so a hook runs between them
  failures.subscribe(t.app);
  Running run(t.app);
  // after_fetch imports what earlier batches buffered: the last batch waits for before_stop.
  const std::int64_t before_stop = hook == "after_fetch" ? kEvents - 5 : kEvents;
  ASSERT_TRUE(eventually([&] { return static_cast<std::int64_t>(sink.rows().size()) >= before_stop; }, 60s))
      << sink.rows().size() << " imported";
  if (hook != "after_fetch") {
    EXPECT_TRUE(eventually([&] { return committed(group, topic) == kEvents; }, 20s)) << committed(group, topic);
  }
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(failures.of(hook), 3) << "each failed import is a hook_failed event";
  EXPECT_EQ(committed(group, topic), kEvents);
  expect_each_once(sink.rows(), kEvents);
}

INSTANTIATE_TEST_SUITE_P(Hooks, FlushingHook,
                         ::testing::Values("consume", "tick", "before_poll", "after_poll", "after_fetch"),
                         [](const auto& info) { return std::string(info.param); });

using Hooks = BrokerTest;

TEST_F(Hooks, AnInitializedThatThrowsIsRetriedAndNoHookRunsOnTheHalfBuiltConsumer) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  std::atomic<int> init_failures{2}, half_built{0};
  HookFailures failures;
  auto must_be_ready = [&](RecordingConsumer& c) {
    if (!c.ready) ++half_built;
  };
  TestApp t(topic, group, must_be_ready, must_be_ready, must_be_ready);
  t.hooks["initialized"] = [&](RecordingConsumer& c) {
    if (init_failures.fetch_sub(1) > 0) throw std::runtime_error("cannot open /nonexistent/dir/x.db");
    c.ready = true;
  };
  for (const char* h : {"after_fetch", "before_poll", "after_poll", "revoked"}) t.hooks[h] = must_be_ready;
  failures.subscribe(t.app);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 10; }, 60s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(half_built, 0) << "a hook ran on an instance whose initialized() had thrown";
  EXPECT_EQ(failures.of("initialized"), 2);
  EXPECT_EQ(t.probe.hook_calls("initialized"), 3) << "retried on the same instance until it succeeded";
  EXPECT_EQ(t.probe.offsets(0).size(), 10u) << "each message handled once, after initialized() succeeded";
  EXPECT_EQ(committed(group, topic), 10);
}

TEST_F(Hooks, BeforeStopAndRevokedThatThrowKeepTheMarksMadeAndNothingMore) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 20);
  HookFailures failures;
  {
    // before_stop imports half of its buffer, marks it, then fails on the rest.
    TestApp t(
        topic, group, [](RecordingConsumer& c) { for (const auto& m : c.messages()) c.buffer.push_back(m.offset()); },
        [](RecordingConsumer& c) {
          c.mark_as_consumed(c.buffer.at(9));
          throw std::runtime_error("the second half cannot be imported");
        });
    t.hooks["revoked"] = [](RecordingConsumer&) { throw std::logic_error("revoked fails too"); };
    t.app.settings().automatically_mark_as_consumed = false;
    failures.subscribe(t.app);
    Running run(t.app);
    ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 20; }));
    EXPECT_EQ(run.stop(), kExitOk) << "nothing is lost: the shutdown itself succeeded";
  }
  EXPECT_EQ(failures.of("before_stop"), 1);
  EXPECT_EQ(failures.of("revoked"), 1);
  EXPECT_EQ(committed(group, topic), 10) << "the mark made before the throw is committed, nothing after it";
  TestApp t2(topic, group);
  Running run2(t2.app);
  ASSERT_TRUE(eventually([&] { return t2.probe.consumed >= 10; }));
  EXPECT_EQ(run2.stop(), kExitOk);
  auto seen = t2.probe.offsets(0);
  ASSERT_EQ(seen.size(), 10u) << "the next run receives exactly what was not marked";
  EXPECT_EQ(seen.front(), 10);
  EXPECT_EQ(committed(group, topic), 20);
}

TEST_F(Hooks, AMarkMustNameADeliveredMessage) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  std::mutex mu;
  std::vector<std::string> refused;
  auto try_mark = [&](RecordingConsumer& c, std::int64_t offset) {
    try {
      c.mark_as_consumed(offset);
    } catch (const std::invalid_argument& e) {
      std::lock_guard lock(mu);
      refused.push_back(e.what());
    }
  };
  {
    TestApp t(
        topic, group,
        [&](RecordingConsumer& c) {
          const auto last = c.messages().last().offset();
          if (last != 9) return;
          try_mark(c, last + 1);  // "the next offset": never delivered
          try_mark(c, INT64_MAX);
          c.mark_as_consumed(last);
        },
        [&](RecordingConsumer& c) { try_mark(c, 1000); });  // far past the log end
    t.app.settings().automatically_mark_as_consumed = false;
    Running run(t.app);
    ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 10; }));
    EXPECT_EQ(run.stop(), kExitOk);
  }
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(refused.size(), 3u);
    EXPECT_NE(refused[0].find("never delivered"), std::string::npos) << refused[0];
    EXPECT_NE(refused[0].find("highest delivered is 9"), std::string::npos) << refused[0];
  }
  EXPECT_EQ(committed(group, topic), 10) << "only the mark of a delivered message is committed";

  // The second run starts at 10: a mark below it would rewind the group.
  produce(topic, 10, 5);
  TestApp t2(topic, group, [&](RecordingConsumer& c) {
    try_mark(c, 3);
    c.mark_as_consumed(c.messages().last());
  });
  t2.app.settings().automatically_mark_as_consumed = false;
  Running run2(t2.app);
  ASSERT_TRUE(eventually([&] { return t2.probe.consumed >= 5; }));
  EXPECT_EQ(run2.stop(), kExitOk);
  {
    std::lock_guard lock(mu);
    ASSERT_GE(refused.size(), 4u);
    EXPECT_NE(refused[3].find("below 10"), std::string::npos) << refused[3];
  }
  EXPECT_EQ(committed(group, topic), 15);
}

}  // namespace
}  // namespace samsa::test
