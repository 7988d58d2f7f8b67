// buffered_import: the buffer example of Karafka's offset management page, for real.
//
// Consumes `user_events` in consumer group `events` with manual offset management. Events
// are buffered in the consumer (one instance per partition, kept across batches) and
// imported into SQLite in batches of --flush-size, each inside one transaction. The last
// imported message is marked only after the database commit, so a crash at any moment
// re-delivers what was not imported yet and never skips it. A quiet topic is imported too:
// tick() flushes when the oldest buffered event is older than --flush-interval, and
// before_stop() imports the rest on a graceful shutdown. When anything fails (a bad event,
// the database), the buffer is dropped and Samsa delivers its events again: none is
// imported twice, none is marked before it is in the database.
//
// An event with "poison": true can never be imported: consume() throws on it every time.
// With --dead-letter-topic, Samsa sends it there after --max-retries retries and the
// partition goes on. Samsa retries and dispatches the partition's first unmarked message,
// so before throwing the consumer imports and marks what it buffered before the poison
// event: the poison event is then the first unmarked one, not an innocent event before it.
//
//   buffered_import server --brokers 127.0.0.1:9092 --db events.db [--busy-timeout MS]
//                          [--dead-letter-topic user_events_dlq [--max-retries 3]]
#include <samsa/samsa.hpp>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

struct Options {
  std::string db = "events.db";
  int flush_size = 1000;
  int flush_interval_ms = 5000;
  int busy_timeout_ms = 30000;
  std::string dead_letter_topic;  // empty: no dead-letter queue, a poison event blocks its partition
  int max_retries = 3;
} options;

// What consume() throws for a poison event (the error_class header of its dead letter).
class PoisonEvent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One connection per consumer (partition): SQLite serialises the writers (WAL, busy wait).
class Database {
 public:
  explicit Database(const std::string& path) {
    // sqlite3_open allocates a handle even when it fails: db_ owns it from the start, so
    // that a constructor that throws does not leak it.
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open(path.c_str(), &raw);
    db_.reset(raw);
    if (rc != SQLITE_OK)
      throw std::runtime_error("cannot open " + path + ": " + sqlite3_errmsg(raw));
    // How long an import waits for a writer of another process before it fails.
    sqlite3_busy_timeout(raw, options.busy_timeout_ms);
    exec("PRAGMA journal_mode=WAL");
    // No uniqueness constraint on purpose: a duplicate import would show.
    exec("CREATE TABLE IF NOT EXISTS events (id INTEGER, topic TEXT, partition INTEGER, "
         "offset INTEGER, payload TEXT)");
  }

  struct Row {
    std::int64_t id, offset;
    std::string payload;
  };

  // All rows in one transaction: either every row is in the database, or none is.
  void import(const std::string& topic, int partition, const std::deque<Row>& rows, std::size_t n) {
    exec("BEGIN IMMEDIATE");
    sqlite3_stmt* st = nullptr;
    try {
      check(sqlite3_prepare_v2(db_.get(), "INSERT INTO events VALUES (?, ?, ?, ?, ?)", -1, &st, nullptr));
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
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

 private:
  void exec(const char* sql) { check(sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr)); }
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_.get()));
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db_{nullptr, &sqlite3_close};
};

using Clock = std::chrono::steady_clock;

class EventsConsumer : public samsa::Consumer {
 public:
  // A failure here (say, a --db in a directory that does not exist) is retried by Samsa
  // before this partition gets any message.
  void initialized() override { db_ = std::make_unique<Database>(options.db); }

