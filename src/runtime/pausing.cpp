#include "runtime/pausing.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <utility>

namespace samsa::runtime {

using std::chrono::milliseconds;

Pausing::Pausing(kafka::ConsumerClient& client, const Settings& settings, std::int64_t budget,
                 const std::string& group, Logger& logger, const Monitor& monitor)
    : client_(client),
      settings_(settings),
      budget_(static_cast<std::size_t>(std::max<std::int64_t>(budget, 1))),
      group_(group),
      logger_(logger),
      monitor_(monitor) {}

void Pausing::queued(Partition& p, std::size_t bytes) {
  queued_bytes_ += bytes;
  // Per message: pause_at() (never below queue_max_messages) only once the queue is that long.
  if (!p.pause_state().flow_paused && p.queued() >= static_cast<std::size_t>(settings_.queue_max_messages) &&
      p.queued() >= pause_at(p))
    flow_pause(p);
}

std::size_t Pausing::pause_at(const Partition& p) const {
  const auto floor = static_cast<std::size_t>(settings_.queue_max_messages);
  if (settings_.queue_min_time.count() == 0) return floor;
  // Before its first batch ended the rate is unknown: the queue may fill up to the cap (the
  // group's budget still throttles), so the burst librdkafka prefetches at an
  // assignment does not pause a partition whose consumer would keep up.
  if (p.rate() == 0) return std::max(floor, kMaxPauseAt);
  const double work = p.rate() * std::chrono::duration<double>(settings_.queue_min_time).count();
  return std::max(floor, static_cast<std::size_t>(std::min(work, static_cast<double>(kMaxPauseAt))));
}

void Pausing::take_batch(Partition& p, std::size_t max) { p.take_batch(max, std::max<std::size_t>(budget_ / 4, 1)); }

void Pausing::drop_queue(Partition& p, std::int64_t rewound_to) { unqueued(p.drop_queue(rewound_to)); }

void Pausing::unqueued(std::size_t bytes) { queued_bytes_ -= bytes; }

void Pausing::release_batch(Partition& p) {
  const std::size_t bytes = p.clear_batch();
  if (!std::exchange(p.mutable_pause_state().batch_uncounted, false)) unqueued(bytes);
}

void Pausing::uncount(Partition& p) {
  if (!p.busy || p.pause_state().batch_uncounted) return;
  p.mutable_pause_state().batch_uncounted = true;
  unqueued(p.batch_bytes());
}

void Pausing::relieve(const std::vector<Partition*>& parts, Clock::time_point now) {
  // Throttling stops every partition's intake; one whose job hangs (or that waits, held)
  // would keep the group over its budget, and the others idle, until it returns. Such a
  // partition sheds its queue: paused, sought back to its first queued message, its queue
  // dropped (librdkafka drops its prefetch too; it costs only that partition a refetch
  // once it resumes), so the memory goes to the others.
  // First, the batches of jobs that have run a second or more stop counting: four hung
  // jobs, each at its quarter, would otherwise hold the whole budget until they return.
  for (Partition* p : parts)
    if (p->busy && now - p->job_started >= std::chrono::seconds(1)) uncount(*p);
  if (throttled() == false || parts.size() < 2) return;
  std::size_t queued = 0, holding = 0;
  for (const Partition* p : parts)
    if (p->queued() > 0) {
      queued += p->queued_bytes();
      ++holding;
    }
  if (holding == 0) return;
  const std::size_t share = queued / holding;
  for (Partition* p : parts) {
    if (p->queued() == 0 || p->queued_bytes() < share || p->leaving) continue;
    const bool stuck = p->held || (p->busy && now - p->job_started >= std::chrono::seconds(1));
    if (stuck) shed(*p);
  }
}

void Pausing::shed(Partition& p) {
  const PauseState& s = p.pause_state();
  if (!s.flow_paused) flow_pause(p);
  if (!s.flow_paused) return;  // the client refused the pause: the queue stays (counted)
  // Errors and the consumer's own pause rewind on their own; their queue is empty anyway
  // (a paused partition's messages are dropped).
  if (s.paused) return;
  const std::int64_t first = p.first_queued();
  const kafka::Status err = client_.seek(p.topic(), p.partition(), first, milliseconds(10000));
  if (err) {
    logger_.error(p.at(first), fmt::format("consumer group {}: {}/{}: seek to offset {} to shed its queue failed: {}; "
                                           "the queue stays",
                                           group_, p.topic(), p.partition(), first, err.text()));
    return;
  }
  const std::size_t count = p.queued();
  drop_queue(p, first);
  logger_.info(p.at(first), fmt::format("consumer group {}: {}/{}: its job has run for a second or more while the "
                                        "group's queues are full: {} queued messages dropped, fetched again from "
                                        "offset {} once it resumes",
                                        group_, p.topic(), p.partition(), count, first));
}

bool Pausing::client_pause(Partition& p, bool pause) {
  const kafka::Status err = pause ? client_.pause(p.topic(), p.partition()) : client_.resume(p.topic(), p.partition());
  if (err)
    logger_.error(p.at(-1), fmt::format("consumer group {}: {}/{}: {} failed: {}", group_, p.topic(), p.partition(),
                              pause ? "pause" : "resume", err.text()));
  return !err;
}

void Pausing::flow_pause(Partition& p) {
  // The client drops what it prefetched for the partition and, on resume, fetches again
  // after the last message it handed out (the end of this queue): nothing is skipped.
  // Refused: the client keeps fetching and the queue keeps growing (nothing is lost); it is
  // tried again with the next message.
  PauseState& s = p.mutable_pause_state();
  if (!s.paused && !client_pause(p, true)) return;
  s.flow_paused = true;
  flow_paused_.push_back(&p);
  publish(EventType::partition_paused, p, "back-pressure", p.last_queued() + 1, p.queued());
  if (logger_.level() <= LogLevel::debug)
    logger_.debug(p.at(p.last_queued() + 1), fmt::format("consumer group {}: {}/{} paused: {} messages queued ({} bytes in the group)", group_,
                              p.topic(), p.partition(), p.queued(), queued_bytes_));
}

void Pausing::resume_drained() {
  if (flow_paused_.empty()) return;
  auto keep = flow_paused_.begin();
  for (Partition* p : flow_paused_) {
    if (p->queued() > pause_at(*p) / 2 || throttled()) {
      *keep++ = p;
      continue;
    }
    PauseState& s = p->mutable_pause_state();
    s.flow_paused = false;
    // Paused after an error as well: its own resume comes after the back-off.
    if (!s.paused) client_pause(*p, false);
    publish(EventType::partition_resumed, *p, "back-pressure", p->last_queued() + 1, p->queued());
  }
  flow_paused_.erase(keep, flow_paused_.end());
}

std::int64_t Pausing::rewind_target(const Partition& p) {
  if (p.pause_state().resume_from != OffsetTracker::kNone) return p.pause_state().resume_from;
  const std::int64_t unmarked = p.first_unmarked();
  if (unmarked >= 0) return unmarked;
  return p.first_queued();
}

bool Pausing::rewind(Partition& p) {
  const std::int64_t target = rewind_target(p);
  if (target < 0) return true;  // nothing fetched: the client resumes where it was
  const kafka::Status err = client_.seek(p.topic(), p.partition(), target, milliseconds(10000));
  if (!err) {
    drop_queue(p, target);
    return true;
  }
  logger_.error(p.at(target), fmt::format("consumer group {}: {}/{}: rewind to offset {} failed: {}; the partition "
                            "stays paused and the rewind is tried again",
                            group_, p.topic(), p.partition(), target, err.text()));
  return false;
}

Pausing::Clock::time_point Pausing::pause_after_error(Partition& p) {
  PauseState& s = p.mutable_pause_state();
  if (!s.flow_paused && !s.paused) client_pause(p, true);
  // An error takes over from the consumer's own pause or seek: it resumes from its first
  // unmarked message (after a forward seek, the seek's position).
  s.consumer_paused = false;
  s.consumer_control = false;
  s.resume_from = OffsetTracker::kNone;
  // Pause, then seek: librdkafka drops what it fetched past the target (version barrier)
  // and resumes from the target; what this partition queued is dropped too. A partition
  // whose rewind failed is never resumed before the rewind succeeds, or the next mark would
  // cover the failed messages.
  const std::int64_t target = rewind_target(p);
  s.paused = true;  // from here on its fetched messages are dropped
  s.rewind_pending = !rewind(p);
  p.clear_failure();
  p.tick_due = false;
  // After a dead-letter dispatch the failed message is marked: go on at once.
  const auto backoff = p.take_skip_backoff() ? milliseconds(0) : p.settings().pause_for_attempt(p.attempt());
  s.resume_at = Clock::now() + backoff;
  logger_.warn(p.at(target), fmt::format("consumer group {}: {}/{} paused for {} ms, then resumes from offset {}", group_,
                           p.topic(), p.partition(), backoff.count(), target));
  publish(EventType::partition_paused, p, "error", target, 0);
  if (!monitor_.empty()) {
    Event e{EventType::retry, group_, {{p.topic(), p.partition(), target}}, 0, {}};
    e.attempt = p.attempt() + 1;
    e.duration = backoff;
    monitor_.publish(e);
  }
  return s.resume_at;
}

Pausing::Clock::time_point Pausing::pause_for_consumer(Partition& p, const Partition::Control& c) {
  PauseState& s = p.mutable_pause_state();
  if (!s.flow_paused && !s.paused) client_pause(p, true);
  s.paused = true;  // from here on its fetched messages are dropped
  s.consumer_paused = c.pause;
  s.consumer_control = true;
  if (c.pause) p.forget_resume_request();
  // Without a position (pause_consecutive before any delivery) the target is the first
  // queued message, or the first one dropped while paused (dropped_while_paused).
  s.resume_from = c.position;
  s.rewind_pending = !rewind(p);
  s.resume_at = Clock::now() + (c.pause ? c.pause_for : milliseconds(0));
  if (logger_.level() <= LogLevel::debug)
    logger_.debug(p.at(c.position), fmt::format("consumer group {}: {}/{}: the consumer {} (offset {})", group_, p.topic(), p.partition(),
                              c.pause ? fmt::format("paused it for {} ms", c.pause_for.count()) : std::string("sought"),
                              c.position));
  publish(EventType::partition_paused, p, "consumer", c.position, p.queued());
  return s.resume_at;
}

void Pausing::resume_due(const std::vector<Partition*>& parts, Clock::time_point now,
                         const std::function<void(Partition&)>& resumed) {
  for (Partition* p : parts) {
    PauseState& s = p->mutable_pause_state();
    if (!s.paused || now < s.resume_at) continue;
    // Seek again, also when the first seek succeeded: if the client refused the pause it
    // kept fetching, and what it fetched meanwhile was dropped here. Idempotent otherwise.
    s.rewind_pending = !rewind(*p);
    if (s.rewind_pending) {
      s.resume_at = now + p->settings().pause_for_attempt(p->attempt());
      continue;
    }
    s.paused = false;
    if (!s.flow_paused) client_pause(*p, false);
    const char* reason = s.consumer_control ? "consumer" : "error";
    const std::int64_t from = rewind_target(*p);
    s.consumer_paused = false;
    s.consumer_control = false;
    s.resume_from = OffsetTracker::kNone;
    if (reason[0] == 'e' || logger_.level() <= LogLevel::debug)
      logger_.write(reason[0] == 'e' ? LogLevel::info : LogLevel::debug,
                    fmt::format("consumer group {}: {}/{} resumed", group_, p->topic(), p->partition()));
    publish(EventType::partition_resumed, *p, reason, from, p->queued());
    resumed(*p);
  }
}

void Pausing::dropped_while_paused(Partition& p, std::int64_t offset) {
  if (rewind_target(p) == OffsetTracker::kNone) p.mutable_pause_state().resume_from = offset;
}

void Pausing::consumer_resumed(Partition& p, Clock::time_point now) {
  PauseState& s = p.mutable_pause_state();
  if (s.paused && s.consumer_paused) s.resume_at = now;
}

void Pausing::forget(const std::vector<Partition*>& parts) {
  flow_paused_.erase(std::remove_if(flow_paused_.begin(), flow_paused_.end(),
                                    [&](Partition* p) { return std::find(parts.begin(), parts.end(), p) != parts.end(); }),
                     flow_paused_.end());
  for (Partition* p : parts) drop_queue(*p, 0);
}

void Pausing::release(Partition& p) {
  if (p.pause_state().paused || p.pause_state().flow_paused) client_.resume(p.topic(), p.partition());
}

void Pausing::publish(EventType type, const Partition& p, const char* reason, std::int64_t offset,
                      std::size_t queued) const {
  if (monitor_.empty()) return;
  Event e{type, group_, {{p.topic(), p.partition(), offset}}, queued, {}};
  e.reason = reason;
  monitor_.publish(e);
}

}  // namespace samsa::runtime
