// Kafka transactions (Consumer::transaction with a KafkaTransaction, a transactional
// consumer group): what a read_committed reader of the output sees and the group's
// committed offset, both read back from the broker.
#include <set>

#include "harness.hpp"

namespace samsa::test {
namespace {

class KafkaTransactionTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    out = unique_name("out");
    Broker::get().create_topic(out, 1);
  }
  /// A transactional TestApp copying `topic` to `out`, with `behaviour` as its consume().
  void make_transactional(TestApp& t, const std::string& id) {
    t.group_route().transactional(true);
    t.app.setup([id](Settings& s) { s.transactional_id = id; });  // by value: the block runs at serve()
  }
  /// Copies each message of the batch to `out` with its source offset in a header, and
  /// marks the batch, in one transaction; returns what transaction() returned.
  static bool copy_batch(RecordingConsumer& c, const std::string& to) {
    return c.transaction([&](KafkaTransaction& tx) {
      for (const auto& m : c.messages()) tx.produce(to, std::nullopt, m.raw_payload(), {{"source_offset", std::to_string(m.offset())}});
      c.mark_as_consumed(c.messages().last());
    });
  }
  /// Each source offset of [0, n) exactly once in what a read_committed reader of `out` sees.
  void expect_copied_exactly_once(std::int64_t n) {
    const auto read = read_messages(out, static_cast<std::size_t>(n), 60s, /*read_committed=*/true);
    std::map<std::int64_t, int> seen;
    for (const auto& m : read) ++seen[std::stoll(m.headers.at("source_offset"))];
    EXPECT_EQ(read.size(), static_cast<std::size_t>(n));
    for (std::int64_t o = 0; o < n; ++o)
      EXPECT_EQ(seen[o], 1) << "source offset " << o << " seen " << seen[o] << " times by a read_committed reader";
  }
  std::string out;
};

TEST_F(KafkaTransactionTest, CopiesAndTheGroupsOffsetCommitTogether) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 60);
  std::atomic<int> committed_txns{0};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    if (copy_batch(c, out)) ++committed_txns;
  });
  make_transactional(t, unique_name("txn"));
  t.group_route().max_messages(20);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 60; })) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_GE(committed_txns.load(), 3);
  expect_copied_exactly_once(60);
  EXPECT_EQ(committed(group, topic), 60);
}

TEST_F(KafkaTransactionTest, AThrowAbortsTheCopiesAndTheBatchComesAgain) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 40);
  std::atomic<int> throws{0};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    c.transaction([&](KafkaTransaction& tx) {
      for (const auto& m : c.messages()) {
        tx.produce(out, std::nullopt, m.raw_payload(), {{"source_offset", std::to_string(m.offset())}});
        // Copies already produced in this transaction are aborted with it. The pause lets
        // them reach the broker first (an abort purges what is still queued locally), so
        // that the log holds aborted copies for the readers to tell apart.
        if (m.offset() == 25 && throws++ < 2) {
          std::this_thread::sleep_for(1s);
          throw std::runtime_error("refused 25");
        }
      }
      c.mark_as_consumed(c.messages().last());
    });
  });
  make_transactional(t, unique_name("txn"));
  t.group_route().max_messages(10);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 40; })) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(throws.load(), 3);
  expect_copied_exactly_once(40);
  // Aborted copies reached the log: a read_uncommitted reader sees some of them (up to
  // twice 20..25; how many were sent before the abort is the producer's timing).
  // (The embedded broker does not commit a transaction's offsets: these tests need Kafka.)
  if (!Broker::get().embedded()) {
    EXPECT_GT(read_messages(out, 41, 20s).size(), 40u);
  }
}

