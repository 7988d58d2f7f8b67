#pragma once
// Offsets kept in the sink's own database, in the same transaction as the output: the
// classic exactly-once answer for a sink outside Kafka (Kafka's documentation: "store the
// offset together with the output").
//
//   auto store = std::make_shared<samsa::SqliteOffsetStore>("events.db");
//   group.topic("user_events").consumer<Import>().offset_store(store);
//
//   void Import::consume() {
//     transaction([&](samsa::SqliteSession& db) {     // BEGIN IMMEDIATE on this partition's connection
//       for (const auto& m : messages()) insert(db.handle(), m);
//       mark_as_consumed(messages().last());          // written by the transaction, as a compare-and-set
//     });                                             // COMMIT; then Kafka's offset follows
//   }
//
// The rules (docs/exactly-once.md):
// - At assignment Samsa reads the partition's next offset from the store and fetches from
//   there, not from Kafka's committed offset. With nothing stored, Kafka's committed offset
//   (or initial_offset) applies, as without a store.
// - A mark inside transaction() is written by that transaction: the stored next offset
//   moves from the one this owner read (or last wrote) to the mark + 1, only if nobody moved
//   it meanwhile. If another owner did (a rebalance, a zombie), the transaction rolls back,
//   transaction() returns false, and the partition goes on from the store's offset.
// - After each commit of the database, Kafka's committed offset follows (lag, tools, the
//   status page), but a route with a store never starts from it.
// - A route with a store marks only inside transaction(): automatic marking is off for it,
//   and a mark outside a transaction throws std::logic_error.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace samsa {

/// Whose offset: the consumer group, the topic and the partition.
struct StoredPartition {
  std::string consumer_group;
  std::string topic;
  std::int32_t partition = 0;
};

/// The store could not be read or written (the database is away, locked past its timeout,
/// or refused the statement). At assignment the partition waits and tries again (nothing is
/// delivered from a guessed offset); inside transaction() it is a failure of consume()
/// (rolled back, then back-off and redelivery).
class OffsetStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One connection of a store, used by one partition's transactions (one at a time, from
/// the thread of the hook that runs them: a worker, or the listener for the poll hooks). Implementations give the user their native handle (see
/// SqliteSession).
class StoreSession {
 public:
  virtual ~StoreSession() = default;
  /// Opens a transaction. Throws OffsetStoreError.
  virtual void begin() = 0;
  /// Inside the open transaction: sets the next offset of `key` to `next` if the stored one
  /// is `expected` (std::nullopt: nothing stored yet). Returns false, writing nothing, when
  /// it is not. Throws OffsetStoreError.
  virtual bool compare_and_set(const StoredPartition& key, std::optional<std::int64_t> expected,
                               std::int64_t next) = 0;
  /// Commits the open transaction. Throws OffsetStoreError (then nothing is known to be
  /// committed: the caller rolls back, and the next compare-and-set tells).
  virtual void commit() = 0;
  /// Rolls the open transaction back, if one is open. Never throws.
  virtual void rollback() noexcept = 0;
};

/// Where a route keeps its offsets (TopicRoute::offset_store). Thread-safe: the listener
/// reads at assignment (and workers when a partition reads it again) while workers run
/// transactions on their own sessions.
class OffsetStore {
 public:
  virtual ~OffsetStore() = default;
  /// The next offset to consume stored for `key`; std::nullopt when none is. Throws
  /// OffsetStoreError when the store cannot answer.
  virtual std::optional<std::int64_t> load(const StoredPartition& key) = 0;
  /// A new connection for one partition's transactions. Throws OffsetStoreError.
  virtual std::unique_ptr<StoreSession> open_session() = 0;
  /// What the store is, for logs ("sqlite:events.db").
  virtual std::string describe() const = 0;
};

}  // namespace samsa
