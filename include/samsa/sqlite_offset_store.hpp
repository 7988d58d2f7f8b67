#pragma once
// An OffsetStore in an SQLite database file, beside the tables the consumer writes.
//
// The table, created when missing:
//   CREATE TABLE samsa_offsets (consumer_group TEXT NOT NULL, topic TEXT NOT NULL,
//                               partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
//                               PRIMARY KEY (consumer_group, topic, partition))
//
// Each partition's transactions run on a connection of its own (SqliteSession), opened on
// its first transaction and closed with the partition: SQLite serialises the writers
// (journal_mode WAL, BEGIN IMMEDIATE, a busy timeout). Include <sqlite3.h> to use the
// handle; this header does not.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "samsa/offset_store.hpp"

struct sqlite3;

namespace samsa {

/// One partition's connection to the database (StoreSession). Inside transaction(), run
/// your statements on handle(): they commit or roll back with the offset.
class SqliteSession final : public StoreSession {
 public:
  /// Opens `path` (created when missing) with `busy_timeout`. Throws OffsetStoreError.
  SqliteSession(const std::string& path, std::chrono::milliseconds busy_timeout);
  ~SqliteSession() override;
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;

  /// The connection: prepare, bind and step your own statements on it.
  sqlite3* handle() const { return db_; }
  /// Runs `sql` (statements without parameters). Throws OffsetStoreError naming the error.
  void exec(std::string_view sql);

  void begin() override;
  bool compare_and_set(const StoredPartition& key, std::optional<std::int64_t> expected, std::int64_t next) override;
  void commit() override;
  void rollback() noexcept override;

 private:
  sqlite3* db_ = nullptr;
  bool open_ = false;  // a transaction is open
  std::string path_;
};

class SqliteOffsetStore final : public OffsetStore {
 public:
  /// Opens (creates) the database at `path` and its samsa_offsets table. Throws
  /// OffsetStoreError when it cannot. `busy_timeout`: how long a statement waits for
  /// another connection's write lock before it fails (then the transaction is a failure of
  /// consume(), retried after the back-off).
  explicit SqliteOffsetStore(std::string path, std::chrono::milliseconds busy_timeout = std::chrono::seconds(30));
  ~SqliteOffsetStore() override;

  std::optional<std::int64_t> load(const StoredPartition& key) override;
  std::unique_ptr<StoreSession> open_session() override;
  std::string describe() const override { return "sqlite:" + path_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::chrono::milliseconds busy_timeout_;
  std::mutex mu_;  // load() from the listeners of several groups
  std::unique_ptr<SqliteSession> reader_;
};

}  // namespace samsa
