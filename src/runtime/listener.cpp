#include "runtime/listener.hpp"

#include <pthread.h>
#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "log_text.hpp"
#include "samsa/app.hpp"

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string describe(const std::vector<TopicPartitionOffset>& parts) {
  // "user_events[0,1,2] other[0]"
  std::string out;
  const std::string* last_topic = nullptr;
  for (const auto& e : parts) {
    if (!last_topic || *last_topic != e.topic) {
      if (!out.empty()) out += "] ";
      out += fmt::format("{}[{}", e.topic, e.partition);
      last_topic = &e.topic;
    } else {
      out += fmt::format(",{}", e.partition);
    }
  }
  if (!out.empty()) out += ']';
  return out.empty() ? "nothing" : out;
}

}  // namespace

Listener::Listener(const Settings& settings, const ConsumerGroupRoute& group,
                   const std::string& brokers, WorkerPool& pool, Logger& logger,
                   const Monitor& monitor)
    : Listener(settings, group, kafka::make_consumer_client(settings, group, brokers), pool, logger, monitor) {}

Listener::Listener(const Settings& settings, const ConsumerGroupRoute& group,
                   std::unique_ptr<kafka::ConsumerClient> client, WorkerPool& pool, Logger& logger,
                   const Monitor& monitor)
    : settings_(settings),
      group_(group),
      group_settings_(effective(settings, group)),
      pool_(pool),
      logger_(logger),
      monitor_(monitor),
      client_(std::move(client)),
      committer_(
          *client_, group.name(), logger, monitor, [this](const kafka::CommitOffset& o) { note_confirmed(o); },
          [this] { note_broker_answered("a commit was confirmed"); }) {
  client_->set_events(this);
  // housekeeping() reports a job still running at half of max.poll.interval.ms.
  long_job_warning_ = client_->max_poll_interval() / 2;
}

Listener::~Listener() {
  request_stop();
  if (thread_.joinable()) thread_.join();
  if (topic_watch_.joinable()) topic_watch_.join();
  {
    std::lock_guard lock(partitions_mu_);
    for (auto& [key, p] : partitions_) p->jobs().wait();
    partitions_.clear();
  }
  for (auto& [key, p] : abandoned_) p->jobs().wait();
  abandoned_.clear();
  // The partitions' messages went back to the client above; now the client goes.
  client_.reset();
}

void Listener::start() {
  std::vector<std::string> topics;
  for (const auto& t : group_.topics()) topics.push_back(t->name());
  if (const kafka::Status err = client_->subscribe(topics)) throw err.error("consumer group " + name() + ": cannot subscribe");
  next_tick_ = Clock::now() + settings_.tick_interval;
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), ("samsa-" + name()).substr(0, 15).c_str());
  if (group_settings_.group_protocol == GroupProtocol::consumer)
    topic_watch_ = std::thread([this] { watch_missing_topics(); });
}

void Listener::request_stop(Deadline deadline) {
  stop_deadline_.store(deadline);
  stop_.store(true);
}

bool Listener::wait_finished(milliseconds timeout) {
  std::unique_lock lock(finished_mu_);
  return finished_cv_.wait_for(lock, timeout, [&] { return finished_.load(); });
}

void Listener::run() {
  try {
    loop();
  } catch (const std::exception& e) {
    logger_.error(fmt::format("consumer group {}: listener failed: {}", name(), e.what()));
    exit_code_ = kExitFatal;
  }
  try {
    shutdown();
  } catch (const std::exception& e) {
    logger_.error(fmt::format("consumer group {}: shutdown failed: {}", name(), e.what()));
    exit_code_ = kExitFatal;
  }
  {
    std::lock_guard lock(finished_mu_);
    finished_ = true;
  }
  finished_cv_.notify_all();
}

void Listener::loop() {
  while (!stop_.load()) {
    // Karafka's before_poll/after_poll: around each poll, even one that returns nothing.
    run_poll_hooks(Hook::before_poll);
    collect(group_settings_.max_messages, group_settings_.max_wait_time);
    run_poll_hooks(Hook::after_poll);
    finish_jobs();
    dispatch();
    housekeeping();
  }
}

