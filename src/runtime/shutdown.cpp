// Listener (listener.hpp): the group's part of the graceful shutdown. Fetching stops, the
// jobs in flight finish while the poll keeps serving the group, before_stop() runs, the
// marks are committed (serving a rebalance that refuses the commit), and the member leaves.
// Listener thread, after the loop.
#include <spdlog/fmt/fmt.h>

#include "runtime/listener.hpp"
#include "samsa/exit_codes.hpp"

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

void Listener::note_unconfirmed(const std::vector<Partition*>& parts) {
  for (Partition* p : parts) {
    p->store();
    const std::int64_t offset = p->uncommitted().offset;
    if (offset < 0) continue;
    if (!unconfirmed_.empty()) unconfirmed_ += ' ';
    unconfirmed_ += fmt::format("{}/{}@{}", p->topic(), p->partition(), offset);
  }
}

void Listener::serve_rebalance_for(milliseconds duration) {
  // Polls only for the rebalance callbacks: a message that arrives meanwhile is dropped
  // unhandled and unmarked, so the next owner (or the next run) receives it.
  const auto until = Clock::now() + duration;
  for (auto left = duration; left.count() > 0;
       left = std::chrono::duration_cast<milliseconds>(until - Clock::now())) {
    client_->poll(left);  // the message, if one came, is released unhandled
  }
}

void Listener::drain_jobs() {
  bool announced = false;
  for (;;) {
    finish_jobs();
    std::size_t busy = abandoned_.size();
    for (const auto& [key, p] : partitions_) busy += p->busy ? 1 : 0;
    if (busy == 0) break;
    if (!announced) {
      announced = true;
      logger_.info(fmt::format("consumer group {}: stopping: waiting for {} jobs in flight", name(), busy));
    }
    serve_rebalance_for(milliseconds(100));
  }
  // Takes a yield of a job that ended before the wake-ups were turned off.
  serve_rebalance_for(milliseconds(1));
}

void Listener::shutdown() {
  // Fetching stops: what is queued is dropped unhandled and unmarked (the next run receives
  // it); the jobs in flight finish (App's shutdown_timeout bounds the wait) while the poll
  // keeps serving the group, so a long job does not cost the membership and its commit.
  wake_on_job_end_.store(false, std::memory_order_release);
  for (Partition* p : live_partitions()) p->wind_down();  // jobs end after the batch in hand
  pausing_.forget(live_partitions());
  listed_.clear();
  publish_step("fetching stopped");
  drain_jobs();
  publish_step("jobs finished");
  auto parts = live_partitions();
  logger_.info(fmt::format("consumer group {}: stopping: running before_stop on {} consumers",
                           name(), parts.size()));
  run_hooks(parts, Hook::before_stop);
  publish_step("before_stop run");
  const auto deadline = std::min(Clock::now() + kCommitBudget, stop_deadline_.load());
  kafka::Status err;
  // A rebalance in progress refuses the commit (REBALANCE_IN_PROGRESS; with cooperative
  // rebalancing also ILLEGAL_GENERATION until this member rejoined): serve the rebalance,
  // then commit again, until the shutdown deadline.
  while ((err = commit_all_sync(nullptr, deadline)) &&
         (err.code() == kafka::Status::Code::rebalance_in_progress ||
          err.code() == kafka::Status::Code::illegal_generation) &&
         Clock::now() < deadline) {
    logger_.info(fmt::format("consumer group {}: the group is rebalancing ({}); serving the rebalance "
                             "before committing again",
                             name(), err.name()));
    serve_rebalance_for(milliseconds(500));
    drain_jobs();  // a partition assigned meanwhile runs initialized()
  }
  if (err)
    logger_.error(fmt::format("consumer group {}: the final commit was not confirmed: {}; leaving the "
                              "group commits once more",
                              name(), err.text()));
  else if (!unconfirmed_.empty())
    // A rebalance served above (or one the loop was in when stop came) revoked partitions
    // whose commit the broker refused: nothing left to commit is not "committed".
    logger_.warn(fmt::format("consumer group {}: committed the marks of the partitions still owned; "
                             "the broker refused those of the partitions revoked while stopping ({})",
                             name(), unconfirmed_));
  else
    logger_.info(fmt::format("consumer group {}: committed the marked offsets", name()));
  publish_step(err || !unconfirmed_.empty() ? "final commit not confirmed" : "committed");
  logger_.info(fmt::format("consumer group {}: leaving the group", name()));
  // Runs the revoke callback (revoked(), commit) for what is still assigned. On librdkafka
  // < 2.1 close can hang after partitions were lost (#4187): App's shutdown_timeout bounds it.
  if (const kafka::Status err = client_->close())
    logger_.warn(fmt::format("consumer group {}: close: {}", name(), err.text()));
  // What close did not revoke (it failed, or the assignment was lost) is checked here.
  note_unconfirmed(live_partitions());
  publish_step("group left");
  {
    std::lock_guard lock(partitions_mu_);
    for (auto& [key, p] : partitions_) p->jobs().wait();
    partitions_.clear();
  }
  if (!unconfirmed_.empty()) {
    logger_.error(fmt::format("consumer group {}: stopped, but the broker did not confirm the commit of "
                              "{}; what was handled after the last confirmed commit is delivered again "
                              "(nothing is lost)",
                              name(), unconfirmed_));
    if (exit_code_ == kExitOk) exit_code_ = kExitUncommitted;
  } else {
    logger_.info(fmt::format("consumer group {}: stopped", name()));
  }
}
}  // namespace samsa::runtime
