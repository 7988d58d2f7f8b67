// Offsets kept in the sink's own transaction (samsa/offset_store.hpp): SQLite as the sink,
// the stored offset and Kafka's committed offset both read back.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "harness.hpp"
#include "samsa/sqlite_offset_store.hpp"

namespace samsa::test {
namespace {

class OffsetStoreTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    path = (std::filesystem::temp_directory_path() / (unique_name("store") + ".db")).string();
    store = std::make_shared<SqliteOffsetStore>(path);
    SqliteSession db(path, std::chrono::seconds(5));
    db.exec("CREATE TABLE events (partition INTEGER NOT NULL, offset INTEGER NOT NULL)");
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  /// The consumer's output: one row per message, in the transaction.
  static void insert(SqliteSession& db, const Message& m) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db.handle(), "INSERT INTO events (partition, offset) VALUES (?, ?)", -1, &s, nullptr);
    sqlite3_bind_int(s, 1, m.partition());
    sqlite3_bind_int64(s, 2, m.offset());
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) throw std::runtime_error("insert failed");
  }
  /// The rows of the table: offset -> how many times.
  std::map<std::int64_t, int> rows() const {
    SqliteSession db(path, std::chrono::seconds(5));
    std::map<std::int64_t, int> out;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db.handle(), "SELECT offset FROM events", -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) ++out[sqlite3_column_int64(s, 0)];
    sqlite3_finalize(s);
    return out;
  }
  std::optional<std::int64_t> stored() const { return store->load({group, topic, 0}); }
  void put_stored(std::int64_t next) {
    SqliteSession db(path, std::chrono::seconds(5));
    db.begin();
    const auto now = store->load({group, topic, 0});
    ASSERT_TRUE(db.compare_and_set({group, topic, 0}, now, next));
    db.commit();
  }
  /// Each offset of [from, to) exactly once, nothing else.
  void expect_exactly_once(std::int64_t from, std::int64_t to) const {
    const auto r = rows();
    EXPECT_EQ(r.size(), static_cast<std::size_t>(to - from));
    for (std::int64_t o = from; o < to; ++o) {
      auto it = r.find(o);
      EXPECT_TRUE(it != r.end() && it->second == 1) << "offset " << o << " imported " << (it == r.end() ? 0 : it->second)
                                                    << " times";
    }
  }
  // The whole batch into the table, the last message marked: one transaction.
  static void import_batch(RecordingConsumer& c) {
    c.transaction([&](SqliteSession& db) {
      for (const auto& m : c.messages()) insert(db, m);
      c.mark_as_consumed(c.messages().last());
    });
  }
  std::string path;
  std::shared_ptr<SqliteOffsetStore> store;
};

TEST_F(OffsetStoreTest, StartsFromTheStoresOffsetAndKafkasCommittedOffsetFollows) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 30);
  put_stored(10);  // an earlier run imported 0..9; Kafka has nothing committed
  TestApp t(topic, group, import_batch);
  t.topic_route().offset_store(store);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return stored() == 30; }));
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 30; }, 15s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(t.probe.offsets(0).front(), 10) << "fetched from the store's offset, not from the start";
  expect_exactly_once(10, 30);
  EXPECT_EQ(committed(group, topic), 30);
}

TEST_F(OffsetStoreTest, KafkasCommittedOffsetCatchesUpWithTheStoreWithNothingToDeliver) {
  // The last owner imported everything and was killed before Kafka's commit: the next one
  // has nothing to deliver, and still commits the store's offset (lag and tools see it).
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 20);
  put_stored(20);
  TestApp t(topic, group, import_batch);
  t.topic_route().offset_store(store);
  Running run(t.app);
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 20; }, 15s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(t.probe.count_deliveries(), 0u);
  EXPECT_EQ(committed(group, topic), 20);
}

TEST_F(OffsetStoreTest, AThrowRollsTheOutputBackAndTheBatchComesAgain) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 40);
  std::atomic<int> throws{0};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    c.transaction([&](SqliteSession& db) {
      for (const auto& m : c.messages()) {
        insert(db, m);
        // Rows already inserted in this transaction are rolled back with it.
        if (m.offset() == 25 && throws++ < 2) throw std::runtime_error("sink refused 25");
      }
      c.mark_as_consumed(c.messages().last());
    });
  });
  t.topic_route().offset_store(store);
  t.group_route().max_messages(10);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return stored() == 40; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(throws.load(), 3);
  expect_exactly_once(0, 40);
  EXPECT_EQ(committed(group, topic), 40);
}

