// Partition (partition.hpp): the offsets of a transactional consumer group, committed by
// Kafka transactions (docs/exactly-once.md, "Kafka transactions").
//
// - transaction(): on the calling worker's transactional producer (TransactionalProducers):
//   begin, the consumer's body (its produce() calls join the transaction, its marks go to
//   pending_mark_), send_offsets_to_transaction of the highest mark + 1 with the group's
//   metadata taken when the job started (job_group), commit. Only a committed transaction
//   moves the tracker, and it moves it as committed: Samsa stores and commits nothing else
//   for these partitions (the group's consumer does not auto-commit).
// - Errors, in librdkafka's classes (kafka::TxnStatus): a retriable one is retried within
//   the transaction's budget (a commit is resumed, never aborted: aborting a commit in
//   progress is refused and unsafe); an abortable one aborts, and is a false when the group
//   coordinator refused the offsets of a member that moved on (KIP-447), else a
//   TransactionError; a fatal one (fenced by another producer with the same id) destroys the
//   worker's producer, whose successor's init_transactions ends what it left open.
// - A commit whose outcome is unknown (fatal, or still retriable when the budget ran out):
//   the producer is replaced at once (its successor's init_transactions waits for the
//   commit or aborts it, so the outcome is settled), the hook fails, and before the next
//   delivery the partition reads the group's committed offset (read_committed: a stable
//   one) and goes on from there (resync_from_kafka), so that a transaction that did commit
//   is not redone and one that did not is.
// - The dead-letter path produces the dead letter and its offset in one transaction.
#include <spdlog/fmt/fmt.h>

#include <thread>

#include "runtime/listener.hpp"
#include "runtime/partition.hpp"
#include "runtime/transactional_producers.hpp"

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Kind = kafka::TxnStatus::Kind;

// How long one transaction may take to begin (a new producer's init_transactions) and to
// send its offsets and commit, retriable errors retried: within the 30 s transaction
// timeout Samsa sets, so the coordinator does not abort what is still being committed.
constexpr milliseconds kTransactionBudget{25000};
// How long an abort may take; past it the producer is replaced (its successor aborts).
constexpr milliseconds kAbortBudget{10000};
// How long the committed offset may take to read after an unknown outcome.
constexpr milliseconds kResyncBudget{10000};

milliseconds left(Clock::time_point deadline) {
  return std::max(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()), milliseconds(1));
}

// What body sees: the open transaction of the worker's producer.
class OpenTransaction final : public KafkaTransaction {
 public:
  explicit OpenTransaction(kafka::TransactionalProducer& producer) : producer_(producer) {}
  void produce(const OutgoingMessage& message) override {
    if (const kafka::TxnStatus s = producer_.produce(message, kTransactionBudget))
      throw TransactionError(fmt::format("transaction on {}: {}", producer_.id(), s.text), s.code, false);
  }
  const std::string& transactional_id() const override { return producer_.id(); }

 private:
  kafka::TransactionalProducer& producer_;
};

}  // namespace

bool Partition::run_kafka_transaction(const std::function<void(KafkaTransaction&)>& body) {
  if (!kafka_transactional_)
    throw std::logic_error(fmt::format(
        "{}/{}: transaction() with a KafkaTransaction needs a transactional consumer group "
        "(ConsumerGroupRoute::transactional(true) and the transactional_id setting)",
        topic_, partition_));
  check_transaction_call();
  if (!owned() || (control_ && !control_->pause)) return false;
  return commit_to_kafka(&body, nullptr, OffsetTracker::kNone);
}

