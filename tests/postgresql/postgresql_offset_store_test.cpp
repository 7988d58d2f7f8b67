// PostgresqlOffsetStore on a real PostgreSQL server: scripts/run-tests postgres starts one
// (scripts/postgres-local) and passes its URI in SAMSA_TEST_POSTGRES. Without it every test
// fails: this binary only runs where a server was started for it.
#include "samsa/postgresql_offset_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace samsa {
namespace {

class PostgresqlOffsetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* uri_env = std::getenv("SAMSA_TEST_POSTGRES");
    ASSERT_TRUE(uri_env && *uri_env) << "SAMSA_TEST_POSTGRES is not set: run scripts/run-tests postgres";
    uri = uri_env;
    // Each test its own group: the table is shared by the tests of one server.
    key = {std::string("g-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
               std::to_string(::getpid()),
           "user_events", 3};
  }
  std::string uri;
  StoredPartition key;
};

TEST_F(PostgresqlOffsetStoreTest, NothingStoredIsNulloptThenTheFirstWriteInsertsIt) {
  PostgresqlOffsetStore store(uri);
  EXPECT_EQ(store.load(key), std::nullopt);
  auto s = store.open_session();
  s->begin();
  EXPECT_TRUE(s->compare_and_set(key, std::nullopt, 10));
  s->commit();
  EXPECT_EQ(store.load(key), 10);
  // Another owner that also read "nothing stored": refused.
  auto other = store.open_session();
  other->begin();
  EXPECT_FALSE(other->compare_and_set(key, std::nullopt, 7));
  other->rollback();
  EXPECT_EQ(store.load(key), 10);
}

TEST_F(PostgresqlOffsetStoreTest, AWriteFromAnotherExpectedOffsetIsRefusedAndARollbackTakesTheOutputBack) {
  PostgresqlOffsetStore store(uri);
  PostgresqlSession s(uri);
  s.begin();
  s.work().exec("CREATE TABLE IF NOT EXISTS store_test_out (grp TEXT, v INTEGER)");
  ASSERT_TRUE(s.compare_and_set(key, std::nullopt, 10));
  s.commit();
  s.begin();
  s.work().exec_params("INSERT INTO store_test_out VALUES ($1, 1)", key.consumer_group);
  EXPECT_FALSE(s.compare_and_set(key, 5, 20)) << "the store holds 10, not 5";
  s.rollback();
  s.begin();
  const auto rows = s.work().exec_params("SELECT count(*) FROM store_test_out WHERE grp = $1", key.consumer_group);
  EXPECT_EQ(rows[0][0].as<int>(), 0) << "rolled back with the offset";
  EXPECT_TRUE(s.compare_and_set(key, 10, 20));
  s.commit();
  EXPECT_EQ(store.load(key), 20);
  EXPECT_EQ(store.load({key.consumer_group, key.topic, 4}), std::nullopt);
}

TEST_F(PostgresqlOffsetStoreTest, TwoOwnersRacingForTheSameRowOneWins) {
  PostgresqlOffsetStore store(uri);
  {
    auto s = store.open_session();
    s->begin();
    ASSERT_TRUE(s->compare_and_set(key, std::nullopt, 100));
    s->commit();
  }
  // Both read 100; the second's UPDATE waits for the first's row lock, then sees 150.
  auto a = store.open_session();
  auto b = store.open_session();
  a->begin();
  b->begin();
  ASSERT_TRUE(a->compare_and_set(key, 100, 150));
  bool b_won = true;
  std::thread second([&] { b_won = b->compare_and_set(key, 100, 180); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  a->commit();
  second.join();
  EXPECT_FALSE(b_won) << "the second owner must see the first's write";
  b->rollback();
  EXPECT_EQ(store.load(key), 150);
}

TEST_F(PostgresqlOffsetStoreTest, AnUnreachableServerIsAClearErrorWithoutItsPassword) {
  try {
    PostgresqlOffsetStore store("postgresql://samsa:secret@127.0.0.1:1/samsa?connect_timeout=2");
    FAIL() << "connected";
  } catch (const OffsetStoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:1/samsa"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret"), std::string::npos) << what;
  }
  try {  // libpq's key=value form
    PostgresqlOffsetStore store("host=127.0.0.1 port=1 user=samsa password=secret2 connect_timeout=2");
    FAIL() << "connected";
  } catch (const OffsetStoreError& e) {
    EXPECT_EQ(std::string(e.what()).find("secret2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace samsa