TEST_F(KafkaTransactionTest, MarksOutsideTheTransactionAndSyncCommitsAreRefused) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  std::atomic<int> refused{0};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    const Message& last = c.messages().last();
    try {
      c.mark_as_consumed(last);
    } catch (const std::logic_error&) {
      ++refused;
    }
    c.transaction([&](KafkaTransaction&) {
      try {
        c.mark_as_consumed_sync(last);
      } catch (const std::logic_error&) {
        ++refused;
      }
    });
    copy_batch(c, out);
  });
  make_transactional(t, unique_name("txn"));
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 10; })) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_GE(refused.load(), 2);
  EXPECT_EQ(refused.load() % 2, 0) << "both refused in every batch";
  expect_copied_exactly_once(10);
}

TEST_F(KafkaTransactionTest, PoisonMessageGoesToTheDeadLetterTopicInATransactionWithItsOffset) {
  Broker::get().create_topic(topic, 1);
  const std::string dlq = unique_name("dlq");
  Broker::get().create_topic(dlq, 1);
  produce(topic, 0, 30);
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    // Copies the messages before offset 12, then throws on it, every time.
    const Messages& batch = c.messages();
    std::size_t good = 0;
    while (good < batch.size() && batch[good].offset() != 12) ++good;
    if (good > 0)
      c.transaction([&](KafkaTransaction& tx) {
        for (std::size_t i = 0; i < good; ++i)
          tx.produce(out, std::nullopt, batch[i].raw_payload(), {{"source_offset", std::to_string(batch[i].offset())}});
        c.mark_as_consumed(batch[good - 1]);
      });
    if (good < batch.size()) throw std::runtime_error("poison at 12");
  });
  make_transactional(t, unique_name("txn"));
  t.topic_route().dead_letter_queue({.topic = dlq, .max_retries = 2});
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 30; })) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  const auto letters = read_messages(dlq, 1, 30s, /*read_committed=*/true);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].headers.at("original_offset"), "12");
  const auto read = read_messages(out, 29, 60s, true);
  std::set<std::int64_t> seen;
  for (const auto& m : read) EXPECT_TRUE(seen.insert(std::stoll(m.headers.at("source_offset"))).second);
  EXPECT_EQ(read.size(), 29u);
  EXPECT_EQ(seen.count(12), 0u);
}

TEST_F(KafkaTransactionTest, AJobGivenUpByItsRevocationCommitsNothing) {
  // A's first job on each partition blocks until a second member joined and a revocation
  // gave the job up (revoke_timeout): under any protocol at least one of the two partitions
  // moves to B (eager: both are revoked). A given-up job's transaction then returns false,
  // aborted, and whoever owns the partition now copies from the committed offset. Nothing
  // is copied twice.
  Broker::get().create_topic(topic, 2);
  produce(topic, 0, 60, 2);
  std::atomic<bool> release{false};
  std::mutex mu;
  std::set<std::int32_t> blocked;
  std::vector<bool> results;  // of the blocked jobs' transactions
  auto behaviour = [&](RecordingConsumer& c) {
    bool block;
    {
      std::lock_guard lock(mu);
      block = blocked.insert(c.partition()).second;
    }
    if (block) {
      eventually([&] { return release.load(); }, 60s);
      const bool ok = copy_batch(c, out);
      std::lock_guard lock(mu);
      results.push_back(ok);
      return;
    }
    copy_batch(c, out);
  };
  const std::string id = unique_name("txn");
  TestApp a(topic, group, behaviour);
  make_transactional(a, id + "-a");
  a.app.setup([](Settings& s) { s.revoke_timeout = 1s; });
  a.group_route().max_messages(10);
  TestApp b(topic, group, behaviour);
  make_transactional(b, id + "-b");
  b.group_route().max_messages(10);
  Running run_a(a.app);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return blocked.size() == 2;
  }));
  Running run_b(b.app);
  // A revocation of one of A's partitions gives its blocked job up after revoke_timeout.
  ASSERT_TRUE(eventually([&] { return b.probe.count_deliveries() > 0; }));
  release = true;
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return results.size() == 2;
  }));
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(!results[0] || !results[1]) << "a given-up job's transaction must not commit";
  }
  ASSERT_TRUE(eventually([&] { return committed(group, topic, 0) == 30 && committed(group, topic, 1) == 30; }))
      << committed(group, topic, 0) << " " << committed(group, topic, 1);
  EXPECT_EQ(run_b.stop(), kExitOk);
  EXPECT_EQ(run_a.stop(), kExitOk);
  // Source offsets of two partitions: 0..29 twice, each once per partition.
  const auto read = read_messages(out, 60, 60s, /*read_committed=*/true);
  EXPECT_EQ(read.size(), 60u);
  std::map<std::int64_t, int> seen;
  for (const auto& m : read) ++seen[std::stoll(m.headers.at("source_offset"))];
  for (std::int64_t o = 0; o < 30; ++o) EXPECT_EQ(seen[o], 2) << "source offset " << o;
}

