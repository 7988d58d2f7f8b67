// The offset model of docs/offsets.md, rule by rule, on a broker. Every test reads the committed
// offsets back from the broker: what a restarted consumer would resume from.
#include "harness.hpp"

#include <cstdio>

namespace samsa::test {
namespace {

using Offsets = BrokerTest;

TEST_F(Offsets, AutomaticMarkingCommitsTheEndOfEachSuccessfulBatch) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 50);
  TestApp t(topic, group);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 50; }));
  // Committed by the background auto-commit while the app still runs.
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 50; }, 10s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 50);
  EXPECT_EQ(t.probe.offsets(0).size(), 50u) << "each message delivered once";
}

TEST_F(Offsets, WithoutBatchFetchingEachMessageIsMarkedAfterItIsConsumed) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 20);
  // Offset 7 always fails: with per-message marking, 0..6 are committed and nothing after.
  TestApp t(topic, group, [](RecordingConsumer& c) {
    if (c.messages().first().offset() == 7) throw std::runtime_error("poison at 7");
  });
  t.topic_route().batch_fetching(false);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.offsets(0).size() >= 10; }));
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 7; }, 10s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 7) << "never past the failing message";
  for (auto size : t.probe.batch_sizes) EXPECT_EQ(size, 1u);
}

TEST_F(Offsets, ManualModeCommitsOnlyWhatTheConsumerMarks) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 40);
  // Marks offsets up to 24 only.
  TestApp t(topic, group, [](RecordingConsumer& c) {
    for (const auto& m : c.messages())
      if (m.offset() <= 24) c.mark_as_consumed(m);
  });
  t.app.settings().automatically_mark_as_consumed = false;
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 40; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 25);
}

TEST_F(Offsets, ManualModePerConsumerGroupCommitsNothingUnmarked) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 30);
  TestApp t(topic, group);
  t.group_route().automatically_mark_as_consumed(false);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 30; }));
  std::this_thread::sleep_for(600ms);  // several auto-commit intervals
  EXPECT_EQ(committed(group, topic), -1) << "nothing was marked, nothing may be committed";
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), -1);
}

TEST_F(Offsets, MixingKeepsManualMarksWhenTheBatchFailsAfterThem) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 30);
  // The seed's counters: mark every 10th message; the batch containing offset 15 fails.
  TestApp t(topic, group, [](RecordingConsumer& c) {
    std::size_t index = 0;
    for (const auto& m : c.messages()) {
      if (m.offset() == 15) throw std::runtime_error("fails at 15");
      if (m.offset() % 10 == 0) c.mark_as_consumed(m);
      ++index;
    }
  });
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.count_deliveries() >= 30; }));
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 11; }, 10s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 11) << "the manual mark of offset 10 survives; nothing past 15";
}

TEST_F(Offsets, AnExceptionRetriesFromTheFirstUnmarkedMessage) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 30);
  // Manual: mark through 9, then fail once on the first batch that reaches offset 12.
  std::atomic<bool> failed{false};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    for (const auto& m : c.messages()) {
      if (m.offset() == 12 && !failed.exchange(true)) throw std::runtime_error("transient");
      if (m.offset() <= 9 || failed) c.mark_as_consumed(m);
    }
  });
  t.app.settings().automatically_mark_as_consumed = false;
  t.app.settings().max_messages = 5;  // several batches before 12
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 30; }, 30s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  auto seen = t.probe.offsets(0);
  // Find the failure: the delivery after the batch with 12 restarts at 10 (first unmarked).
  auto first12 = std::find(seen.begin(), seen.end(), 12);
  ASSERT_NE(first12, seen.end());
  auto restart = std::find_if(first12, seen.end(), [](std::int64_t o) { return o == 10; });
  ASSERT_NE(restart, seen.end()) << "offset 10 must be delivered again after the failure";
  for (std::int64_t o = 10; o < 30; ++o, ++restart) {
    ASSERT_NE(restart, seen.end());
    EXPECT_EQ(*restart, o) << "redelivery in order from the first unmarked message";
  }
  EXPECT_EQ(committed(group, topic), 30);
}

