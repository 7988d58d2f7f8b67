#pragma once
// An OffsetStore in a PostgreSQL database, beside the tables the consumer writes
// (library samsa::postgresql, on libpqxx; samsa/offset_store.hpp has the rules).
//
// The table, created when missing:
//   CREATE TABLE samsa_offsets (consumer_group TEXT NOT NULL, topic TEXT NOT NULL,
//                               partition INTEGER NOT NULL, next_offset BIGINT NOT NULL,
//                               PRIMARY KEY (consumer_group, topic, partition))
//
// Each partition's transactions run on a connection of its own (PostgresqlSession), opened
// on its first transaction, opened again after it broke, and closed with the partition.
// The compare-and-set is one UPDATE (or INSERT ... ON CONFLICT DO NOTHING) of the
// partition's row, so two owners racing serialise on its row lock: the second sees the
// first's value and is refused.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "samsa/offset_store.hpp"

namespace samsa {

/// One partition's connection (StoreSession). Inside transaction(), run your statements on
/// work(): they commit or roll back with the offset. pqxx's exceptions from your statements
/// propagate (a failure of the hook, everything rolled back).
class PostgresqlSession final : public StoreSession {
 public:
  /// Connects to `uri` ("postgresql://user@host:port/db", or libpq's key=value form).
  /// Throws OffsetStoreError.
  explicit PostgresqlSession(std::string uri);
  ~PostgresqlSession() override;

  /// The open transaction (inside transaction() only; std::logic_error outside).
  pqxx::work& work();

  void begin() override;
  bool compare_and_set(const StoredPartition& key, std::optional<std::int64_t> expected, std::int64_t next) override;
  void commit() override;
  void rollback() noexcept override;

 private:
  void connect();
  std::string uri_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<pqxx::work> work_;
};

class PostgresqlOffsetStore final : public OffsetStore {
 public:
  /// Connects to `uri` and creates the samsa_offsets table when missing. Throws
  /// OffsetStoreError when it cannot.
  explicit PostgresqlOffsetStore(std::string uri);
  ~PostgresqlOffsetStore() override;

  std::optional<std::int64_t> load(const StoredPartition& key) override;
  std::unique_ptr<StoreSession> open_session() override;
  /// "postgresql://host:port/db": the URI without its user and password.
  std::string describe() const override;

 private:
  std::string uri_;
  std::mutex mu_;  // load() from the listeners of several groups
  std::unique_ptr<pqxx::connection> reader_;
};

}  // namespace samsa