TEST_F(KafkaTransactionTest, AFencedProducerCommitsNothingAndItsWorkIsRedone) {
  // Two apps with the same transactional_id (a misconfiguration: two processes sharing one)
  // fence each other's producer: each fenced transaction fails (TransactionError, the
  // hook's failure), is redone after the back-off, and nothing is copied twice.
  Broker::get().create_topic(topic, 1);
  const std::string topic2 = unique_name("t2"), group2 = unique_name("g2"), out2 = unique_name("out2");
  Broker::get().create_topic(topic2, 1);
  Broker::get().create_topic(out2, 1);
  produce(topic, 0, 200);
  produce(topic2, 0, 200);
  const std::string id = unique_name("shared");
  TestApp a(topic, group, [&](RecordingConsumer& c) { copy_batch(c, out); });
  TestApp b(topic2, group2, [&](RecordingConsumer& c) { copy_batch(c, out2); });
  HookFailures failures_a, failures_b;
  for (TestApp* t : {&a, &b}) {
    make_transactional(*t, id);
    t->app.setup([](Settings& s) { s.concurrency = 1; });  // one producer each: <id>-0
    t->group_route().max_messages(5);
  }
  failures_a.subscribe(a.app);
  failures_b.subscribe(b.app);
  {
    Running run_a(a.app);
    Running run_b(b.app);
    ASSERT_TRUE(eventually([&] { return committed(group, topic) == 200 && committed(group2, topic2) == 200; }, 120s))
        << committed(group, topic) << " " << committed(group2, topic2);
    EXPECT_EQ(run_a.stop(), kExitOk);
    EXPECT_EQ(run_b.stop(), kExitOk);
  }
  EXPECT_GT(failures_a.of("consume") + failures_b.of("consume"), 0) << "the second producer fenced the first";
  expect_copied_exactly_once(200);
  out = out2;
  expect_copied_exactly_once(200);
}

TEST_F(KafkaTransactionTest, ConfigurationMistakesAreClearErrorsBeforeAnythingConnects) {
  {
    TestApp t(topic, group);
    t.group_route().transactional(true);
    try {
      t.app.validate();
      ADD_FAILURE() << "no transactional_id accepted";
    } catch (const RoutingError& e) {
      EXPECT_NE(std::string(e.what()).find("transactional_id"), std::string::npos) << e.what();
    }
  }
  {
    TestApp t(topic, group);
    make_transactional(t, "x");
    t.group_route().kafka("isolation.level", "read_uncommitted");
    try {
      t.app.serve();
      ADD_FAILURE() << "read_uncommitted accepted";
    } catch (const SettingsError& e) {
      EXPECT_NE(std::string(e.what()).find("isolation.level"), std::string::npos) << e.what();
    }
  }
  {
    struct NoStore : OffsetStore {
      std::optional<std::int64_t> load(const StoredPartition&) override { return std::nullopt; }
      std::unique_ptr<StoreSession> open_session() override { return nullptr; }
      std::string describe() const override { return "none"; }
    };
    TestApp t(topic, group);
    make_transactional(t, "x");
    t.topic_route().offset_store(std::make_shared<NoStore>());
    try {
      t.app.validate();
      ADD_FAILURE() << "an offset store on a transactional group accepted";
    } catch (const RoutingError& e) {
      EXPECT_NE(std::string(e.what()).find("offset_store"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace samsa::test
