#pragma once
// The transactional producers of an app (Kafka transactions, docs/exactly-once.md): one per
// worker thread, "<transactional_id>-<n>" for worker n, made on the worker's first
// transaction and kept for the app's life. A worker runs one job at a time, so the
// transactions of a producer never overlap (librdkafka allows one open transaction per
// producer) and no worker waits for another's producer. With KIP-447 one producer may
// carry the offsets of any partition and any consumer group, so partitions are not tied to
// producers: the ids are stable per worker, not per partition.
//
// Threads: mine() and discard() touch only the calling worker's producer; the destructor
// runs once the pool's threads are gone.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kafka/transactional_producer.hpp"
#include "samsa/logger.hpp"
#include "samsa/settings.hpp"

namespace samsa::runtime {

class TransactionalProducers {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  /// Checks the producers' properties (throws SettingsError); makes none yet.
  TransactionalProducers(const Settings& settings, std::string brokers, Logger& logger, std::size_t workers);
  ~TransactionalProducers();

  /// The calling worker's producer, ready for begin(): made and initialised
  /// (init_transactions, retried until `deadline`) when it has none. Throws
  /// TransactionError when it cannot be initialised in time or is fenced at once (another
  /// running process with the same transactional_id), std::logic_error on a thread that is
  /// not a worker of the pool.
  kafka::TransactionalProducer& mine(Deadline deadline);
  /// Makes and initialises every worker's producer, before the workers run (serve()'s
  /// start, before the group is joined): their initialisation ends what a previous run of
  /// this process left open (a SIGKILL), which the group's new owners of those partitions
  /// would otherwise wait for (transaction.timeout.ms). A producer that cannot be made by
  /// `deadline` is logged and left to its worker's first transaction.
  void prepare(Deadline deadline);
  /// Drops the calling worker's producer after a fatal error; the next mine() makes a new
  /// one with the same transactional.id, whose initialisation ends (aborts, or waits for the
  /// commit of) whatever this one left open.
  void discard();

 private:
  int slot() const;
  std::unique_ptr<kafka::TransactionalProducer> make(int slot, Deadline deadline);
  const Settings& settings_;
  const std::string brokers_;
  Logger& logger_;
  // One per worker, each touched only by its worker.
  std::vector<std::unique_ptr<kafka::TransactionalProducer>> producers_;
};

}  // namespace samsa::runtime
