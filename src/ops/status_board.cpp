#include "ops/status_board.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

namespace samsa::ops {

PartitionStatus& StatusBoard::part(const std::string& group, const std::string& topic, std::int32_t partition) {
  GroupStatus& g = groups_[group];
  g.name = group;
  PartitionStatus& p = g.partitions[{topic, partition}];
  p.topic = topic;
  p.partition = partition;
  return p;
}

void StatusBoard::raise(std::vector<Warning>& out, Warning w) {
  ++warning_counts_[w.kind];
  warnings_.push_back(w);
  while (warnings_.size() > kRecentWarnings) warnings_.pop_front();
  out.push_back(std::move(w));
}

void StatusBoard::committed(const std::string& group, const TopicPartitionOffset& o, SystemClock::time_point at,
                            SystemClock::time_point known_before, std::vector<Warning>& out) {
  if (o.offset < 0) return;
  PartitionStatus& p = part(group, o.topic, o.partition);
  if (p.committed >= 0 && o.offset < p.committed) {
    // A reading that began before the higher offset was confirmed is merely stale.
    if (p.committed_at >= known_before) return;
    if (!p.went_backwards)
      raise(out, {at, "committed_backwards", group, o.topic, o.partition,
                  fmt::format("consumer group {}: the committed offset of {}/{} went backwards, from {} to {}: "
                              "another member, a zombie process or an offset reset moved it; messages from {} "
                              "on are delivered again",
                              group, o.topic, o.partition, p.committed, o.offset, o.offset)});
    p.went_backwards = true;
  } else if (o.offset > p.committed) {
    p.went_backwards = false;
  }
  p.committed = o.offset;
  p.committed_at = std::max(p.committed_at, at);
}

std::vector<Warning> StatusBoard::apply(const Event& e, SteadyClock::time_point now) {
  std::vector<Warning> out;
  std::lock_guard lock(mu_);
  auto record = [&](const char* kind) {
    GroupStatus& g = groups_[e.consumer_group];
    g.name = e.consumer_group;
    ++g.rebalance_count;
    g.rebalances.push_back({e.at, kind, e.offsets, e.duration});
    while (g.rebalances.size() > kRecentRebalances) g.rebalances.pop_front();
  };
  switch (e.type) {
    case EventType::partitions_assigned:
      record("assigned");
      for (const auto& o : e.offsets) {
        PartitionStatus& p = part(e.consumer_group, o.topic, o.partition);
        p.assigned = true;
        p.paused = false;
        p.pause_reason.clear();
        p.attempt = 0;
        p.stuck = false;
        p.lag_growth = 0;
        p.last_paused_lag = -1;
        p.last_progress = now;
      }
      break;
    case EventType::partitions_revoked:
    case EventType::partitions_lost:
      record(e.type == EventType::partitions_lost ? "lost" : "revoked");
      for (const auto& o : e.offsets) {
        PartitionStatus& p = part(e.consumer_group, o.topic, o.partition);
        p.assigned = false;
        p.paused = false;
      }
      break;
    case EventType::batch_consumed:
      for (const auto& o : e.offsets) {
        PartitionStatus& p = part(e.consumer_group, o.topic, o.partition);
        p.consumed = std::max(p.consumed, (e.last_offset >= 0 ? e.last_offset : o.offset) + 1);
        p.messages += e.count;
        p.bytes += e.bytes;
        p.last_progress = now;
        p.attempt = 0;
        p.stuck = false;
      }
      break;
    case EventType::offsets_marked:
      for (const auto& o : e.offsets) part(e.consumer_group, o.topic, o.partition).marked = o.offset;
      break;
    case EventType::offsets_committed:
      for (const auto& o : e.offsets) committed(e.consumer_group, o, e.at, e.at, out);
      break;
    case EventType::commit_failed:
    case EventType::error: {
      GroupStatus& g = groups_[e.consumer_group];
      g.name = e.consumer_group;
      g.last_error = (e.type == EventType::commit_failed ? "commit failed: " : "") + e.error;
      g.last_error_at = e.at;
      break;
    }
    case EventType::hook_failed:
      for (const auto& o : e.offsets) {
        PartitionStatus& p = part(e.consumer_group, o.topic, o.partition);
        if (e.attempt > 0) p.attempt = e.attempt;
        p.last_error = e.hook + ": " + e.error;
        p.last_error_at = e.at;
      }
      break;
    case EventType::partition_paused:
      for (const auto& o : e.offsets) {
        PartitionStatus& p = part(e.consumer_group, o.topic, o.partition);
        p.paused = true;
        p.pause_reason = e.reason;
      }
      break;
    case EventType::partition_resumed:
      for (const auto& o : e.offsets) {
        PartitionStatus& p = part(e.consumer_group, o.topic, o.partition);
        p.paused = false;
        p.pause_reason.clear();
        p.lag_growth = 0;
        p.last_paused_lag = -1;
        p.lag_growing = false;
        p.last_progress = now;  // the time it waited paused is not the consumer's
      }
      break;
    case EventType::watermarks:
      for (std::size_t i = 0; i < e.offsets.size(); ++i) {
        const auto& o = e.offsets[i];
        if (i < e.committed.size()) committed(e.consumer_group, {o.topic, o.partition, e.committed[i]}, e.at, e.at, out);
        PartitionStatus& p = part(e.consumer_group, o.topic, o.partition);
        p.high_watermark = o.offset;
        const std::int64_t lag = p.lag();
        if (!p.paused || lag < 0) {
          p.lag_growth = 0;
          p.last_paused_lag = -1;
          p.lag_growing = false;
          continue;
        }
        // A reading with no new message in between changes nothing; a smaller lag (the
        // consumer's pause ended, or it committed) starts the count again.
        if (p.last_paused_lag >= 0) {
          if (lag > p.last_paused_lag) ++p.lag_growth;
          if (lag < p.last_paused_lag) p.lag_growth = 0;
        }
        p.last_paused_lag = lag;
        if (p.lag_growth < kLagGrowthReadings) {
          p.lag_growing = false;
          continue;
        }
        if (!p.lag_growing)
          raise(out, {e.at, "paused_lag_growing", e.consumer_group, o.topic, o.partition,
                      fmt::format("consumer group {}: {}/{} is paused ({}) and its lag has grown at {} readings since "
                                  "the pause, to {}: it falls behind while it waits",
                                  e.consumer_group, o.topic, o.partition, p.pause_reason, p.lag_growth, lag)});
        p.lag_growing = true;
      }
      break;
    case EventType::group_described: {
      GroupStatus& g = groups_[e.consumer_group];
      g.name = e.consumer_group;
      g.described_at = e.at;
      g.members_error = e.error;
      // Unknown is not empty: a failed reading keeps no stale members nor state.
      g.group_state = e.error.empty() ? e.reason : std::string();
      g.members = e.error.empty() ? e.members : std::vector<GroupMember>{};
      break;
    }
    case EventType::shutdown_started:
      stopping_ = true;
      break;
    default:
      break;
  }
  return out;
}

std::vector<Warning> StatusBoard::check(SteadyClock::time_point now) {
  std::vector<Warning> out;
  std::lock_guard lock(mu_);
  if (stopping_) return out;
  for (auto& [name, g] : groups_)
    for (auto& [key, p] : g.partitions) {
      const std::int64_t position = std::max(p.consumed, p.committed);
      const bool waiting = p.assigned && !p.paused && p.high_watermark >= 0 && position >= 0 && p.high_watermark > position;
      const auto idle = now - p.last_progress;
      if (!waiting || idle < stuck_after_) {
        if (!waiting) p.stuck = false;
        continue;
      }
      if (!p.stuck)
        raise(out, {SystemClock::now(), "stuck_partition", name, p.topic, p.partition,
                    fmt::format("consumer group {}: {}/{} has {} messages waiting and has handled none for {} ms "
                                "(stuck_partition_after {} ms): its job is stuck or it is not fetched",
                                name, p.topic, p.partition, p.high_watermark - position,
                                std::chrono::duration_cast<std::chrono::milliseconds>(idle).count(),
                                stuck_after_.count())});
      p.stuck = true;
    }
  return out;
}

void StatusBoard::report(const Warning& w) {
  std::vector<Warning> ignored;
  std::lock_guard lock(mu_);
  raise(ignored, w);
}

std::vector<GroupStatus> StatusBoard::groups() const {
  std::lock_guard lock(mu_);
  std::vector<GroupStatus> out;
  for (const auto& [name, g] : groups_) out.push_back(g);
  return out;
}

std::vector<Warning> StatusBoard::warnings() const {
  std::lock_guard lock(mu_);
  return {warnings_.begin(), warnings_.end()};
}

std::map<std::string, std::uint64_t> StatusBoard::warning_counts() const {
  std::lock_guard lock(mu_);
  return warning_counts_;
}

bool StatusBoard::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

}  // namespace samsa::ops
