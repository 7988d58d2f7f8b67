#pragma once
// One librdkafka transactional producer (transactional.id), for Consumer::transaction with
// a KafkaTransaction (docs/exactly-once.md, "Kafka transactions"). The runtime keeps one per
// worker thread (runtime/transactional_producers.hpp); this class only speaks librdkafka's
// transaction API and classifies its errors once, into what the runtime decides on.
//
// Threads: one thread at a time (the worker that owns it); librdkafka refuses concurrent
// transactional calls anyway. Every call blocks at most its timeout.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "samsa/logger.hpp"
#include "samsa/producer.hpp"
#include "samsa/settings.hpp"

struct rd_kafka_consumer_group_metadata_s;

namespace samsa::kafka {

/// A consumer group's metadata (group id, member id, generation or KIP-848 member epoch,
/// group.instance.id) as the consumer had it at one moment: what a transaction's offset
/// commit carries so that the group coordinator refuses it from a member that moved on
/// (KIP-447). Null when the consumer has not joined yet.
using GroupMetadata = std::shared_ptr<rd_kafka_consumer_group_metadata_s>;

/// The outcome of a transactional call, in librdkafka's classes (rd_kafka_error_t).
struct TxnStatus {
  enum class Kind {
    ok,
    retriable,  ///< the same call may be made again (a timeout, a coordinator moving)
    abortable,  ///< the transaction must be aborted; the producer stays usable
    fatal,      ///< the producer is unusable: destroy it (fenced, or an unknown state)
  };
  Kind kind = Kind::ok;
  /// The group coordinator refused the transaction's offsets because the member's
  /// generation or epoch moved on (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
  /// FENCED_INSTANCE_ID): this member may no longer own the partition. Abortable.
  bool ownership_lost = false;
  /// Another producer with the same transactional.id took over (PRODUCER_FENCED,
  /// INVALID_PRODUCER_EPOCH). Fatal.
  bool fenced = false;
  int code = 0;      ///< librdkafka's rd_kafka_resp_err_t
  std::string text;  ///< its name and description
  explicit operator bool() const { return kind != Kind::ok; }
};

class TransactionalProducer {
 public:
  /// Builds the producer with `properties` (transactional.id among them); throws
  /// SettingsError for a bad property. Connects lazily: init() is the first round trip.
  TransactionalProducer(const std::map<std::string, std::string>& properties, Logger& logger);
  ~TransactionalProducer();
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  const std::string& id() const { return id_; }

  /// init_transactions: gets the producer id and epoch, and aborts (or waits for the
  /// commit of) what an earlier producer with this id left open, fencing it. Retriable
  /// on a timeout: call again.
  TxnStatus init(std::chrono::milliseconds timeout);
  TxnStatus begin();
  /// Queues `m` in the open transaction (copied). Waits for room while librdkafka's queue
  /// is full, `room_timeout` at most. A delivery failure shows at commit(), abortable.
  TxnStatus produce(const OutgoingMessage& m, std::chrono::milliseconds room_timeout);
  /// send_offsets_to_transaction of `next_offset` (the next offset to consume) of one
  /// partition, with `group`. Not resumable: a retriable failure is retried by calling
  /// again with the same arguments.
  TxnStatus send_offsets(const std::string& topic, std::int32_t partition, std::int64_t next_offset,
                         const GroupMetadata& group, std::chrono::milliseconds timeout);
  /// commit_transaction: flushes the messages, then ends the transaction. A retriable
  /// failure (a timeout) leaves the commit going on: call commit() again to resume it;
  /// never abort() then.
  TxnStatus commit(std::chrono::milliseconds timeout);
  TxnStatus abort(std::chrono::milliseconds timeout);

  struct Impl;  // librdkafka's handle and what its callbacks need (the .cpp's)

 private:
  std::string id_;
  std::unique_ptr<Impl> impl_;
};

/// The librdkafka properties of the transactional producer `<settings.transactional_id>-<slot>`:
/// the app producer's (settings.kafka, then settings.producer_kafka, then enable.idempotence
/// and client.id), `brokers` over bootstrap.servers when not empty, transactional.id,
/// transaction.timeout.ms 30000 and retry.backoff.ms 20 unless the user set them.
std::map<std::string, std::string> transactional_properties(const Settings& settings, const std::string& brokers,
                                                            int slot);
/// Checks those properties without connecting (throws SettingsError naming the problem).
void check_transactional_producer(const Settings& settings);

}  // namespace samsa::kafka