  void consume() override {
    dropping_the_buffer_on_failure([&] {
      // Parse and add to the buffer. A Message is a view: keep copies. A bad event (not
      // JSON, no "id") throws here: the partition is retried with back-off from its first
      // unmarked message, and nothing at or after the bad event is ever marked.
      for (const auto& m : messages()) {
        const auto id = m.payload().at("id").get<std::int64_t>();
        if (m.payload().value("poison", false)) {
          // Samsa retries (and dead-letters) the first unmarked message: import and mark
          // what precedes the poison event first, so that it is the one.
          import(buffer_.size());
          throw PoisonEvent("poison event " + std::to_string(id) + " at offset " + std::to_string(m.offset()));
        }
        buffer_.push_back({id, m.offset(), std::string(m.raw_payload())});
      }
      if (!oldest_) oldest_ = Clock::now();

      // If the buffer exceeds the flush size, it's time to put data into the database.
      while (buffer_.size() >= static_cast<std::size_t>(options.flush_size)) import(options.flush_size);
    });
  }

  // A quiet topic: import what waited longer than the flush interval.
  void tick() override {
    dropping_the_buffer_on_failure([&] {
      if (oldest_ && Clock::now() - *oldest_ >= std::chrono::milliseconds(options.flush_interval_ms))
        import(buffer_.size());
    });
  }

  // Before we stop, import what is buffered despite it not reaching the flush size.
  void before_stop() override {
    dropping_the_buffer_on_failure([&] { import(buffer_.size()); });
  }

 private:
  // The buffer holds exactly the messages after the last mark. When a hook throws, Samsa
  // delivers them again from the first unmarked one: drop the buffer, or they would be
  // imported twice.
  template <class Hook>
  void dropping_the_buffer_on_failure(Hook&& hook) {
    try {
      hook();
    } catch (...) {
      buffer_.clear();
      oldest_.reset();
      throw;
    }
  }

  void import(std::size_t n) {
    if (n == 0) return;
    // Samsa runs no other hook before initialized() succeeded: a cheap guard all the same.
    if (!db_) throw std::runtime_error("no database: opening " + options.db + " failed");
    db_->import(topic(), partition(), buffer_, n);  // one transaction; throws if not committed

    // Once importing is done, mark the last imported message as consumed.
    const std::int64_t last = buffer_[n - 1].offset;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    oldest_ = buffer_.empty() ? std::nullopt : std::optional(Clock::now());
    logger().info("imported " + std::to_string(n) + " events from " + topic() + "/" +
                  std::to_string(partition()) + ", marked through offset " + std::to_string(last));
    mark_as_consumed(last);
  }

  std::unique_ptr<Database> db_;
  std::deque<Database::Row> buffer_;
  std::optional<Clock::time_point> oldest_;
};

}  // namespace

int main(int argc, char** argv) {
  samsa::App app;
  app.setup([](samsa::Settings& config) {
    config.client_id = "buffered_import";
    config.automatically_mark_as_consumed = false;
    config.tick_interval = std::chrono::milliseconds(500);
  });
  // Drawn after run() parsed the command line: options.dead_letter_topic is --dead-letter-topic's.
  app.routes([](samsa::Routes& routes) {
    routes.consumer_group("events", [](samsa::ConsumerGroupRoute& group) {
      group.automatically_mark_as_consumed(false);
      auto& events = group.topic("user_events").consumer<EventsConsumer>().partitions(4);
      if (!options.dead_letter_topic.empty())
        events.dead_letter_queue({.topic = options.dead_letter_topic, .max_retries = options.max_retries});
    });
  });
  app.option("--db", options.db, "SQLite database file");
  app.option("--flush-size", options.flush_size, "Import in batches of this many events");
  app.option("--flush-interval", options.flush_interval_ms,
             "Import a partial batch once its oldest event waited this many milliseconds");
  app.option("--busy-timeout", options.busy_timeout_ms,
             "Milliseconds an import waits for a database locked by another connection");
  app.option("--dead-letter-topic", options.dead_letter_topic,
             "Send an event that keeps failing (\"poison\": true) to this topic after --max-retries "
             "retries (default: none, it blocks its partition)");
  app.option("--max-retries", options.max_retries, "Retries of a failing event before its dead letter");
  return app.run(argc, argv);
}