TEST_F(OffsetStoreTest, AnotherOwnersWriteRollsBackAndThePartitionGoesOnFromTheStore) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 50);
  std::atomic<bool> raced{false};
  std::atomic<int> refused{0};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    // Before the first transaction another owner imports 0..29 and moves the store to 30.
    if (!raced.exchange(true)) put_stored(30);
    const bool ok = c.transaction([&](SqliteSession& db) {
      for (const auto& m : c.messages()) insert(db, m);
      c.mark_as_consumed(c.messages().last());
    });
    if (!ok) ++refused;
  });
  t.topic_route().offset_store(store);
  t.group_route().max_messages(10);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return stored() == 50; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(refused.load(), 1);
  expect_exactly_once(30, 50);  // 0..29 are the other owner's (not in this table)
  const auto seen = t.probe.offsets(0);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 30), 1) << "after the refusal, from the store's offset";
  EXPECT_EQ(committed(group, topic), 50);
}

TEST_F(OffsetStoreTest, AMarkOutsideATransactionIsRefusedAndNothingIsCommitted) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 10);
  TestApp t(topic, group, [](RecordingConsumer& c) { c.mark_as_consumed(c.messages().last()); });
  t.topic_route().offset_store(store);
  HookFailures failures;
  failures.subscribe(t.app);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return failures.of("consume") >= 2; }));
  EXPECT_EQ(run.stop(), kExitOk);
  {
    std::lock_guard lock(failures.mu);
    EXPECT_NE(failures.errors.front().find("mark inside transaction()"), std::string::npos) << failures.errors.front();
  }
  EXPECT_EQ(stored(), std::nullopt);
  EXPECT_EQ(committed(group, topic), -1) << "automatic marking is off for a route with a store";
}

// A store that can be taken away: its reads fail while `down`.
class FlakyStore : public OffsetStore {
 public:
  explicit FlakyStore(std::shared_ptr<SqliteOffsetStore> inner) : inner_(std::move(inner)) {}
  std::optional<std::int64_t> load(const StoredPartition& key) override {
    ++loads;
    if (down) throw OffsetStoreError("test store: away");
    return inner_->load(key);
  }
  std::unique_ptr<StoreSession> open_session() override { return inner_->open_session(); }
  std::string describe() const override { return "flaky " + inner_->describe(); }
  std::atomic<bool> down{true};
  std::atomic<int> loads{0};

 private:
  std::shared_ptr<SqliteOffsetStore> inner_;
};

TEST_F(OffsetStoreTest, AStoreAwayAtAssignmentHoldsThePartitionUntilItAnswers) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 30);
  put_stored(12);
  auto flaky = std::make_shared<FlakyStore>(store);
  TestApp t(topic, group, import_batch);
  t.topic_route().offset_store(flaky);
  Running run(t.app);
  // Tried at the assignment, by initialized() and before each delivery with the back-off.
  ASSERT_TRUE(eventually([&] { return flaky->loads >= 4; }));
  EXPECT_EQ(t.probe.count_deliveries(), 0u) << "nothing is delivered from a guessed offset";
  flaky->down = false;
  ASSERT_TRUE(eventually([&] { return stored() == 30; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(t.probe.offsets(0).front(), 12);
  expect_exactly_once(12, 30);
  EXPECT_EQ(committed(group, topic), 30);
}

TEST_F(OffsetStoreTest, ARestartGoesOnWhereTheStoreIsWhateverKafkaCommitted) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 20);
  {
    TestApp t(topic, group, import_batch);
    t.topic_route().offset_store(store);
    Running run(t.app);
    ASSERT_TRUE(eventually([&] { return stored() == 20; }));
    EXPECT_EQ(run.stop(), kExitOk);
  }
  produce(topic, 20, 10);
  // The database was restored from a backup taken at 15: the store is the truth, Kafka's
  // committed offset (20) is not. 15..19 are imported again into the restored table.
  {
    SqliteSession db(path, std::chrono::seconds(5));
    db.exec("DELETE FROM events WHERE offset >= 15");
    db.exec("UPDATE samsa_offsets SET next_offset = 15");
  }
  TestApp t(topic, group, import_batch);
  t.topic_route().offset_store(store);
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return stored() == 30; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(t.probe.offsets(0).front(), 15);
  expect_exactly_once(0, 30);
  EXPECT_EQ(committed(group, topic), 30);
}

}  // namespace
}  // namespace samsa::test
