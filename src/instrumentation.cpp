// Monitor (samsa/instrumentation.hpp): inline subscribers on the publishing thread, the
// others on the monitor's thread through a bounded queue.
#include "samsa/instrumentation.hpp"

namespace samsa {

const char* to_string(EventType type) {
  switch (type) {
    case EventType::poll: return "poll";
    case EventType::partitions_assigned: return "partitions_assigned";
    case EventType::partitions_revoked: return "partitions_revoked";
    case EventType::partitions_lost: return "partitions_lost";
    case EventType::batch_consumed: return "batch_consumed";
    case EventType::offsets_marked: return "offsets_marked";
    case EventType::hook_failed: return "hook_failed";
    case EventType::retry: return "retry";
    case EventType::offsets_committed: return "offsets_committed";
    case EventType::commit_failed: return "commit_failed";
    case EventType::partition_paused: return "partition_paused";
    case EventType::partition_resumed: return "partition_resumed";
    case EventType::dead_letter: return "dead_letter";
    case EventType::error: return "error";
    case EventType::statistics: return "statistics";
    case EventType::watermarks: return "watermarks";
    case EventType::group_described: return "group_described";
    case EventType::shutdown_started: return "shutdown_started";
    case EventType::shutdown_step: return "shutdown_step";
    case EventType::shutdown_finished: return "shutdown_finished";
  }
  return "unknown";
}

Monitor::~Monitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Monitor::subscribe(Listener listener) {
  async_.push_back(std::move(listener));
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void Monitor::subscribe_inline(Listener listener) { inline_.push_back(std::move(listener)); }

void Monitor::publish(const Event& event) const {
  const Event* e = &event;
  Event stamped;
  if (event.at == std::chrono::system_clock::time_point{}) {
    stamped = event;
    stamped.at = std::chrono::system_clock::now();
    e = &stamped;
  }
  for (const auto& l : inline_) {
    try {
      l(*e);
    } catch (...) {
    }
  }
  if (async_.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() + in_hand_ >= kQueueCapacity) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (e == &stamped)
      queue_.push_back(std::move(stamped));
    else
      queue_.push_back(event);
    ++published_;
    // The monitor's thread wakes by itself every kDeliveryInterval; woken here only when a
    // batch of events waits (a wake-up per event cost more than the subscribers' work).
    if (queue_.size() != kWakeAt) return;
  }
  cv_.notify_one();
}

bool Monitor::flush(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const std::uint64_t target = published_;
  if (delivered_ >= target) return true;
  ++flushing_;
  cv_.notify_one();
  const bool done = drained_cv_.wait_for(lock, timeout, [&] { return delivered_ >= target; });
  --flushing_;
  return done;
}

void Monitor::run() const {
  std::deque<Event> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, kDeliveryInterval,
                 [&] { return stop_ || queue_.size() >= kWakeAt || (flushing_ > 0 && !queue_.empty()); });
    if (queue_.empty()) {
      if (stop_) return;  // everything delivered
      continue;
    }
    batch.swap(queue_);
    in_hand_ = batch.size();
    lock.unlock();
    for (const Event& e : batch)
      for (const auto& l : async_) {
        try {
          l(e);
        } catch (...) {
        }
      }
    const std::size_t n = batch.size();
    batch.clear();
    lock.lock();
    in_hand_ = 0;
    delivered_ += n;
    drained_cv_.notify_all();
  }
}

}  // namespace samsa