bool Partition::commit_to_kafka(const std::function<void(KafkaTransaction&)>* body, const OutgoingMessage* produce,
                                std::int64_t mark_offset) {
  TransactionalProducers* producers = listener_.transactional_producers();
  if (!producers) throw std::logic_error("a transactional consumer group without transactional producers");
  // An earlier commit's outcome is unknown: where this partition stands comes first (a
  // transaction sent now would overwrite the committed offset it must be compared with).
  if (txn_resync_) {
    if (!resync_from_kafka())
      throw TransactionError(fmt::format("{}/{}: the committed offset is unknown since a transaction of unknown "
                                         "outcome and could not be read; nothing is committed until it is",
                                         topic_, partition_),
                             -1, true);
    if (control_) return false;  // it moved past the messages in hand
  }
  kafka::TransactionalProducer& producer = producers->mine(Clock::now() + kTransactionBudget);
  const std::string where = fmt::format("consumer group {}: {}/{}: transaction on {}", listener_.name(), topic_,
                                        partition_, producer.id());
  const auto fail = [&](const kafka::TxnStatus& s, const char* step) {
    return TransactionError(fmt::format("{}: {} failed: {}", where, step, s.text), s.code, s.kind == Kind::retriable);
  };
  if (const kafka::TxnStatus s = producer.begin()) {
    if (s.kind == Kind::fatal) producers->discard();
    throw fail(s, "begin_transaction");
  }
  // Every way out before the commit aborts and drops the transaction's marks; a producer
  // that cannot abort is replaced (its successor's initialisation aborts for it).
  struct Open {
    Partition& p;
    TransactionalProducers& producers;
    kafka::TransactionalProducer* producer;  // null once committed or discarded
    ~Open() {
      if (producer) {
        const kafka::TxnStatus s = producer->abort(kAbortBudget);
        if (s) {
          p.listener_.logger().warn(p.at(-1), fmt::format("consumer group {}: {}/{}: abort_transaction on {} failed: "
                                                          "{}; the producer is replaced",
                                                          p.listener_.name(), p.topic_, p.partition_, producer->id(),
                                                          s.text));
          producers.discard();
        }
      }
      p.transaction_thread_.store(std::thread::id(), std::memory_order_release);
      std::lock_guard lock(p.mu_);
      p.pending_mark_ = OffsetTracker::kNone;
    }
  } open{*this, *producers, &producer};
  {
    std::lock_guard lock(mu_);
    pending_mark_ = mark_offset;
  }
  transaction_thread_.store(std::this_thread::get_id(), std::memory_order_release);
  OpenTransaction tx(producer);
  if (body) (*body)(tx);
  if (produce) tx.produce(*produce);
  std::int64_t mark = OffsetTracker::kNone;
  {
    std::lock_guard lock(mu_);
    mark = pending_mark_;
  }
  // Given up meanwhile (a revocation that stopped waiting for this job): the next owner
  // reads from the committed offset; what this one produced must not appear.
  if (!owned()) return false;
  // The offsets and the commit get their own budget, whatever body took.
  const auto deadline = Clock::now() + kTransactionBudget;
  const auto lost = [&](const kafka::TxnStatus& s) {
    listener_.logger().warn(at(mark), fmt::format(
        "{}: the group coordinator refused the offsets ({}): this member's generation moved on, the partition may "
        "be another member's; aborted, nothing of it is visible{}",
        where, s.text, owned() ? "; still assigned here, it goes on from its first unmarked message" : ""));
    // Still ours (a rebalance that kept it moved the generation on): what was in hand
    // comes again, or the next transaction's mark would cover it unwritten.
    if (owned()) rewind_to(first_unmarked());
    return false;
  };
  if (mark != OffsetTracker::kNone) {
    for (;;) {
      const kafka::TxnStatus s = producer.send_offsets(topic_, partition_, mark + 1, job_group, left(deadline));
      if (!s) break;
      if (s.kind == Kind::retriable && Clock::now() < deadline) continue;  // the same arguments again
      if (s.kind == Kind::abortable && s.ownership_lost) return lost(s);
      if (s.kind == Kind::fatal) {
        open.producer = nullptr;  // nothing committed; the successor's init aborts it
        producers->discard();
      }
      throw fail(s, "send_offsets_to_transaction");
    }
  }
  for (;;) {
    const kafka::TxnStatus s = producer.commit(left(deadline));
    if (!s) break;
    if (s.kind == Kind::retriable && Clock::now() < deadline) continue;  // resumes the commit in progress
    if (s.kind == Kind::abortable) {
      if (s.ownership_lost) return lost(s);
      throw fail(s, "commit_transaction");
    }
    // Fatal, or no answer in time: the commit may have happened. A new producer with the
    // same id settles it (its init_transactions waits for the commit or aborts it), then
    // the committed offset says which.
    open.producer = nullptr;
    producers->discard();
    txn_resync_ = true;
    std::string settled;
    try {
      producers->mine(Clock::now() + kTransactionBudget);
      settled = "settled by a new producer with the same id";
    } catch (const std::exception& e) {
      settled = fmt::format("not settled yet ({})", e.what());
    }
    throw TransactionError(fmt::format("{}: commit_transaction failed: {}; the outcome is unknown ({}): the partition "
                                       "goes on from the group's committed offset",
                                       where, s.text, settled),
                           s.code, false);
  }
  open.producer = nullptr;
  if (mark == OffsetTracker::kNone) return true;
  std::lock_guard lock(mu_);
  apply_mark(mark);  // checked when it was made (mark_checked)
  // The transaction committed the offset: nothing to store or commit for it.
  tracker_.set_stored(mark + 1);
  tracker_.set_committed(mark + 1);
  return true;
}

bool Partition::dead_letter_in_kafka_transaction(std::int64_t offset, const OutgoingMessage* dead_letter) {
  try {
    if (commit_to_kafka(nullptr, dead_letter, offset)) return true;
  } catch (const std::exception& e) {
    listener_.logger().error(at(offset), fmt::format(
        "consumer group {}: {}/{}: the transaction of the dead letter of offset {} did not commit: {}; nothing is "
        "marked or dispatched, the partition retries after its back-off",
        listener_.name(), topic_, partition_, offset, e.what()));
  }
  return false;
}

bool Partition::resync_from_kafka() {
  std::vector<std::int64_t> offsets;
  const kafka::Status err = listener_.client().committed_offsets({{topic_, partition_}}, kResyncBudget, offsets);
  if (err || offsets.size() != 1) {
    listener_.logger().error(at(-1), fmt::format(
        "consumer group {}: {}/{}: after a transaction of unknown outcome, the committed offset could not be read: "
        "{}; nothing is delivered or committed until it is (retried after the back-off)",
        listener_.name(), topic_, partition_, err ? err.text() : std::string("no answer")));
    return false;
  }
  txn_resync_ = false;
  const std::int64_t committed = offsets[0];
  const std::int64_t before = first_unmarked();
  listener_.logger().warn(at(committed), fmt::format(
      "consumer group {}: {}/{}: after a transaction of unknown outcome the group's committed offset is {}: {}",
      listener_.name(), topic_, partition_, committed,
      committed > before ? "the transaction committed, going on from there" : "it did not, its messages come again"));
  if (committed <= before) return true;
  {
    std::lock_guard lock(mu_);
    tracker_.delivered(committed - 1);
    apply_mark(committed - 1);
    tracker_.set_stored(committed);
    tracker_.set_committed(committed);
  }
  rewind_to(committed);
  return true;
}

}  // namespace samsa::runtime
