// SqliteOffsetStore and SqliteSession (samsa/sqlite_offset_store.hpp).
#include "samsa/sqlite_offset_store.hpp"

#include <spdlog/fmt/fmt.h>
#include <sqlite3.h>

#include <utility>

namespace samsa {
namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS samsa_offsets ("
    "consumer_group TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "
    "next_offset INTEGER NOT NULL, PRIMARY KEY (consumer_group, topic, partition))";

[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what) {
  throw OffsetStoreError(fmt::format("offset store sqlite:{}: {}: {}", path, what,
                                     db ? sqlite3_errmsg(db) : "out of memory"));
}

// A prepared statement, finalized on every path.
struct Statement {
  sqlite3_stmt* s = nullptr;
  Statement(sqlite3* db, const std::string& path, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) fail(db, path, "prepare");
  }
  ~Statement() { sqlite3_finalize(s); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void bind_key(const StoredPartition& key) {
    sqlite3_bind_text(s, 1, key.consumer_group.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, key.topic.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 3, key.partition);
  }
};

}  // namespace

SqliteSession::SqliteSession(const std::string& path, std::chrono::milliseconds busy_timeout) : path_(path) {
  // sqlite3_open_v2 allocates a handle even when it fails: db_ owns it from the start, so
  // the destructor closes it on every path.
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    const std::string text = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw OffsetStoreError(fmt::format("offset store sqlite:{}: open: {} (check the path and its permissions)", path, text));
  }
  sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
  try {
    // WAL: readers (the listener's load at assignment) do not wait for the writers.
    exec("PRAGMA journal_mode=WAL");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteSession::~SqliteSession() {
  rollback();
  // _v2: statements the consumer left unfinalized do not keep the connection open (it
  // closes with the last of them).
  sqlite3_close_v2(db_);
}

void SqliteSession::exec(std::string_view sql) {
  char* error = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw OffsetStoreError(fmt::format("offset store sqlite:{}: {}: {}", path_, text.substr(0, 80), message));
  }
}

void SqliteSession::begin() {
  // IMMEDIATE takes the write lock now: a deferred transaction that reads first and writes
  // later can fail with SQLITE_BUSY at its first write however long the busy timeout is.
  exec("BEGIN IMMEDIATE");
  open_ = true;
}

bool SqliteSession::compare_and_set(const StoredPartition& key, std::optional<std::int64_t> expected,
                                    std::int64_t next) {
  if (expected) {
    Statement update(db_, path_,
                     "UPDATE samsa_offsets SET next_offset = ?4 "
                     "WHERE consumer_group = ?1 AND topic = ?2 AND partition = ?3 AND next_offset = ?5");
    update.bind_key(key);
    sqlite3_bind_int64(update.s, 4, next);
    sqlite3_bind_int64(update.s, 5, *expected);
    if (sqlite3_step(update.s) != SQLITE_DONE) fail(db_, path_, "update samsa_offsets");
  } else {
    Statement insert(db_, path_,
                     "INSERT INTO samsa_offsets (consumer_group, topic, partition, next_offset) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING");
    insert.bind_key(key);
    sqlite3_bind_int64(insert.s, 4, next);
    if (sqlite3_step(insert.s) != SQLITE_DONE) fail(db_, path_, "insert into samsa_offsets");
  }
  return sqlite3_changes(db_) == 1;
}

void SqliteSession::commit() {
  exec("COMMIT");
  open_ = false;
}

void SqliteSession::rollback() noexcept {
  if (!open_) return;
  open_ = false;
  // Fails only when SQLite already rolled back (some errors do): nothing is left open.
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

SqliteOffsetStore::SqliteOffsetStore(std::string path, std::chrono::milliseconds busy_timeout)
    : path_(std::move(path)), busy_timeout_(busy_timeout) {
  reader_ = std::make_unique<SqliteSession>(path_, busy_timeout_);
  reader_->exec(kCreateTable);
}

SqliteOffsetStore::~SqliteOffsetStore() = default;

std::optional<std::int64_t> SqliteOffsetStore::load(const StoredPartition& key) {
  std::lock_guard lock(mu_);
  sqlite3* db = reader_->handle();
  Statement select(db, path_,
                   "SELECT next_offset FROM samsa_offsets WHERE consumer_group = ?1 AND topic = ?2 AND partition = ?3");
  select.bind_key(key);
  const int rc = sqlite3_step(select.s);
  if (rc == SQLITE_ROW) return sqlite3_column_int64(select.s, 0);
  if (rc == SQLITE_DONE) return std::nullopt;
  fail(db, path_, fmt::format("read the offset of {}/{}", key.topic, key.partition));
}

std::unique_ptr<StoreSession> SqliteOffsetStore::open_session() {
  return std::make_unique<SqliteSession>(path_, busy_timeout_);
}

}  // namespace samsa
