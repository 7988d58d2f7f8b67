// Partition (partition.hpp): the offsets of a route with an OffsetStore
// (samsa/offset_store.hpp, docs/exactly-once.md).
//
// - Assignment: the listener reads the store (load_stored) and assigns the partition at the
//   stored offset. When the store cannot answer, the partition is assigned as without a
//   store, but nothing is delivered until a read succeeded: the read is part of
//   initialized() (its failure is retried before each delivery, with the back-off), and a
//   stored offset then becomes a seek before the first delivery.
// - transaction(): begin, the consumer's body (its marks go to pending_mark_), a
//   compare-and-set of the stored next offset from stored_next_ to the highest mark + 1,
//   commit, and only then the mark into the tracker (Kafka's commit follows). The
//   compare-and-set failing means another owner wrote the store: rolled back, re-read, and
//   the partition seeks to the store's offset.
// - The dead-letter path marks the message it dispatched (or skipped) in a transaction of
//   its own (mark_in_store).
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <thread>

#include "runtime/listener.hpp"
#include "runtime/partition.hpp"

namespace samsa::runtime {

std::optional<std::int64_t> Partition::load_stored() {
  const std::optional<std::int64_t> next =
      route_.offset_store()->load(StoredPartition{listener_.name(), topic_, partition_});
  {
    std::lock_guard lock(mu_);
    stored_next_ = next;
    // At assignment nothing was delivered yet. Read late, delivery began at Kafka's
    // committed offset: a stored offset replaces it, so that a failure of initialized()
    // after this read rewinds there too.
    if (!tracker_.started() || next) restart_tracker_at_store();
  }
  stored_known_.store(true, std::memory_order_release);
  return next;
}

void Partition::restart_tracker_at_store() {
  tracker_ = OffsetTracker();
  assignment_start_ = OffsetTracker::kNone;
  if (!stored_next_) return;  // nothing stored: the first delivery starts it, as without a store
  // The store's offset is where this assignment starts (every rewind goes back to it, even
  // when the seek there is dropped by a failure), and Kafka's committed offset follows it,
  // also when the store is ahead (a member killed before its commit; the next owner has
  // nothing to deliver) or behind (a database restored from a backup): the housekeeping's
  // next store commits it.
  tracker_.start_at(*stored_next_);
  assignment_start_ = *stored_next_;
  if (*stored_next_ > 0) {
    tracker_.mark_through(*stored_next_ - 1);
    dirty_.store(true, std::memory_order_relaxed);
  }
}

void Partition::load_stored_before_delivery() {
  if (!has_store() || stored_known()) return;
  const std::optional<std::int64_t> next = load_stored();
  listener_.logger().info(at(next.value_or(-1)),
                          fmt::format("consumer group {}: {}/{}: the offset store {} answered: {}", listener_.name(), topic_,
                                      partition_, route_.offset_store()->describe(),
                                      next ? fmt::format("going on from offset {}", *next)
                                           : std::string("nothing stored, Kafka's committed offset applies")));
  // Assigned without it, the partition fetched from Kafka's committed offset.
  if (next) request_control(*next, false, std::chrono::milliseconds(0));
}

bool Partition::run_transaction(const std::function<void(StoreSession&)>& body) {
  if (!has_store())
    throw std::logic_error(fmt::format("{}/{}: transaction() needs a route with an offset store "
                                       "(TopicRoute::offset_store)",
                                       topic_, partition_));
  check_transaction_call();
  // Not ours any more, or this hook moved the partition (the store had moved, or the
  // consumer sought): what is in hand is not this owner's to write.
  if (!owned() || (control_ && !control_->pause)) return false;
  if (!session_) session_ = route_.offset_store()->open_session();
  return commit_to_store(&body, OffsetTracker::kNone);
}

bool Partition::commit_to_store(const std::function<void(StoreSession&)>* body, std::int64_t mark_offset) {
  StoreSession& session = *session_;
  session.begin();
  // Every way out but the commit rolls back and drops the transaction's marks.
  struct Open {
    Partition& p;
    bool committed = false;
    ~Open() {
      if (!committed) p.session_->rollback();
      p.transaction_thread_.store(std::thread::id(), std::memory_order_release);
      std::lock_guard lock(p.mu_);
      p.pending_mark_ = OffsetTracker::kNone;
    }
  } open{*this};
  {
    std::lock_guard lock(mu_);
    pending_mark_ = mark_offset;
  }
  transaction_thread_.store(std::this_thread::get_id(), std::memory_order_release);
  if (body) (*body)(session);
  std::int64_t mark = OffsetTracker::kNone;
  std::optional<std::int64_t> expected;
  {
    std::lock_guard lock(mu_);
    mark = pending_mark_;
    expected = stored_next_;
  }
  const StoredPartition key{listener_.name(), topic_, partition_};
  if (mark != OffsetTracker::kNone && expected && mark + 1 <= *expected) {
    // Its marks are of messages the store holds as done already (a backward seek of the
    // consumer): committing its output would write them twice.
    listener_.logger().warn(at(mark), fmt::format(
        "consumer group {}: {}/{}: a transaction marked offset {}, which the offset store {} holds as done "
        "(next {}); rolled back: its output would be written twice",
        listener_.name(), topic_, partition_, mark, route_.offset_store()->describe(), *expected));
    return false;
  }
  const bool writes = mark != OffsetTracker::kNone;
  if (writes && !session.compare_and_set(key, expected, mark + 1)) {
    session.rollback();
    const std::optional<std::int64_t> now = route_.offset_store()->load(key);
    {
      std::lock_guard lock(mu_);
      stored_next_ = now;
    }
    const std::string was = expected ? std::to_string(*expected) : std::string("nothing");
    if (!now)
      throw OffsetStoreError(fmt::format(
          "{}/{}: the offset store {} no longer holds this partition's offset (expected {}); nothing was written, "
          "the batch is delivered again from its first unmarked message",
          topic_, partition_, route_.offset_store()->describe(), was));
    listener_.logger().warn(at(mark), fmt::format(
        "consumer group {}: {}/{}: the offset store {} holds {} where this owner expected {}: another owner "
        "wrote it (a rebalance, or this process was a zombie); rolled back, going on from the store's offset",
        listener_.name(), topic_, partition_, route_.offset_store()->describe(), *now, was));
    if (owned() && request_control(*now, false, std::chrono::milliseconds(0))) {
      // The store is the truth, also below where this assignment began: the tracker starts
      // again at the store's offset (its marks came from committed transactions, so
      // nothing the store holds is lost with them).
      std::lock_guard lock(mu_);
      restart_tracker_at_store();
    }
    return false;
  }
  session.commit();
  open.committed = true;
  if (!writes) return true;
  std::lock_guard lock(mu_);
  stored_next_ = mark + 1;
  apply_mark(mark);  // checked when it was made (mark_checked); Kafka's commit follows
  return true;
}

bool Partition::mark_in_store(std::int64_t offset) {
  try {
    if (!session_) session_ = route_.offset_store()->open_session();
    if (commit_to_store(nullptr, offset)) return true;
  } catch (const std::exception& e) {
    listener_.logger().error(at(offset), fmt::format(
        "consumer group {}: {}/{}: the offset store {} did not take the dead-letter mark of offset {}: {}; nothing "
        "is marked, the partition retries after its back-off (the message may be dispatched again)",
        listener_.name(), topic_, partition_, route_.offset_store()->describe(), offset, e.what()));
  }
  return false;
}

}  // namespace samsa::runtime
