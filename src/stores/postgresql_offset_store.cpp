// PostgresqlOffsetStore and PostgresqlSession (samsa/postgresql_offset_store.hpp).
#include "samsa/postgresql_offset_store.hpp"

#include <spdlog/fmt/fmt.h>

#include <stdexcept>
#include <utility>

namespace samsa {
namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS samsa_offsets ("
    "consumer_group TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "
    "next_offset BIGINT NOT NULL, PRIMARY KEY (consumer_group, topic, partition))";

// "postgresql://user:secret@host:5432/db?password=x" -> "postgresql://host:5432/db?password=***",
// "host=h password=secret" -> "host=h password=***": logs never carry a password.
std::string redacted(std::string uri) {
  const auto scheme = uri.find("://");
  const auto at = uri.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme)
    uri = uri.substr(0, scheme + 3) + uri.substr(at + 1);
  for (std::size_t from = 0; (from = uri.find("password=", from)) != std::string::npos;) {
    from += 9;
    const auto end = uri.find_first_of(" &", from);
    uri.replace(from, (end == std::string::npos ? uri.size() : end) - from, "***");
  }
  return uri;
}

// Runs `fn`, turning libpqxx's failures (a broken connection, a refused statement, a commit
// whose outcome is unknown) into OffsetStoreError naming the database and the step.
template <class F>
auto guarded(const std::string& uri, const char* what, F&& fn) {
  try {
    return fn();
  } catch (const pqxx::failure& e) {
    throw OffsetStoreError(fmt::format("offset store {}: {}: {}", redacted(uri), what, e.what()));
  }
}

}  // namespace

PostgresqlSession::PostgresqlSession(std::string uri) : uri_(std::move(uri)) { connect(); }

PostgresqlSession::~PostgresqlSession() { rollback(); }

void PostgresqlSession::connect() {
  guarded(uri_, "connect", [&] { connection_ = std::make_unique<pqxx::connection>(uri_); });
}

pqxx::work& PostgresqlSession::work() {
  if (!work_) throw std::logic_error("PostgresqlSession::work(): no transaction is open (use it inside transaction())");
  return *work_;
}

void PostgresqlSession::begin() {
  // A connection that broke (the server restarted, a network cut) is opened again here.
  if (!connection_ || !connection_->is_open()) connect();
  guarded(uri_, "begin", [&] { work_ = std::make_unique<pqxx::work>(*connection_); });
}

bool PostgresqlSession::compare_and_set(const StoredPartition& key, std::optional<std::int64_t> expected,
                                        std::int64_t next) {
  return guarded(uri_, "write samsa_offsets", [&] {
    const pqxx::result r =
        expected ? work_->exec_params("UPDATE samsa_offsets SET next_offset = $4 WHERE consumer_group = $1 AND topic = $2 "
                                      "AND partition = $3 AND next_offset = $5",
                                      key.consumer_group, key.topic, key.partition, next, *expected)
                 : work_->exec_params("INSERT INTO samsa_offsets (consumer_group, topic, partition, next_offset) "
                                      "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                      key.consumer_group, key.topic, key.partition, next);
    return r.affected_rows() == 1;
  });
}

void PostgresqlSession::commit() {
  guarded(uri_, "commit", [&] {
    std::unique_ptr<pqxx::work> work = std::move(work_);
    work->commit();
  });
}

void PostgresqlSession::rollback() noexcept {
  if (!work_) return;
  try {
    work_->abort();
  } catch (...) {
    // The connection broke: the server rolls the transaction back itself.
  }
  work_.reset();
}

PostgresqlOffsetStore::PostgresqlOffsetStore(std::string uri) : uri_(std::move(uri)) {
  guarded(uri_, "create samsa_offsets", [&] {
    reader_ = std::make_unique<pqxx::connection>(uri_);
    pqxx::work w(*reader_);
    // CREATE TABLE IF NOT EXISTS is not safe against itself: two members starting at once
    // can both miss the table and one fails on the catalog's unique index. A lock for the
    // transaction serialises them.
    w.exec("SELECT pg_advisory_xact_lock(hashtext('samsa_offsets'))");
    w.exec(kCreateTable);
    w.commit();
  });
}

PostgresqlOffsetStore::~PostgresqlOffsetStore() = default;

std::optional<std::int64_t> PostgresqlOffsetStore::load(const StoredPartition& key) {
  std::lock_guard lock(mu_);
  return guarded(uri_, "read samsa_offsets", [&]() -> std::optional<std::int64_t> {
    try {
      if (!reader_ || !reader_->is_open()) reader_ = std::make_unique<pqxx::connection>(uri_);
      pqxx::read_transaction t(*reader_);
      const pqxx::result r = t.exec_params(
          "SELECT next_offset FROM samsa_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = $3",
          key.consumer_group, key.topic, key.partition);
      if (r.empty()) return std::nullopt;
      return r[0][0].as<std::int64_t>();
    } catch (const pqxx::broken_connection&) {
      reader_.reset();  // connected again at the next load
      throw;
    }
  });
}

std::unique_ptr<StoreSession> PostgresqlOffsetStore::open_session() { return std::make_unique<PostgresqlSession>(uri_); }

std::string PostgresqlOffsetStore::describe() const { return redacted(uri_); }

}  // namespace samsa
