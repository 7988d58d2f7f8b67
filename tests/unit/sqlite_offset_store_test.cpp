// SqliteOffsetStore: load and the compare-and-set of SqliteSession, on a temporary file.
#include "samsa/sqlite_offset_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace samsa {
namespace {

class SqliteOffsetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path = (std::filesystem::temp_directory_path() /
            ("samsa-store-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
               .string();
    std::remove(path.c_str());
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  std::string path;
  const StoredPartition key{"events", "user_events", 3};
};

TEST_F(SqliteOffsetStoreTest, NothingStoredIsNullopt) {
  SqliteOffsetStore store(path);
  EXPECT_EQ(store.load(key), std::nullopt);
}

TEST_F(SqliteOffsetStoreTest, TheFirstWriteInsertsAndASecondFirstWriteIsRefused) {
  SqliteOffsetStore store(path);
  auto a = store.open_session();
  a->begin();
  EXPECT_TRUE(a->compare_and_set(key, std::nullopt, 10));
  a->commit();
  EXPECT_EQ(store.load(key), 10);
  // Another owner that also read "nothing stored": refused, nothing written.
  auto b = store.open_session();
  b->begin();
  EXPECT_FALSE(b->compare_and_set(key, std::nullopt, 7));
  b->rollback();
  EXPECT_EQ(store.load(key), 10);
}

TEST_F(SqliteOffsetStoreTest, AWriteFromAnotherExpectedOffsetIsRefused) {
  SqliteOffsetStore store(path);
  auto s = store.open_session();
  s->begin();
  ASSERT_TRUE(s->compare_and_set(key, std::nullopt, 10));
  s->commit();
  s->begin();
  EXPECT_FALSE(s->compare_and_set(key, 5, 20)) << "the store holds 10, not 5";
  EXPECT_TRUE(s->compare_and_set(key, 10, 20));
  s->commit();
  EXPECT_EQ(store.load(key), 20);
  // Other partitions and groups are other rows.
  EXPECT_EQ(store.load({"events", "user_events", 4}), std::nullopt);
  EXPECT_EQ(store.load({"other", "user_events", 3}), std::nullopt);
}

TEST_F(SqliteOffsetStoreTest, ARollbackTakesTheOffsetAndTheOutputBack) {
  SqliteOffsetStore store(path);
  SqliteSession s(path, std::chrono::seconds(1));
  s.exec("CREATE TABLE out (v INTEGER)");
  s.begin();
  s.exec("INSERT INTO out VALUES (1)");
  ASSERT_TRUE(s.compare_and_set(key, std::nullopt, 10));
  s.rollback();
  EXPECT_EQ(store.load(key), std::nullopt);
  SqliteSession check(path, std::chrono::seconds(1));
  EXPECT_THROW(check.exec("INSERT INTO missing VALUES (1)"), OffsetStoreError);
  // Reopened, the file holds what was committed only.
  s.begin();
  s.exec("INSERT INTO out VALUES (2)");
  ASSERT_TRUE(s.compare_and_set(key, std::nullopt, 11));
  s.commit();
  SqliteOffsetStore again(path);
  EXPECT_EQ(again.load(key), 11);
}

TEST_F(SqliteOffsetStoreTest, AnUnopenablePathNamesItself) {
  try {
    SqliteOffsetStore store("/nonexistent-dir/x/events.db");
    FAIL() << "opened";
  } catch (const OffsetStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/events.db"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace samsa