TEST_F(Offsets, BeforeStopFlushesTheBufferAndItsMarkIsCommitted) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 25);
  // The seed's buffer: flush at 1000 (never reached), so only before_stop marks.
  auto buffer = [](RecordingConsumer& c) {
    for (const auto& m : c.messages()) c.buffer.push_back(m.offset());
  };
  auto flush = [](RecordingConsumer& c) {
    if (!c.buffer.empty()) c.mark_as_consumed(c.buffer.back());
    c.buffer.clear();
  };
  TestApp t(topic, group, buffer, flush);
  t.app.settings().automatically_mark_as_consumed = false;
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 25; }));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(committed(group, topic), -1) << "the buffer is not imported yet";
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(t.probe.hook_calls("before_stop"), 1);
  EXPECT_EQ(committed(group, topic), 25) << "before_stop's mark is committed before leaving";
}

TEST_F(Offsets, ARestartResumesFromTheCommittedOffsetWithNothingLostOrRepeated) {
  Broker::get().create_topic(topic, 2);
  produce(topic, 0, 60, 2);  // 30 per partition
  std::map<int, std::int64_t> marked_first;
  {
    // First run marks through offset 19 of each partition only.
    TestApp t(topic, group, [](RecordingConsumer& c) {
      for (const auto& m : c.messages())
        if (m.offset() <= 19) c.mark_as_consumed(m);
    });
    t.app.settings().automatically_mark_as_consumed = false;
    Running run(t.app);
    ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 60; }));
    EXPECT_EQ(run.stop(), kExitOk);
  }
  EXPECT_EQ(committed(group, topic, 0), 20);
  EXPECT_EQ(committed(group, topic, 1), 20);
  produce(topic, 60, 10, 2);  // 5 more per partition while stopped
  TestApp t2(topic, group);
  Running run2(t2.app);
  ASSERT_TRUE(eventually([&] { return t2.probe.consumed >= 30; }));
  EXPECT_EQ(run2.stop(), kExitOk);
  for (int p = 0; p < 2; ++p) {
    auto seen = t2.probe.offsets(p);
    ASSERT_EQ(seen.size(), 15u) << "partition " << p << ": exactly the unmarked 20..34";
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(20 + i));
    EXPECT_EQ(committed(group, topic, p), 35);
  }
}

TEST_F(Offsets, MarkAsConsumedSyncCommitsBeforeItReturns) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  std::atomic<std::int64_t> seen_committed{-2};
  std::atomic<bool> answer{false};
  const std::string g = group, tp = topic;
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    for (const auto& m : c.messages())
      if (m.offset() == 4) {
        answer = c.mark_as_consumed_sync(m);
        seen_committed = committed(g, tp);  // read back inside consume, before returning
      }
  });
  t.app.settings().automatically_mark_as_consumed = false;
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return seen_committed != -2; }));
  EXPECT_TRUE(answer) << "the partition is owned";
  EXPECT_EQ(seen_committed, 5);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 5);
}

// librdkafka >= 2.2 carries metadata through the offset store (tests/CMakeLists.txt registers
// the test that matches the librdkafka built against).
bool librdkafka_stores_metadata() {
  int major = 0, minor = 0;
  std::sscanf(librdkafka_version(), "%d.%d", &major, &minor);
  return major > 2 || (major == 2 && minor >= 2);
}

