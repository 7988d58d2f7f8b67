// buffered_import's consumer under samsa::testing::ConsumerTest: the program's own routes and
// settings, no broker, a real SQLite file. What the example promises: imports in batches of
// --flush-size, marks only after the commit, a quiet partition imported by tick(), the rest
// by before_stop(), a poison event dead-lettered after its predecessors were imported, and
// a bad event or a missing database retried without importing anything twice.
#include "buffered_import.hpp"

#include <gtest/gtest.h>
#include <samsa/testing/consumer_test.hpp>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using samsa::testing::ConsumerTest;

class BufferedImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("buffered_import_test-" + std::to_string(std::random_device()()));
    std::filesystem::create_directories(dir_);
    buffered_import::options = {};
    buffered_import::options.db = (dir_ / "events.db").string();
    buffered_import::options.flush_size = 3;
    // The program's settings and routes; ticks only when the test calls tick().
    test_.setup(buffered_import::configure).setup([](samsa::Settings& s) { s.tick_interval = 1h; });
  }
  void TearDown() override {
    test_.stop();
    std::filesystem::remove_all(dir_);
  }
  void start() { test_.routes(buffered_import::draw_routes); }

  std::int64_t event(std::int64_t id, bool poison = false, std::int32_t partition = 0) {
    return test_.produce("user_events",
                         R"({"id": )" + std::to_string(id) + (poison ? R"(, "poison": true})" : "}"), partition);
  }

  /// id -> how many rows the database has for it.
  std::map<std::int64_t, int> imported() const {
    std::map<std::int64_t, int> out;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(buffered_import::options.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT id FROM events", -1, &st, nullptr) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW) ++out[sqlite3_column_int64(st, 0)];
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
  }

  /// The failures of `hook`. (Four partitions open one new database at once: an
  /// initialized() may fail with "database is locked", and is retried.)
  std::vector<samsa::testing::HookFailure> failures_of(const std::string& hook) const {
    std::vector<samsa::testing::HookFailure> out;
    for (const auto& f : test_.failures())
      if (f.hook == hook) out.push_back(f);
    return out;
  }

  std::filesystem::path dir_;
  ConsumerTest test_;
};

TEST_F(BufferedImport, ImportsInBatchesAndMarksOnlyWhatIsInTheDatabase) {
  start();
  for (int id = 0; id < 5; ++id) event(id);
  test_.consume();
  EXPECT_EQ(imported(), (std::map<std::int64_t, int>{{0, 1}, {1, 1}, {2, 1}})) << "one batch of --flush-size";
  EXPECT_EQ(test_.marked("user_events"), 2) << "marked through the last imported event, not the buffered ones";
  EXPECT_EQ(test_.stop(), samsa::kExitOk);
  EXPECT_EQ(imported().size(), 5u) << "before_stop imported the rest";
  EXPECT_EQ(test_.committed("user_events"), 5);
  for (int p = 1; p < 4; ++p) EXPECT_EQ(test_.committed("user_events", p), -1) << "the routes' 4 partitions";
}

TEST_F(BufferedImport, TickImportsAQuietPartition) {
  buffered_import::options.flush_size = 1000;
  buffered_import::options.flush_interval_ms = 0;
  start();
  event(1);
  event(2);
  test_.consume();
  EXPECT_TRUE(imported().empty());
  EXPECT_EQ(test_.marked("user_events"), std::nullopt);
  test_.tick();
  EXPECT_EQ(imported(), (std::map<std::int64_t, int>{{1, 1}, {2, 1}}));
  EXPECT_EQ(test_.marked("user_events"), 1);
}

TEST_F(BufferedImport, APoisonEventIsDeadLetteredAfterItsPredecessorsAreImported) {
  buffered_import::options.dead_letter_topic = "user_events_dlq";
  buffered_import::options.max_retries = 1;
  buffered_import::options.flush_size = 1000;
  start();
  event(0);
  event(1);
  const std::int64_t poison = event(2, true);
  event(3);
  test_.consume();
  const auto dead = test_.produced("user_events_dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].header("original_offset"), std::to_string(poison));
  EXPECT_NE(dead[0].header("error_message").find("poison event 2"), std::string::npos) << dead[0].header("error_message");
  const auto failures = failures_of("consume");
  ASSERT_EQ(failures.size(), 2u) << "the first delivery and --max-retries 1 retry";
  EXPECT_EQ(failures[1].offset, poison) << "the retry began at the poison event: its predecessors were "
                                                   "imported and marked before it threw";
  EXPECT_EQ(test_.stop(), samsa::kExitOk);
  EXPECT_EQ(imported(), (std::map<std::int64_t, int>{{0, 1}, {1, 1}, {3, 1}})) << "each once, the poison event never";
  EXPECT_EQ(test_.committed("user_events"), 4);
}

TEST_F(BufferedImport, ABadEventIsRetriedAndNothingIsImportedTwice) {
  start();
  for (int id = 0; id < 4; ++id) event(id);
  test_.produce("user_events", "not json");
  EXPECT_THROW(test_.consume(1500ms), std::runtime_error) << "without a dead-letter queue the bad event blocks";
  ASSERT_GE(failures_of("consume").size(), 2u) << "retried with the back-off";
  // The five came in one batch, whose parse failed at the bad one before any import: the
  // buffer was dropped and the batch comes again from its first unmarked event, 0.
  EXPECT_EQ(test_.marked("user_events"), std::nullopt);
  ASSERT_FALSE(test_.seeks("user_events").empty());
  EXPECT_EQ(test_.seeks("user_events").front(), 0) << "redelivered from the first unmarked event";
  EXPECT_TRUE(imported().empty()) << "nothing of the failed batch reached the database";
  EXPECT_EQ(test_.stop(), samsa::kExitOk);
  EXPECT_TRUE(imported().empty()) << "before_stop has an empty buffer: what it held was dropped";
  EXPECT_EQ(test_.committed("user_events"), -1);
}

TEST_F(BufferedImport, ADatabaseThatCannotBeOpenedHoldsThePartitionBack) {
  buffered_import::options.db = (dir_ / "missing" / "events.db").string();
  start();
  event(1);
  EXPECT_THROW(test_.consume(300ms), std::runtime_error);
  ASSERT_FALSE(test_.failures().empty());
  EXPECT_EQ(test_.failures().front().hook, "initialized");
  EXPECT_NE(test_.failures().front().error.find("cannot open"), std::string::npos) << test_.failures().front().error;
  EXPECT_EQ(test_.marked("user_events"), std::nullopt);
  EXPECT_EQ(test_.stop(), samsa::kExitOk);
  EXPECT_EQ(test_.committed("user_events"), -1) << "nothing was imported, nothing is committed";
}

}  // namespace
