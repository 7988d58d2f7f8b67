// exactly_once_import: buffered_import's import, with its offsets in the database.
//
// The same topic (`user_events`), consumer group (`events`), command line and table
// (`events`: one row per event with its partition and offset) as buffered_import, but the
// consumed offsets live in the same database, in table samsa_offsets, written by the
// same transaction as the rows: an SQLite file (--db FILE, samsa::SqliteOffsetStore) or
// PostgreSQL (--db postgresql://..., samsa::PostgresqlOffsetStore). So a SIGKILL at any moment, a
// rebalance or a zombie member never imports an event twice: the rows and the offset that
// says they are done commit together, and every partition starts from the stored offset.
// Kafka's committed offset follows each commit of the database (lag, `samsa offsets`).
//
// Each batch (up to max_messages events) is one transaction: no buffer is needed, since a
// batch that fails leaves neither rows nor an offset behind. An event with "poison": true
// can never be imported: consume() imports the events before it and throws; with
// --dead-letter-topic Samsa sends it there after --max-retries retries and marks it in the
// database (a transaction of its own), and the partition goes on.
//
//   exactly_once_import server --brokers 127.0.0.1:9092 --db events.db|postgresql://... [--busy-timeout MS]
//                              [--dead-letter-topic user_events_dlq [--max-retries 3]]
#include <samsa/postgresql_offset_store.hpp>
#include <samsa/samsa.hpp>
#include <samsa/sqlite_offset_store.hpp>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

struct Options {
  std::string db = "events.db";
  int busy_timeout_ms = 30000;
  std::string dead_letter_topic;  // empty: no dead-letter queue, a poison event blocks its partition
  int max_retries = 3;
} options;

// What consume() throws for a poison event (the error_class header of its dead letter).
class PoisonEvent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class EventsConsumer : public samsa::Consumer {
 public:
  void consume() override {
    // A bad event (not JSON, no "id") throws while its batch is read, before anything is
    // written: the partition is retried with back-off from its first unmarked message.
    const samsa::Messages& batch = messages();
    std::size_t good = 0;
    for (const auto& m : batch) {
      m.payload().at("id").get<std::int64_t>();
      if (m.payload().value("poison", false)) break;
      ++good;
    }
    if (good > 0) {
      // The rows and the offset after the last of them, in one transaction of this
      // partition's connection. False: another member wrote this partition's offset (a
      // rebalance, or this process is a zombie); nothing was written, and Samsa goes on
      // from the stored offset.
      const bool committed = transaction([&](samsa::StoreSession& session) {
        if (auto* pg = dynamic_cast<samsa::PostgresqlSession*>(&session))
          insert(pg->work(), batch, good);
        else
          insert(dynamic_cast<samsa::SqliteSession&>(session), batch, good);
        mark_as_consumed(batch[good - 1]);
      });
      if (!committed) return;
    }
    if (good < batch.size()) {
      const auto& poison = batch[good];
      throw PoisonEvent("poison event " + std::to_string(poison.payload().at("id").get<std::int64_t>()) +
                        " at offset " + std::to_string(poison.offset()));
    }
  }

 private:
  void insert(samsa::SqliteSession& db, const samsa::Messages& batch, std::size_t n) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.handle(), "INSERT INTO events VALUES (?, ?, ?, ?, ?)", -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db.handle()));
    for (std::size_t i = 0; i < n; ++i) {
      const samsa::Message& m = batch[i];
      const std::string payload(m.raw_payload());
      sqlite3_bind_int64(st, 1, m.payload().at("id").get<std::int64_t>());
      sqlite3_bind_text(st, 2, topic().c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int(st, 3, m.partition());
      sqlite3_bind_int64(st, 4, m.offset());
      sqlite3_bind_text(st, 5, payload.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) != SQLITE_DONE) {
        const std::string error = sqlite3_errmsg(db.handle());
        sqlite3_finalize(st);
        throw std::runtime_error("sqlite: " + error);  // transaction() rolls back
      }
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    imported(batch, n);
  }

  void insert(pqxx::work& work, const samsa::Messages& batch, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const samsa::Message& m = batch[i];
      work.exec_params("INSERT INTO events VALUES ($1, $2, $3, $4, $5)", m.payload().at("id").get<std::int64_t>(),
                       topic(), m.partition(), m.offset(), std::string(m.raw_payload()));
    }
    imported(batch, n);
  }

  void imported(const samsa::Messages& batch, std::size_t n) {
    logger().info("imported " + std::to_string(n) + " events from " + topic() + "/" + std::to_string(partition()) +
                  " through offset " + std::to_string(batch[n - 1].offset()));
  }
};

// The offset store on --db, with the events table; creates both tables when missing.
// Throws SettingsError (exit 2) when the database cannot be opened.
std::shared_ptr<samsa::OffsetStore> open_store() {
  try {
    if (options.db.rfind("postgresql://", 0) == 0 || options.db.rfind("postgres://", 0) == 0) {
      auto store = std::make_shared<samsa::PostgresqlOffsetStore>(options.db);
      samsa::PostgresqlSession session(options.db);
      session.begin();
      session.work().exec("CREATE TABLE IF NOT EXISTS events (id BIGINT, topic TEXT, partition INTEGER, "
                          "\"offset\" BIGINT, payload TEXT)");
      session.commit();
      return store;
    }
    const std::chrono::milliseconds busy(options.busy_timeout_ms);
    auto store = std::make_shared<samsa::SqliteOffsetStore>(options.db, busy);
    samsa::SqliteSession(options.db, busy)
        .exec("CREATE TABLE IF NOT EXISTS events (id INTEGER, topic TEXT, partition INTEGER, "
              "offset INTEGER, payload TEXT)");
    return store;
  } catch (const std::exception& e) {
    throw samsa::SettingsError(std::string("exactly_once_import: ") + e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Only `server` opens the database (`info` and `topics` do not need it).
  const bool serving = argc > 1 && std::string_view(argv[1]) == "server";
  samsa::App app;
  app.setup([](samsa::Settings& config) { config.client_id = "exactly_once_import"; });
  // Drawn after run() parsed the command line: options holds --db, --dead-letter-topic...
  app.routes([&](samsa::Routes& routes) {
    std::shared_ptr<samsa::OffsetStore> store = serving ? open_store() : nullptr;
    routes.consumer_group("events", [&](samsa::ConsumerGroupRoute& group) {
      auto& events = group.topic("user_events").consumer<EventsConsumer>().partitions(4);
      if (store) events.offset_store(store);
      if (!options.dead_letter_topic.empty())
        events.dead_letter_queue({.topic = options.dead_letter_topic, .max_retries = options.max_retries});
    });
  });
  app.option("--db", options.db,
             "The events and their offsets: an SQLite file, or a PostgreSQL URI (postgresql://user@host:port/db)");
  app.option("--busy-timeout", options.busy_timeout_ms,
             "Milliseconds a transaction waits for a database locked by another connection");
  app.option("--dead-letter-topic", options.dead_letter_topic,
             "Send an event that keeps failing (\"poison\": true) to this topic after --max-retries "
             "retries (default: none, it blocks its partition)");
  app.option("--max-retries", options.max_retries, "Retries of a failing event before its dead letter");
  return app.run(argc, argv);
}
