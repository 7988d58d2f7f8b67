#pragma once
// Where the fetching of a consumer group's partitions is paused, and why; and the queue
// accounting that decides it. Two reasons, independent of each other:
// - back-pressure: a partition whose queue holds queue_max_messages and queue_min_time of
//   its consumer's work is paused in the client (which keeps its position) and resumed
//   when its queue is down to half. Over the group's budget (its share of
//   max_buffered_bytes in all its queues, in real bytes) nothing is paused: the listener stops taking
//   messages from the client (throttled()), which keeps them in its own queue and stops
//   fetching at its own limits, with nothing dropped; only a partition that blocks the
//   group (at least an even share of the queued bytes, and a job running for a second or
//   held) is paused then, sought back to its first queued message and its queue dropped
//   (relieve()), so that what the group holds stays within its budget;
// - an error: a partition whose job or hook failed is paused, sought to its first unmarked
//   message (its queue dropped), and resumed after the back-off, only once a seek succeeded.
// The state is each Partition's PauseState (pause_state.hpp: paused, flow_paused,
// rewind_pending, resume_at, and the consumer's pause or seek), which the Partition holds
// privately and others read through Partition::pause_state(); this class is the only one
// that changes it.
//
// Listener thread only.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kafka/consumer_client.hpp"
#include "runtime/partition.hpp"
#include "samsa/instrumentation.hpp"
#include "samsa/logger.hpp"
#include "samsa/settings.hpp"

namespace samsa::runtime {

class Pausing {
 public:
  using Clock = std::chrono::steady_clock;
  /// `budget`: the bytes the group's queues may hold (BufferShare::queues).
  Pausing(kafka::ConsumerClient& client, const Settings& settings, std::int64_t budget, const std::string& group,
          Logger& logger, const Monitor& monitor);

  // --- Queue accounting ---
  /// After `p` queued a message costing `bytes` (Fetched::footprint): pauses `p` for
  /// back-pressure when its queue or the group's is full.
  void queued(Partition& p, std::size_t bytes);
  /// Moves a batch out of `p`'s queue (up to `max` messages, and a quarter of the group's
  /// budget: a hung job holds no more; Partition::take_batch). Its bytes count against the
  /// budget until release_batch().
  void take_batch(Partition& p, std::size_t max);
  /// `p`'s job ended (or never started): its batch is released (Partition::clear_batch).
  void release_batch(Partition& p);
  /// `p`'s job in flight stops counting against the budget (once): a job that hangs must
  /// not keep the group throttled (relieve() does this after a second over the budget; a
  /// revocation for the job it abandons). Its bytes are still held until it ends.
  void uncount(Partition& p);
  /// Drops `p`'s queue (unhandled, delivered again); `rewound_to` as Partition::drop_queue.
  void drop_queue(Partition& p, std::int64_t rewound_to);

  // --- Back-pressure ---
  /// Resumes the partitions paused for back-pressure whose queue drained to half (and that
  /// the group's budget can take back).
  void resume_drained();
  /// The group's queues hold its budget: take no message from the client until a job has
  /// taken some. O(1): asked for every drain.
  bool throttled() const { return queued_bytes_ >= budget_; }
  /// The group's budget, in bytes.
  std::size_t budget() const { return budget_; }
  /// What the group's queues may take before throttled() (0 when throttled).
  std::size_t headroom() const { return throttled() ? 0 : budget_ - queued_bytes_; }
  /// Throttled: the jobs of `parts` in flight for a second or more stop counting
  /// (uncount()); and when there are other partitions to go on, those that block the group
  /// (at least an even share of the queued bytes, and a job in flight for a second or more,
  /// or held) shed their queues (shed()). A single partition keeps its queue: the memory
  /// would go to nobody, and its refetch would cost a stall.
  void relieve(const std::vector<Partition*>& parts, Clock::time_point now);

  // --- Errors ---
  /// `p`'s job or hook failed: pauses it, seeks it to its first unmarked message and sets
  /// its resume_at after the back-off (returned).
  Clock::time_point pause_after_error(Partition& p);
  /// Resumes each partition of `parts` whose back-off passed, after a seek to its first
  /// unmarked message succeeded (a failed seek retries after another back-off). Calls
  /// `resumed` for each one resumed.
  void resume_due(const std::vector<Partition*>& parts, Clock::time_point now,
                  const std::function<void(Partition&)>& resumed);

  // --- The consumer's own pause and seek ---
  /// `p`'s consumer asked for `c` in the hook that just ran: pauses `p`, seeks it to
  /// c.position (when set; its queue dropped) and sets its resume_at: now for a seek, after
  /// c.pause_for for a pause (returned). The resume goes through resume_due, like an
  /// error's, to the consumer's position. An error later takes over (its own target).
  Clock::time_point pause_for_consumer(Partition& p, const Partition::Control& c);

  /// The client handed out `offset` of `p` while `p` was paused (the message is dropped):
  /// when `p` has no rewind target yet (nothing delivered or queued), `offset` becomes it,
  /// so the resume fetches it again instead of going on after it.
  void dropped_while_paused(Partition& p, std::int64_t offset);
  /// The consumer called resume() (Partition::take_resume_request): when `p` is paused by
  /// its consumer, that pause ends at `now` (resume_due resumes it); else nothing.
  void consumer_resumed(Partition& p, Clock::time_point now);

  // --- Revocation ---
  /// `parts` are being revoked: their queues are dropped and they leave the back-pressure
  /// list.
  void forget(const std::vector<Partition*>& parts);
  /// Undoes this class's pause of `p` in the client (the client keeps a pause across
  /// assignments).
  void release(Partition& p);

 private:
  /// Pauses or resumes `p` in the client; false (logged) when refused.
  bool client_pause(Partition& p, bool pause);
  /// The queue length at which `p` pauses: queue_max_messages, or queue_min_time of its
  /// consumer's work when that is more (capped at kMaxPauseAt; the cap before its first
  /// batch ended).
  std::size_t pause_at(const Partition& p) const;
  static constexpr std::size_t kMaxPauseAt = 1000000;
  /// `bytes` of a queue left it (into a batch, or dropped).
  void unqueued(std::size_t bytes);
  /// Pauses `p` for back-pressure, seeks it to its first queued message and drops its
  /// queue (fetched again once it resumes); a refused pause or seek keeps the queue
  /// (logged).
  void shed(Partition& p);
  void flow_pause(Partition& p);
  /// Seeks `p` to rewind_target(); false (logged) when the client refused.
  bool rewind(Partition& p);
  /// Where `p` resumes: where its consumer sought or paused to (resume_from), else its
  /// first unmarked offset, or before any delivery the first queued message's (kNone:
  /// nothing fetched, nothing to rewind).
  static std::int64_t rewind_target(const Partition& p);
  void publish(EventType type, const Partition& p, const char* reason, std::int64_t offset,
               std::size_t queued) const;

  kafka::ConsumerClient& client_;
  const Settings& settings_;
  const std::size_t budget_;  // bytes, the group's queues
  const std::string& group_;
  Logger& logger_;
  const Monitor& monitor_;
  std::vector<Partition*> flow_paused_;  // paused for back-pressure
  // Bytes (Fetched::footprint) the group holds: in its partitions' queues and in their
  // jobs' batches. Every change of a queue or a batch goes through this class.
  std::size_t queued_bytes_ = 0;
};

}  // namespace samsa::runtime