TEST_F(Offsets, OffsetMetadataIsCommittedWithTheMarkAndReadByTheNextOwner) {
  if (!librdkafka_stores_metadata()) GTEST_SKIP() << "needs librdkafka >= 2.2";
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 30);
  // Run 1: the metadata goes with a sync mark, stays with a later plain mark (sticky), is
  // replaced at the same offset, and reaches the broker through the auto-commit and the
  // final commit.
  std::atomic<bool> sync_ok{false}, too_long_refused{false};
  std::string seen_after_sync;
  const std::string g = group, tp = topic;
  {
    TestApp t(topic, group, [&](RecordingConsumer& c) {
      for (const auto& m : c.messages()) {
        if (m.offset() == 0) {
          try {
            c.mark_as_consumed(m, std::string(4097, 'x'));
          } catch (const std::invalid_argument&) {
            too_long_refused = true;
          }
        }
        if (m.offset() == 4) {
          sync_ok = c.mark_as_consumed_sync(m, "step=4");
          seen_after_sync = committed_metadata(g, tp);
        }
        if (m.offset() == 9) c.mark_as_consumed(m);  // no metadata: keeps step=4
        if (m.offset() == 14) {
          c.mark_as_consumed(m, "step=14");
          c.mark_as_consumed(m, "step=14b");  // same offset, new metadata
        }
      }
    });
    t.app.settings().automatically_mark_as_consumed = false;
    Running run(t.app);
    ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 30; }));
    EXPECT_TRUE(sync_ok);
    EXPECT_TRUE(too_long_refused) << "more than 4096 bytes";
    EXPECT_EQ(seen_after_sync, "step=4") << "committed with the sync mark (the refused mark marked nothing)";
    EXPECT_TRUE(eventually([&] { return committed(group, topic) == 15; }, 10s)) << "auto-commit";
    EXPECT_EQ(committed_metadata(group, topic), "step=14b") << "the auto-commit carries the metadata";
    EXPECT_EQ(run.stop(), kExitOk);
  }
  EXPECT_EQ(committed(group, topic), 15);
  EXPECT_EQ(committed_metadata(group, topic), "step=14b");

  // Run 2, the next owner: reads it in initialized(), then clears it with its first mark.
  TestApp t2(topic, group, [](RecordingConsumer& c) {
    if (c.messages().first().offset() == 15) c.mark_as_consumed(c.messages().first(), "");
  });
  std::mutex mu;
  std::string read_back = "<not read>";
  t2.hooks["initialized"] = [&](RecordingConsumer& c) {
    std::lock_guard lock(mu);
    read_back = c.committed_offset_metadata();
  };
  Running run2(t2.app);
  ASSERT_TRUE(eventually([&] { return t2.probe.consumed >= 15; }));
  EXPECT_EQ(run2.stop(), kExitOk);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(read_back, "step=14b");
  }
  EXPECT_EQ(committed(group, topic), 30) << "automatic marking after the cleared mark";
  EXPECT_EQ(committed_metadata(group, topic), "") << "cleared";
  EXPECT_EQ(t2.probe.offsets(0).front(), 15) << "resumed after the committed offset";
}

TEST_F(Offsets, OffsetMetadataIsRefusedBeforeLibrdkafka2_2) {
  if (librdkafka_stores_metadata()) GTEST_SKIP() << "librdkafka >= 2.2 stores metadata";
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  std::atomic<int> refusals{0};
  std::string error;
  std::mutex mu;
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    // Empty metadata is a plain mark (once: every retry starts at offset 1).
    if (c.messages().first().offset() == 0) c.mark_as_consumed(c.messages().first(), "");
    try {
      c.mark_as_consumed(c.messages().last(), "step");
    } catch (const std::logic_error& e) {
      std::lock_guard lock(mu);
      error = e.what();
      ++refusals;
      throw;  // the error path: nothing more marked, redelivered
    }
  });
  t.app.settings().automatically_mark_as_consumed = false;
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return refusals >= 2; }, 30s)) << "refused, retried, refused";
  EXPECT_EQ(run.stop(), kExitOk);
  std::lock_guard lock(mu);
  EXPECT_NE(error.find("needs librdkafka >= 2.2.0"), std::string::npos) << error;
  EXPECT_EQ(committed(group, topic), 1) << "only the plain mark of offset 0; nothing marked by the refused call";
}

TEST_F(Offsets, MarksNeverMoveTheGroupBackwards) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 20);
  TestApp t(topic, group, [](RecordingConsumer& c) {
    if (c.messages().last().offset() == 19) {
      c.mark_as_consumed(c.messages().last());
      c.mark_as_consumed(c.messages().first());  // older: ignored
    }
  });
  t.app.settings().automatically_mark_as_consumed = false;
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 20; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), 20);
}

TEST_F(Offsets, TickLetsAQuietPartitionFlushItsBuffer) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 5);
  TestApp t(
      topic, group, [](RecordingConsumer& c) { for (const auto& m : c.messages()) c.buffer.push_back(m.offset()); },
      {}, [](RecordingConsumer& c) {
        if (!c.buffer.empty()) c.mark_as_consumed(c.buffer.back()), c.buffer.clear();
      });
  t.app.settings().automatically_mark_as_consumed = false;
  Running run(t.app);
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 5; }, 20s))
      << "committed " << committed(group, topic) << "; assigned " << t.probe.hook_calls("initialized")
      << " times, consumed " << t.probe.consumed.load() << ", ticked " << t.probe.hook_calls("tick") << " times";
  EXPECT_EQ(run.stop(), kExitOk);
}

}  // namespace
}  // namespace samsa::test
