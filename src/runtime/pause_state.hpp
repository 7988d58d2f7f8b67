#pragma once
// Where the fetching of one partition is paused, and why (see pausing.hpp). The Partition
// holds it privately and shows it through Partition::pause_state(); Pausing is the only
// class that changes it. Listener thread only.
#include <chrono>
#include <cstdint>

#include "samsa/offset_tracker.hpp"

namespace samsa::runtime {

struct PauseState {
  /// Paused after an error (back-off): fetched messages are dropped until it resumes from
  /// its first unmarked message.
  bool paused = false;
  /// Paused because its queue (or the group's) is full: fetched messages are kept.
  bool flow_paused = false;
  /// The seek to the first unmarked offset failed: stay paused until it succeeds.
  bool rewind_pending = false;
  /// When a paused partition resumes (Pausing::resume_due), at the earliest.
  std::chrono::steady_clock::time_point resume_at{};
  /// Paused by the consumer (pause()), not after an error: its ticks still run (one may
  /// call resume()). Listener thread.
  bool consumer_paused = false;
  /// The pause in effect (paused) is the consumer's pause or seek, not an error's.
  bool consumer_control = false;
  /// Where the consumer's seek or pause resumes (kNone: the error path's target, the first
  /// unmarked message). Listener thread.
  std::int64_t resume_from = OffsetTracker::kNone;
  /// The batch of its job in flight no longer counts against the group's budget: the job
  /// ran a second or more while the group was over it, or was abandoned (Pausing::uncount).
  bool batch_uncounted = false;
};

}  // namespace samsa::runtime
