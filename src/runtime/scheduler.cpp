// Listener (listener.hpp): the scheduling of jobs. A partition that may start a job (messages
// queued, or a tick due) is listed; dispatch() starts a job for every listed partition that
// is idle, not leaving, not held and not paused (one paused by its consumer gets its ticks
// only), and finish_jobs() processes the jobs that ended.
//
// - A job is a batch, initialized() (at an assignment), tick() or revoked() (a revocation's
//   goes ahead of the pool's queue: the revocation waits for it).
// - One job per partition at a time: `busy` from start_job() until finish_jobs() processed
//   its end, so a partition's hooks never overlap and its messages are handled in order;
//   the jobs of different partitions run in parallel on the worker pool.
// - A batch job takes up to kBatchesPerJob (50) batches of max_messages from the queue,
//   about kJobTarget (200 ms) of its consumer's work at the rate of its recent jobs (one
//   batch before that rate is known), and at most a quarter of the group's budget
//   (Pausing::take_batch); its bytes count against the budget until the job ended.
// - Threads: everything here runs on the listener thread, except the jobs themselves and
//   job_done(), their last step, which run on a worker of the pool.
// - What wakes the listener: job_done() records the end under done_mu_, wakes the client's
//   poll (unless the shutdown turned that off) and notifies done_cv_ (wait_for_job_end,
//   wait_idle); collect() also stops waiting at wake_at_, the next tick or resume (an
//   error's back-off, a consumer's pause), and at stop.
// - The end of a job: a failed partition pauses and rewinds (pause_after_error), a seek or
//   pause of its consumer is applied (apply_control), else it is listed again when it has
//   queued messages or a tick due. The end of a leaving partition's job, or of any job once
//   the shutdown began, starts nothing: the revocation or the shutdown takes over.
#include <algorithm>
#include <functional>

#include "runtime/listener.hpp"

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

void Listener::list(Partition& p) {
  if (p.listed) return;
  p.listed = true;
  listed_.push_back(&p);
}

void Listener::dispatch() {
  if (stop_.load()) return;  // the shutdown takes over: no new work
  for (Partition* p : listed_) {
    p->listed = false;
    if (p->busy || p->leaving || p->held) continue;
    if (p->pause_state().paused) {
      // Paused by its consumer: its ticks go on (one may resume it), no batch.
      if (p->pause_state().consumer_paused && p->tick_due) start_job(*p, Job::tick);
      continue;
    }
    if (p->tick_due)
      start_job(*p, Job::tick);
    else if (p->queued() > 0)
      start_job(*p, Job::batch);
  }
  listed_.clear();
  pausing_.resume_drained();
}

void Listener::start_job(Partition& p, Job job, bool first) {
  p.busy = true;
  p.job_started = Clock::now();
  p.long_job_reported = false;
  Partition* part = &p;
  // A transaction in the job sends its offsets with the group's metadata as it is now,
  // while the partition is this member's: a job that outlives the partition's ownership
  // carries a generation the coordinator refuses (KIP-447), never a later one that it
  // would accept (the rebalance callbacks run beside the workers, unlike Java's).
  if (transactional()) {
    if (group_metadata_stale_ || !group_metadata_) {
      group_metadata_ = client_->group_metadata();
      group_metadata_stale_ = false;
    }
    p.job_group = group_metadata_;
  }
  std::function<void()> fn;
  switch (job) {
    case Job::batch:
      pausing_.take_batch(p, job_size(p));
      fn = [this, part] {
        part->run_batch();
        job_done(part);
      };
      break;
    case Job::initialized:
      // At assignment: a failure is reported and initialized() runs again before the first
      // batch (which pauses with back-off while it keeps failing); nothing was delivered,
      // so there is nothing to rewind.
      fn = [this, part] {
        if (!part->run_hook(Hook::initialized)) part->clear_failure();
        job_done(part);
      };
      break;
    case Job::tick:
    case Job::revoked: {
      // The hook's marks reach librdkafka at once (a revocation commits right after).
      const Hook hook = job == Job::tick ? Hook::tick : Hook::revoked;
      if (job == Job::tick)
        p.tick_due = false;
      else
        p.revoke_started = true;
      fn = [this, part, hook] {
        part->run_hook(hook);
        part->store();
        job_done(part);
      };
      break;
    }
  }
  if (first)
    pool_.submit_front(p.jobs(), std::move(fn));
  else
    pool_.submit(p.jobs(), std::move(fn));
}

std::size_t Listener::job_size(const Partition& p) const {
  // Up to kBatchesPerJob batches, about kJobTarget of the consumer's work at the rate its
  // jobs handled messages lately (one batch before the first job ended): a job per batch
  // of 100 messages cost two thread wake-ups per hundred messages, a third of the CPU on
  // one partition, while a slow consumer's job stays one batch long (revocations and the
  // shutdown end a job after the batch in hand anyway: Partition::wind_down).
  const auto per_batch = static_cast<std::size_t>(std::max(p.settings().max_messages, 1));
  const double work = p.rate() * std::chrono::duration<double>(kJobTarget).count();
  return std::clamp<std::size_t>(static_cast<std::size_t>(work), per_batch, per_batch * kBatchesPerJob);
}

void Listener::job_done(Partition* p) {
  {
    std::lock_guard lock(done_mu_);
    done_.push_back(p);
    jobs_ended_.store(true, std::memory_order_release);
    // Wakes a poll that waits for a first message. A yield is kept until the next poll of
    // the queue, and rd_kafka_consumer_close serves that queue too and takes a yield for
    // its end (then times out, and rd_kafka_destroy hangs): the shutdown turns wake-ups off,
    // processes every job's end (taken under this lock, so after its yield) and polls once.
    if (wake_on_job_end_.load(std::memory_order_acquire)) client_->wake();
  }
  done_cv_.notify_all();
}

void Listener::finish_jobs() {
  if (!jobs_ended_.exchange(false, std::memory_order_acq_rel)) return;
  {
    std::lock_guard lock(done_mu_);
    done_swap_.swap(done_);
  }
  for (Partition* p : done_swap_) {
    if (p->abandoned)
      finish_abandoned(*p);
    else
      finish_job(*p);
  }
  done_swap_.clear();
}

void Listener::finish_job(Partition& p) {
  p.busy = false;
  // The rate counts what the job handled: one that stopped early (a failure, a seek) must
  // not size the next job for messages it never handled.
  if (p.batch_size() > 0) p.note_batch(p.batch_handled(), Clock::now() - p.job_started);
  pausing_.release_batch(p);
  // Each partition keeps the storage of its share of the budget, 64 KiB at least.
  p.trim(std::max<std::size_t>(64 * 1024, pausing_.budget() / std::max<std::size_t>(partition_count_.load(), 1)));
  if (p.leaving || stop_.load()) return;  // no new work; a failure's marks stay as they are
  if (p.failed()) {
    p.take_control();  // the error path decides where it resumes
    pause_after_error(p);
    return;
  }
  if (apply_control(p)) return;
  if (p.tick_due || p.queued() > 0) list(p);
}

bool Listener::apply_control(Partition& p) {
  const std::optional<Partition::Control> c = p.take_control();
  if (!c) return false;
  wake_at_ = std::min(wake_at_, pausing_.pause_for_consumer(p, *c));
  if (p.tick_due) list(p);
  return true;
}

void Listener::pause_after_error(Partition& p) { wake_at_ = std::min(wake_at_, pausing_.pause_after_error(p)); }

}  // namespace samsa::runtime