void Listener::run_poll_hooks(Hook hook) {
  if (hook == Hook::before_poll) {
    before_polled_.clear();
    // Not for a partition with a job in flight (its hooks never overlap) or paused after
    // an error (it resumes, then its hooks run again).
    for (Partition* p : poll_hooked_)
      if (!p->busy && !p->paused) {
        p->run_hook(hook);
        before_polled_.push_back(p);
      }
    return;
  }
  // after_poll: only where before_poll ran (a rebalance inside the poll removed the
  // partitions it revoked from before_polled_).
  for (Partition* p : before_polled_) {
    if (p->busy) continue;
    if (!p->failed()) p->run_hook(hook);
    p->store();
    // A poll hook that threw may have dropped what the consumer held: what its partition
    // fetched is not handed out (a mark after it could cover the dropped messages), it
    // pauses and is redelivered from its first unmarked message.
    if (p->failed()) pause_and_rewind(*p);
  }
  before_polled_.clear();
}

void Listener::collect(int max_messages, milliseconds max_wait) {
  const auto deadline = std::min(Clock::now() + max_wait, wake_at_);
  int n = 0;
  bool fetched = false;  // a broker answered (logged once per poll, not per message)
  while (n < max_messages && !stop_.load()) {
    // Wait for the first message (in slices, to notice stop and the end of a job); then
    // take only what is already queued, so a poll never waits for more data than
    // librdkafka has.
    int timeout = 0;
    if (n == 0) {
      if (jobs_ended_.load(std::memory_order_acquire)) break;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      timeout = static_cast<int>(std::min<long long>(left.count(), 100));
    }
    kafka::Fetched m = client_->poll(milliseconds(timeout));
    if (!m) {
      if (n > 0) break;
      continue;
    }
    fetched = true;
    accept(std::move(m));
    ++n;
  }
  if (fetched) note_broker_answered("a message was fetched");
}

void Listener::accept(kafka::Fetched m) {
  Partition* p = lookup(m);
  // Not ours any more, rewound and paused, or leaving: it is delivered again (after the
  // rewind, or to the next owner). At or below what was queued already: a duplicate
  // (librdkafka before 2.4 could fetch again from a stale position after a resume).
  if (!p || p->paused || p->leaving || m.offset() <= p->last_queued()) return;  // m is released
  if (p->queued() == 0) ++queued_partitions_;
  queued_bytes_ += m.len();
  p->enqueue(std::move(m));
  if (!p->busy) list(*p);
  if (!p->flow_paused && (p->queued() >= static_cast<std::size_t>(settings_.queue_max_messages) ||
                          over_group_budget(*p)))
    flow_pause(*p);
}

bool Listener::over_group_budget(const Partition& p) const {
  // Over the group's budget, only a partition holding at least an even share of what is
  // queued is paused: one partition whose job hangs must not stop the others.
  if (queued_bytes_ < static_cast<std::size_t>(settings_.queue_max_bytes)) return false;
  return p.queued_bytes() >= queued_bytes_ / std::max<std::size_t>(queued_partitions_, 1);
}

void Listener::list(Partition& p) {
  if (p.listed) return;
  p.listed = true;
  listed_.push_back(&p);
}

void Listener::dispatch() {
  if (stop_.load()) return;  // the shutdown takes over: no new work
  for (Partition* p : listed_) {
    p->listed = false;
    if (p->busy || p->paused || p->leaving || p->held) continue;
    if (p->tick_due)
      start_job(*p, Job::tick);
    else if (p->queued() > 0)
      start_job(*p, Job::batch);
  }
  listed_.clear();
  if (!flow_paused_.empty()) flow_resume_drained();
}

