// buffered_import: the seed page's buffer example, for real.
//
// Consumes `user_events` in consumer group `events` with manual offset management. Events
// are buffered in the consumer (one instance per partition, kept across batches) and
// imported into SQLite in batches of --flush-size, each inside one transaction. The last
// imported message is marked only after the database commit, so a crash at any moment
// re-delivers what was not imported yet and never skips it. A quiet topic is imported too:
// tick() flushes when the oldest buffered event is older than --flush-interval, and
// before_stop() imports the rest on a graceful shutdown.
//
//   buffered_import server --brokers 127.0.0.1:9092 --db events.db
#include <samsa/samsa.hpp>
#include <sqlite3.h>

#include <chrono>
#include <deque>
#include <stdexcept>
#include <string>

namespace {

struct Options {
  std::string db = "events.db";
  int flush_size = 1000;
  int flush_interval_ms = 5000;
} options;

// One connection per consumer (partition): SQLite serialises the writers (WAL, busy wait).
class Database {
 public:
  explicit Database(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
      throw std::runtime_error("cannot open " + path + ": " + sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 30000);
    exec("PRAGMA journal_mode=WAL");
    // No uniqueness constraint on purpose: a duplicate import would show.
    exec("CREATE TABLE IF NOT EXISTS events (id INTEGER, topic TEXT, partition INTEGER, "
         "offset INTEGER, payload TEXT)");
  }
  ~Database() { sqlite3_close(db_); }

  struct Row {
    std::int64_t id, offset;
    std::string payload;
  };

  // All rows in one transaction: either every row is in the database, or none is.
  void import(const std::string& topic, int partition, const std::deque<Row>& rows, std::size_t n) {
    exec("BEGIN IMMEDIATE");
    sqlite3_stmt* st = nullptr;
    try {
      check(sqlite3_prepare_v2(db_, "INSERT INTO events VALUES (?, ?, ?, ?, ?)", -1, &st, nullptr));
      for (std::size_t i = 0; i < n; ++i) {
        sqlite3_bind_int64(st, 1, rows[i].id);
        sqlite3_bind_text(st, 2, topic.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, partition);
        sqlite3_bind_int64(st, 4, rows[i].offset);
        sqlite3_bind_text(st, 5, rows[i].payload.c_str(), -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) check(SQLITE_ERROR);
        sqlite3_reset(st);
      }
      sqlite3_finalize(st);
      exec("COMMIT");
    } catch (...) {
      sqlite3_finalize(st);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

 private:
  void exec(const char* sql) { check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr)); }
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_ = nullptr;
};

class EventsConsumer : public samsa::Consumer {
 public:
  void initialized() override { db_ = std::make_unique<Database>(options.db); }

  void consume() override {
    // Parse and add to the buffer. A Message is a view: keep copies.
    for (const auto& m : messages())
      buffer_.push_back({m.payload().at("id").get<std::int64_t>(), m.offset(), std::string(m.raw_payload())});
    if (!oldest_) oldest_ = std::chrono::steady_clock::now();

    // If the buffer exceeds the flush size, it's time to put data into the database.
    while (buffer_.size() >= static_cast<std::size_t>(options.flush_size)) import(options.flush_size);
  }

  // A quiet topic: import what waited longer than the flush interval.
  void tick() override {
    if (oldest_ && std::chrono::steady_clock::now() - *oldest_ >= std::chrono::milliseconds(options.flush_interval_ms))
      import(buffer_.size());
  }

  // Before we stop, import what is buffered despite it not reaching the flush size.
  void before_stop() override {
    if (!buffer_.empty()) import(buffer_.size());
  }

 private:
  void import(std::size_t n) {
    if (n == 0) return;
    try {
      db_->import(topic(), partition(), buffer_, n);
    } catch (...) {
      // Nothing of the buffer is marked, and Samsa re-delivers from the first unmarked
      // message: drop the buffer so that those events are not imported twice.
      buffer_.clear();
      oldest_.reset();
      throw;
    }
    // Once importing is done, mark the last imported message as consumed.
    const std::int64_t last = buffer_[n - 1].offset;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    oldest_ = buffer_.empty() ? std::nullopt : std::optional(std::chrono::steady_clock::now());
    logger().info("imported " + std::to_string(n) + " events from " + topic() + "/" +
                  std::to_string(partition()) + ", marked through offset " + std::to_string(last));
    mark_as_consumed(last);
  }

  std::unique_ptr<Database> db_;
  std::deque<Database::Row> buffer_;
  std::optional<std::chrono::steady_clock::time_point> oldest_;
};

}  // namespace

int main(int argc, char** argv) {
  samsa::App app;
  app.setup([](samsa::Settings& config) {
    config.client_id = "buffered_import";
    config.automatically_mark_as_consumed = false;
    config.tick_interval = std::chrono::milliseconds(500);
  });
  app.routes([](samsa::Routes& routes) {
    routes.consumer_group("events", [](samsa::ConsumerGroupRoute& group) {
      group.automatically_mark_as_consumed(false);
      group.topic("user_events").consumer<EventsConsumer>().partitions(4);
    });
  });
  app.option("--db", options.db, "SQLite database file");
  app.option("--flush-size", options.flush_size, "Import in batches of this many events");
  app.option("--flush-interval", options.flush_interval_ms,
             "Import a partial batch once its oldest event waited this many milliseconds");
  return app.run(argc, argv);
}