void Listener::start_job(Partition& p, Job job, bool first) {
  p.busy = true;
  p.job_started = Clock::now();
  p.long_job_reported = false;
  Partition* part = &p;
  std::function<void()> fn;
  switch (job) {
    case Job::batch:
      queued_bytes_ -= p.take_batch(static_cast<std::size_t>(group_settings_.max_messages));
      if (p.queued() == 0) --queued_partitions_;
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
  p.clear_batch();
  if (p.leaving || stop_.load()) return;  // no new work; a failure's marks stay as they are
  if (p.failed()) {
    pause_and_rewind(p);
    return;
  }
  if (p.tick_due || p.queued() > 0) list(p);
}

void Listener::housekeeping() {
  if (stop_.load()) return;
  const auto now = Clock::now();
  if (now >= next_tick_) {
    for (const auto& [key, p] : partitions_) {
      if (p->paused || p->leaving || p->held || !p->route().hooks().tick) continue;
      p->tick_due = true;
      if (!p->busy) list(*p);
    }
    next_tick_ = now + settings_.tick_interval;
    dispatch();
  }
  // Every 100 ms, and when a resume is due (wake_at_ passed: collect() no longer waits).
  if (now < next_housekeeping_ && now < wake_at_) return;
  next_housekeeping_ = now + milliseconds(100);
  // The marks of user threads (jobs store their own at their end).
  store_all();
  resume_due(now);
  wake_at_ = next_tick_;
  for (const auto& [key, p] : partitions_) {
    if (p->paused) wake_at_ = std::min(wake_at_, p->resume_at);
    if (!p->busy || p->long_job_reported) continue;
    const auto ran = std::chrono::duration_cast<milliseconds>(now - p->job_started);
    if (ran < long_job_warning_) continue;
    p->long_job_reported = true;
    logger_.warn(fmt::format(
        "consumer group {}: the job of {}/{} has run for {} ms; the partition waits for it (paused "
        "once its queue is full), the other partitions and the group's membership do not",
        name(), p->topic(), p->partition(), ran.count()));
  }
  // Never in the past: a resume whose rewind failed was rescheduled by resume_due.
  wake_at_ = std::max(wake_at_, now + milliseconds(1));
  dispatch();
}

void Listener::drop_queue(Partition& p, std::int64_t rewound_to) {
  if (p.queued() > 0) --queued_partitions_;
  queued_bytes_ -= p.drop_queue(rewound_to);
}

bool Listener::kafka_pause(Partition& p, bool pause) {
  const kafka::Status err = pause ? client_->pause(p.topic(), p.partition()) : client_->resume(p.topic(), p.partition());
  if (err)
    logger_.error(fmt::format("consumer group {}: {}/{}: {} failed: {}", name(), p.topic(), p.partition(),
                              pause ? "pause" : "resume", err.text()));
  return !err;
}

void Listener::flow_pause(Partition& p) {
  // librdkafka drops what it prefetched for the partition and, on resume, fetches again
  // after the last message it handed out (the end of this queue): nothing is skipped.
  // Refused: librdkafka keeps fetching and the queue keeps growing (nothing is lost); it is
  // tried again with the next message.
  if (!p.paused && !kafka_pause(p, true)) return;
  p.flow_paused = true;
  flow_paused_.push_back(&p);
  if (observed()) publish_pause(EventType::partition_paused, p, "back-pressure", p.last_queued() + 1, p.queued());
  if (logger_.level() <= LogLevel::debug)
    logger_.debug(fmt::format("consumer group {}: {}/{} paused: {} messages queued ({} bytes in the group)",
                              name(), p.topic(), p.partition(), p.queued(), queued_bytes_));
}

void Listener::publish_pause(EventType type, const Partition& p, const char* reason, std::int64_t offset,
                             std::size_t queued) const {
  Event e{type, name(), {{p.topic(), p.partition(), offset}}, queued, {}};
  e.reason = reason;
  publish(e);
}

void Listener::flow_resume_drained() {
  const std::size_t half = static_cast<std::size_t>(settings_.queue_max_messages) / 2;
  auto keep = flow_paused_.begin();
  for (Partition* p : flow_paused_) {
    if (p->queued() > half || over_group_budget(*p)) {
      *keep++ = p;
      continue;
    }
    p->flow_paused = false;
    // Paused after an error as well: its own resume comes after the back-off.
    if (!p->paused) kafka_pause(*p, false);
    if (observed()) publish_pause(EventType::partition_resumed, *p, "back-pressure", p->last_queued() + 1, p->queued());
  }
  flow_paused_.erase(keep, flow_paused_.end());
}

void Listener::run_hooks(const std::vector<Partition*>& parts, Hook hook) {
  for (Partition* p : parts)
    if (!p->busy) pool_.submit(jobs_, [p, hook] { p->run_hook(hook); });
  jobs_.wait();
}

std::int64_t Listener::rewind_target(const Partition& p) const {
  const std::int64_t unmarked = p.first_unmarked();
  if (unmarked >= 0) return unmarked;
  return p.first_queued();
}

bool Listener::rewind(Partition& p) {
  const std::int64_t target = rewind_target(p);
  if (target < 0) return true;  // nothing fetched: librdkafka resumes where it was
  const kafka::Status err = client_->seek(p.topic(), p.partition(), target, milliseconds(10000));
  if (!err) {
    drop_queue(p, target);
    return true;
  }
  logger_.error(fmt::format("consumer group {}: {}/{}: rewind to offset {} failed: {}; the partition "
                            "stays paused and the rewind is tried again",
                            name(), p.topic(), p.partition(), target, err.text()));
  return false;
}

void Listener::pause_and_rewind(Partition& p) {
  if (!p.flow_paused) kafka_pause(p, true);
  // Pause, then seek: librdkafka drops what it fetched past the target (version barrier)
  // and resumes from the target; what this partition queued is dropped too. A partition
  // whose rewind failed is never resumed before the rewind succeeds, or the next mark would
  // cover the failed messages.
  const std::int64_t target = rewind_target(p);
  p.paused = true;  // from here on its fetched messages are dropped
  p.rewind_pending = !rewind(p);
  p.clear_failure();
  p.tick_due = false;
  const auto backoff = p.settings().pause_for_attempt(p.attempt());
  p.resume_at = Clock::now() + backoff;
  wake_at_ = std::min(wake_at_, p.resume_at);
  logger_.warn(fmt::format("consumer group {}: {}/{} paused for {} ms, then resumes from offset {}",
                           name(), p.topic(), p.partition(), backoff.count(), target));
  if (observed()) publish_pause(EventType::partition_paused, p, "error", target, 0);
}

void Listener::resume_due(Clock::time_point now) {
  for (const auto& [key, p] : partitions_) {
    if (!p->paused || now < p->resume_at) continue;
    // Seek again, also when the first seek succeeded: if librdkafka refused the pause it
    // kept fetching, and what it fetched meanwhile was dropped here. Idempotent otherwise.
    p->rewind_pending = !rewind(*p);
    if (p->rewind_pending) {
      p->resume_at = now + p->settings().pause_for_attempt(p->attempt());
      continue;
    }
    p->paused = false;
    if (!p->flow_paused) kafka_pause(*p, false);
    logger_.info(fmt::format("consumer group {}: {}/{} resumed", name(), p->topic(), p->partition()));
    if (observed()) publish_pause(EventType::partition_resumed, *p, "error", rewind_target(*p), p->queued());
    if (p->queued() > 0) list(*p);
  }
}

bool Listener::wait_idle(const std::vector<Partition*>& parts, Deadline deadline) {
  auto busy = [&] {
    for (Partition* p : parts)
      if (p->busy) return true;
    return false;
  };
  std::unique_lock lock(done_mu_);
  for (;;) {
    // Take the ends of these partitions' jobs; the others stay for the loop.
    for (auto it = done_.begin(); it != done_.end();) {
      if (std::find(parts.begin(), parts.end(), *it) == parts.end()) {
        ++it;
        continue;
      }
      (*it)->busy = false;
      (*it)->clear_batch();
      it = done_.erase(it);
    }
    if (!busy()) return true;
    if (Clock::now() >= deadline) return false;
    done_cv_.wait_until(lock, std::min(deadline, Clock::now() + milliseconds(200)));
  }
}

void Listener::abandon(Partition& p) {
  p.disown();
  p.abandoned = true;
  std::lock_guard lock(partitions_mu_);
  auto it = partitions_.find({p.topic(), p.partition()});
  abandoned_[&p] = std::move(it->second);
  partitions_.erase(it);
}

void Listener::finish_abandoned(Partition& p) {
  p.busy = false;
  p.clear_batch();
  if (!p.revoke_started) {
    // Its batch ended: revoked() runs now, its marks refused (the partition is another
    // member's by now).
    if (p.ready()) {
      start_job(p, Job::revoked);
      return;
    }
  }
  p.jobs().wait();  // returns at once: the job's last step was job_done()
  logger_.info(fmt::format("consumer group {}: the abandoned job of {}/{} returned; its consumer is "
                           "destroyed",
                           name(), p.topic(), p.partition()));
  const std::pair<std::string, std::int32_t> key{p.topic(), p.partition()};
  abandoned_.erase(&p);
  // A new instance of the same partition waited for this one.
  auto it = partitions_.find(key);
  if (it != partitions_.end() && it->second->held) {
    it->second->held = false;
    start_job(*it->second, Job::initialized);
  }
}

Partition* Listener::lookup(const kafka::Fetched& m) {
  const std::pair<const void*, std::int32_t> key{m.topic_key(), m.partition()};
  auto it = fast_.find(key);
  if (it != fast_.end()) return it->second;
  auto pit = partitions_.find({m.topic(), m.partition()});
  if (pit == partitions_.end()) return nullptr;
  fast_.emplace(key, pit->second.get());
  return pit->second.get();
}

void Listener::on_consumer_error(const kafka::Status& error, const std::string& topic) {
  if (error.code() == kafka::Status::Code::unknown_topic) {
    warn_missing_topic(topic);
    return;
  }
  logger_.error(fmt::format("consumer group {}: consumer error{}: {}", name(), topic.empty() ? "" : " on " + topic,
                            error.text()));
}

void Listener::warn_missing_topic(const std::string& topic) {
  {
    std::lock_guard lock(warned_mu_);
    if (!warned_topics_.insert(topic).second) return;
  }
  logger_.warn(fmt::format(
      "consumer group {}: topic '{}' does not exist (yet); Samsa waits for it. Create it "
      "with `<app> topics create` or your usual tooling",
      name(), topic));
}

void Listener::watch_missing_topics() {
  std::vector<std::string> unknown;
  for (const auto& t : group_.topics()) unknown.push_back(t->name());
  while (!unknown.empty() && !stop_.load()) {
    for (auto it = unknown.begin(); it != unknown.end() && !stop_.load();) {
      // A broker that does not answer is reported by the poll loop; only a definite
      // "unknown topic" counts here.
      const std::optional<bool> exists = client_->topic_exists(*it, milliseconds(3000));
      if (exists == false) warn_missing_topic(*it);
      it = exists == true ? unknown.erase(it) : it + 1;
    }
    for (int i = 0; i < 100 && !stop_.load(); ++i) std::this_thread::sleep_for(milliseconds(100));
  }
}

void Listener::store_all() {
  // Under the lock: a user thread's commit_offsets() must not store into a partition that
  // a rebalance is destroying.
  std::lock_guard lock(partitions_mu_);
  for (const auto& [key, p] : partitions_) p->store();
}

std::vector<Partition*> Listener::live_partitions() {
  std::lock_guard lock(partitions_mu_);
  std::vector<Partition*> out;
  out.reserve(partitions_.size());
  for (const auto& [key, p] : partitions_) out.push_back(p.get());
  return out;
}

// ---- Commits ----

void Listener::note_confirmed(const kafka::CommitOffset& o) {
  std::lock_guard lock(partitions_mu_);
  auto it = partitions_.find({o.topic, o.partition});
  if (it != partitions_.end()) it->second->committed(o.offset, o.metadata);
}

kafka::Status Listener::commit_partition_sync(Partition& p) {
  // A partition given up (a job that outlived revoke_timeout) commits nothing: the broker
  // would take a classic member's commit for a partition another member owns now.
  if (!p.owned()) return kafka::Status(kafka::Status::Code::state, "_STATE", "the partition is not owned");
  p.store();
  Partition::Mark mark = p.uncommitted();
  if (mark.offset < 0) return {};
  return committer_.commit_sync({{p.topic(), p.partition(), mark.offset, std::move(mark.metadata), {}}},
                                Clock::now() + kCommitBudget);
}

kafka::Status Listener::commit_all_sync(const std::vector<Partition*>* only, Deadline deadline) {
  std::vector<kafka::CommitOffset> list;
  {
    std::unique_lock lock(partitions_mu_, std::defer_lock);
    std::vector<Partition*> all;
    if (!only) {
      lock.lock();
      for (const auto& [key, p] : partitions_) all.push_back(p.get());
    }
    for (Partition* p : only ? *only : all) {
      if (!p->owned()) continue;  // lost or given up: the broker would refuse or misplace it
      p->store();
      Partition::Mark mark = p->uncommitted();
      if (mark.offset >= 0) list.push_back({p->topic(), p->partition(), mark.offset, std::move(mark.metadata), {}});
    }
  }
  return committer_.commit_sync(list, deadline);
}

void Listener::commit_async() {
  store_all();
  committer_.commit_async();
}

std::string Listener::committed_metadata(const Partition& p, milliseconds timeout) {
  std::string metadata;
  if (const kafka::Status err = client_->committed_metadata(p.topic(), p.partition(), timeout, metadata))
    throw err.error(
        fmt::format("consumer group {}: cannot read the committed offset of {}/{}", name(), p.topic(), p.partition()));
  return metadata;
}

void Listener::commit_marked_now(milliseconds budget) {
  const kafka::Status err = commit_all_sync(nullptr, Clock::now() + budget);
  if (err)
    logger_.error(fmt::format("consumer group {}: final commit of the marked offsets failed: {}",
                              name(), err.text()));
  else
    logger_.warn(fmt::format("consumer group {}: committed the marked offsets", name()));
}

// ---- Rebalance ----

void Listener::on_assigned(const std::vector<TopicPartitionOffset>& parts) {
  fast_.clear();
  assign(parts);
}

void Listener::on_revoked(const std::vector<TopicPartitionOffset>& parts, bool lost) {
  fast_.clear();
  revoke(parts, lost);
}

void Listener::on_rebalance_error(const kafka::Status& error, const std::vector<TopicPartitionOffset>& parts) {
  fast_.clear();
  logger_.error(fmt::format("consumer group {}: rebalance failed: {}", name(), error.text()));
  revoke(parts, client_->assignment_lost());
}

void Listener::assign(const std::vector<TopicPartitionOffset>& parts) {
  note_broker_answered("the group coordinator assigned partitions");
  std::vector<std::unique_ptr<Partition>> created;
  for (const auto& e : parts) {
    const TopicRoute* route = group_.find(e.topic);
    if (!route) continue;
    try {
      created.push_back(std::make_unique<Partition>(*this, *route, effective(settings_, group_, *route), e.partition));
    } catch (const std::exception& ex) {
      // Without a consumer its messages would be dropped unmarked (never committed): stop
      // rather than leave the partition stuck.
      logger_.error(fmt::format("consumer group {}: cannot create the consumer for {}/{}: {}; stopping",
                                name(), e.topic, e.partition, ex.what()));
      exit_code_ = kExitFatal;
      stop_ = true;
    }
  }
  if (const kafka::Status failure = client_->assign(parts)) {
    // Not assigned is not owned: the partitions just built are dropped unused (no hook ran
    // on them, nothing was delivered or marked), and the group gives them out again.
    logger_.error(fmt::format("consumer group {}: {} assign of {} failed: {}; the partitions are "
                              "not owned by this process",
                              name(), client_->incremental() ? "incremental" : "eager", describe(parts),
                              failure.text()));
    for (auto& p : created) p->disown();
    return;
  }
  for (auto& owned : created) {
    Partition* p = owned.get();
    {
      std::lock_guard lock(partitions_mu_);
      auto [it, inserted] = partitions_.try_emplace({p->topic(), p->partition()}, nullptr);
      if (!inserted) {
        // librdkafka assigned a partition this process owns already: keep the one in use.
        logger_.warn(fmt::format("consumer group {}: {}/{} assigned again while owned; kept as it is",
                                 name(), p->topic(), p->partition()));
        p->disown();
        continue;
      }
      it->second = std::move(owned);
    }
    if (p->route().hooks().poll) poll_hooked_.push_back(p);
    // The instance that had the partition before may still run a job abandoned at its
    // revocation: this one waits (its messages queue up) until that one is gone, so the
    // partition's messages are never handled by two instances of this process at once.
    p->held = std::any_of(abandoned_.begin(), abandoned_.end(), [&](const auto& a) {
      return a.first->topic() == p->topic() && a.first->partition() == p->partition();
    });
    // initialized() runs on a worker while the partition fetches (its messages wait in its
    // queue): the rebalance callback does not wait for it, nor for busy workers.
    if (!p->held) start_job(*p, Job::initialized);
  }
  logger_.info(fmt::format("consumer group {}: assigned {} ({} partitions owned)", name(),
                           describe(parts), partitions_.size()));
  if (observed()) publish({EventType::partitions_assigned, name(), parts, 0, {}});
}

void Listener::revoke(const std::vector<TopicPartitionOffset>& parts, bool lost) {
  std::vector<Partition*> going;
  for (const auto& e : parts) {
    auto it = partitions_.find({e.topic, e.partition});
    if (it != partitions_.end()) going.push_back(it->second.get());
  }
  auto erase_going = [&](std::vector<Partition*>& from) {
    from.erase(std::remove_if(from.begin(), from.end(),
                              [&](Partition* p) { return std::find(going.begin(), going.end(), p) != going.end(); }),
               from.end());
  };
  erase_going(listed_);
  erase_going(poll_hooked_);
  erase_going(flow_paused_);
  erase_going(before_polled_);
  // What was fetched for them and not handed to a job is dropped unhandled and unmarked:
  // the next owner receives it from the committed offset.
  for (Partition* p : going) {
    p->leaving = true;
    drop_queue(*p, 0);
    // A job that has not started yet (behind other partitions' jobs) never will: its batch
    // is dropped unhandled like the queue.
    if (p->busy && pool_.cancel(p->jobs()) > 0) {
      p->busy = false;
      p->clear_batch();
    }
  }
  if (lost)
    for (Partition* p : going) p->disown();
  // Only the revoked partitions' jobs are waited for, revoke_timeout at most; then the
  // revoked() of those whose job ended runs ahead of the pool's queue, with revoke_timeout
  // of its own. A partition still busy after that is given up (abandoned): its revoked()
  // runs when its job returns.
  wait_idle(going, Clock::now() + settings_.revoke_timeout);
  std::vector<Partition*> revoking;
  for (Partition* p : going)
    if (!p->busy) {
      start_job(*p, Job::revoked, true);
      revoking.push_back(p);
    }
  wait_idle(revoking, Clock::now() + settings_.revoke_timeout);
  std::vector<Partition*> stuck;
  for (Partition* p : going)
    if (p->busy) stuck.push_back(p);
  if (!stuck.empty()) {
    std::string which;
    for (Partition* p : stuck) which += fmt::format("{}{}/{}", which.empty() ? "" : " ", p->topic(), p->partition());
    logger_.error(fmt::format(
        "consumer group {}: revoke_timeout ({} ms) passed while jobs of {} still ran; the partitions "
        "are given up with what they marked so far, their later marks are refused, revoked() runs "
        "when the job returns, and the next owner receives what was not marked",
        name(), settings_.revoke_timeout.count(), which));
  }
  if (!lost) {
    if (const kafka::Status err = commit_all_sync(&going))
      logger_.error(fmt::format("consumer group {}: commit of revoked partitions failed: {}; the "
                                "next owner re-delivers from the last committed offset",
                                name(), err.text()));
  } else {
    logger_.warn(fmt::format("consumer group {}: partitions lost ({}): marks since the last commit "
                             "could not be committed; the next owner re-delivers them",
                             name(), describe(parts)));
  }
  if (stop_.load()) note_unconfirmed(going);
  // librdkafka keeps a partition's pause across assignments: undo ours.
  for (Partition* p : going) {
    p->disown();
    if (p->paused || p->flow_paused) client_->resume(p->topic(), p->partition());
  }
  for (Partition* p : stuck) abandon(*p);
  {
    std::lock_guard lock(partitions_mu_);
    for (Partition* p : going) {
      if (p->abandoned) continue;
      p->jobs().wait();  // returns at once: their jobs ended (the pool's last touch)
      partitions_.erase({p->topic(), p->partition()});
    }
  }
  if (const kafka::Status err = client_->unassign(parts))
    logger_.error(fmt::format("consumer group {}: {} unassign failed: {}", name(),
                              client_->incremental() ? "incremental" : "eager", err.text()));
  logger_.info(fmt::format("consumer group {}: revoked {} ({} partitions owned)", name(),
                           describe(parts), partitions_.size()));
  if (observed()) publish({EventType::partitions_revoked, name(), parts, 0, {}});
}

void Listener::on_error(const kafka::Status& error) {
  if (error.code() == kafka::Status::Code::fatal) {
    logger_.error(fmt::format("consumer group {}: fatal Kafka error: {}; stopping", name(), error.text()));
    exit_code_ = kExitFatal;
    stop_ = true;
    return;
  }
  if (error.code() == kafka::Status::Code::all_brokers_down) {
    Clock::rep none = 0;
    brokers_down_since_.compare_exchange_strong(none, Clock::now().time_since_epoch().count());
    logger_.error(fmt::format("consumer group {}: no broker answers ({}); Samsa keeps retrying; marks "
                              "are kept and committed once a broker answers again",
                              name(), error.text()));
  } else
    logger_.warn(fmt::format("consumer group {}: {}: {}", name(), error.name(), error.text()));
}

void Listener::note_broker_answered(const char* how) {
  if (brokers_down_since_.load(std::memory_order_relaxed) == 0) return;
  const Clock::rep since = brokers_down_since_.exchange(0);
  if (since == 0) return;
  const auto down = std::chrono::duration_cast<milliseconds>(Clock::now() - Clock::time_point(Clock::duration(since)));
  logger_.warn(fmt::format("consumer group {}: recovered: a broker answers again ({}) after {} ms without one",
                           name(), how, down.count()));
}

void Listener::on_log(LogLevel level, const std::string& facility, const std::string& text) {
  if (level < logger_.level()) return;
  logger_.write(level, fmt::format("librdkafka {}: {}", facility, text));
}

// ---- Shutdown ----

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
  for (Partition* p : live_partitions()) drop_queue(*p, 0);
  listed_.clear();
  drain_jobs();
  auto parts = live_partitions();
  logger_.info(fmt::format("consumer group {}: stopping: running before_stop on {} consumers",
                           name(), parts.size()));
  run_hooks(parts, Hook::before_stop);
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
  else
    logger_.info(fmt::format("consumer group {}: committed the marked offsets", name()));
  logger_.info(fmt::format("consumer group {}: leaving the group", name()));
  // Runs the revoke callback (revoked(), commit) for what is still assigned. On librdkafka
  // < 2.1 close can hang after partitions were lost (#4187): App's shutdown_timeout bounds it.
  if (const kafka::Status err = client_->close())
    logger_.warn(fmt::format("consumer group {}: close: {}", name(), err.text()));
  // What close did not revoke (it failed, or the assignment was lost) is checked here.
  note_unconfirmed(live_partitions());
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
