#include "runtime/listener.hpp"

#include <pthread.h>
#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "admin/groups.hpp"
#include "log_text.hpp"
#include "samsa/exit_codes.hpp"

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

Listener::Listener(const Settings& settings, const ConsumerGroupRoute& group,
                   const std::string& brokers, WorkerPool& pool, Logger& logger,
                   const Monitor& monitor, Producer* producer, std::size_t groups)
    : Listener(settings, group,
               kafka::make_consumer_client(
                   settings, group, brokers,
                   [](kafka::AdminClient& client, const std::string& bootstrap, const std::string& name,
                      milliseconds timeout) {
                     return admin::detail::describe_group(client, bootstrap, name, admin::detail::Deadline(timeout));
                   },
                   groups),
               pool, logger, monitor, producer, groups) {}

Listener::Listener(const Settings& settings, const ConsumerGroupRoute& group,
                   std::unique_ptr<kafka::ConsumerClient> client, WorkerPool& pool, Logger& logger,
                   const Monitor& monitor, Producer* producer, std::size_t groups)
    : settings_(settings),
      group_(group),
      group_settings_(effective(settings, group)),
      pool_(pool),
      group_logger_(logger, group.name()),
      logger_(group_logger_),
      monitor_(monitor),
      producer_(producer),
      client_(std::move(client)),
      committer_(
          *client_, group.name(), logger_, monitor, [this](const kafka::CommitOffset& o) { note_confirmed(o); },
          [this] { note_broker_answered("a commit was confirmed"); }),
      pausing_(*client_, settings, buffer_share(settings, groups).queues, group.name(), logger_, monitor) {
  client_->set_events(this);
  // housekeeping() reports a job still running at half of max.poll.interval.ms.
  long_job_warning_ = client_->max_poll_interval() / 2;
}

Listener::~Listener() {
  request_stop();
  if (thread_.joinable()) thread_.join();
  if (topic_watch_.joinable()) topic_watch_.join();
  if (watermark_watch_.joinable()) watermark_watch_.join();
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
  rebalancing_since_.store(Clock::now().time_since_epoch().count());
  started_.store(true);
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), ("samsa-" + name()).substr(0, 15).c_str());
  if (group_settings_.group_protocol == GroupProtocol::consumer)
    topic_watch_ = std::thread([this] { watch_missing_topics(); });
  if (observed() && settings_.lag_interval.count() > 0)
    watermark_watch_ = std::thread([this] { watch_watermarks(); });
}

Listener::Health Listener::health() const {
  Health h;
  h.started = started_.load();
  h.joined = joined_.load();
  h.stopping = stop_.load();
  h.finished = finished_.load();
  h.last_loop = Clock::time_point(Clock::duration(last_loop_.load()));
  h.rebalancing_since = Clock::time_point(Clock::duration(rebalancing_since_.load()));
  h.longest_job = milliseconds(longest_job_ms_.load());
  h.partitions = partition_count_.load();
  const auto connection = connection_log_.state();
  h.brokers_down_since = connection.down_since;
  h.broker_error = connection.last_error;
  std::lock_guard lock(warned_mu_);
  h.missing_topics.assign(warned_topics_.begin(), warned_topics_.end());
  return h;
}

void Listener::on_statistics(const std::string& json) {
  if (!observed()) return;
  Event e{EventType::statistics, name(), {}, 0, {}};
  e.json = json;
  publish(e);
}

void Listener::publish_error(const kafka::Status& error, const std::string& topic) {
  if (!observed()) return;
  Event e{EventType::error, name(), {}, 0, error.text()};
  e.reason = error.name();
  if (!topic.empty()) e.offsets.push_back({topic, -1, -1});
  publish(e);
}

void Listener::publish_step(const char* step) {
  if (!observed()) return;
  Event e{EventType::shutdown_step, name(), {}, 0, {}};
  e.reason = step;
  publish(e);
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
    last_loop_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    // Karafka's before_poll/after_poll: around each poll, even one that returns nothing.
    run_poll_hooks(Hook::before_poll);
    collect(group_settings_.max_wait_time);
    run_poll_hooks(Hook::after_poll);
    finish_jobs();
    dispatch();
    housekeeping();
    if (posted_.load(std::memory_order_acquire)) run_posted();
  }
}

void Listener::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mu_);
    posted_tasks_.push_back(std::move(task));
  }
  posted_.store(true, std::memory_order_release);
  client_->wake();
}

void Listener::run_posted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mu_);
    tasks.swap(posted_tasks_);
    posted_.store(false, std::memory_order_release);
  }
  for (auto& task : tasks) {
    try {
      task();
    } catch (const std::exception& e) {
      logger_.error(fmt::format("consumer group {}: a task posted to the listener failed: {}", name(), e.what()));
    }
  }
  // A tick asked for now (tick_now) runs at once, not a max_wait_time later.
  housekeeping();
}

std::vector<Listener::PartitionView> Listener::partition_views() const {
  std::vector<PartitionView> out;
  auto view = [&](const Partition& p, bool abandoned) {
    PartitionView v;
    v.topic = p.topic();
    v.partition = p.partition();
    v.busy = p.busy;
    v.queued = p.queued();
    v.tick_due = p.tick_due;
    v.failed = !p.busy && p.failed();  // the job writes it: read only once it ended
    v.pause = p.pause_state();
    v.committable = p.committable();
    v.resume_requested = p.resume_requested();
    v.held = p.held;
    v.abandoned = abandoned;
    out.push_back(std::move(v));
  };
  for (const auto& [key, p] : partitions_) view(*p, false);
  for (const auto& [key, p] : abandoned_) view(*p, true);
  return out;
}

void Listener::run_poll_hooks(Hook hook) {
  if (hook == Hook::before_poll) {
    before_polled_.clear();
    // Not for a partition with a job in flight (its hooks never overlap) or paused after
    // an error (it resumes, then its hooks run again).
    for (Partition* p : poll_hooked_)
      if (!p->busy && !p->pause_state().paused) {
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
    if (p->failed()) {
      p->take_control();
      pause_after_error(*p);
    } else {
      apply_control(*p);
    }
  }
  before_polled_.clear();
}

void Listener::collect(milliseconds max_wait) {
  const auto began = Clock::now();
  const auto deadline = std::min(began + max_wait, wake_at_);
  std::size_t n = 0;
  bool fetched = false;  // a broker answered (logged once per poll, not per message)
  while (!stop_.load()) {
    if (pausing_.throttled()) {
      if (n > 0) break;
      pausing_.relieve(live_partitions(), Clock::now());
      if (pausing_.throttled()) {
        // Over the group's budget: the messages stay in librdkafka's queue (it stops
        // fetching at its own limits; nothing is dropped, unlike a pause) until a job takes
        // some from ours. One poll per slice still serves the group (rebalances, commit
        // answers); a message it returns is queued like any other.
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (!jobs_ended_.load(std::memory_order_acquire) && left.count() > 0)
          wait_for_job_end(std::min(left, milliseconds(100)));
        if (kafka::Fetched m = client_->poll(milliseconds(0))) {
          fetched = true;
          accept(std::move(m));
          ++n;
        }
        break;
      }
    }
    // What librdkafka has queued already, in chunks the group's budget can take (a chunk
    // may overshoot it by what its messages are above the average seen so far).
    const std::size_t got = client_->drain(intake_chunk(), intake_);
    if (got > 0) {
      fetched = true;
      std::size_t bytes = 0;
      for (kafka::Fetched& m : intake_) {
        bytes += m.footprint();
        accept(std::move(m));
      }
      intake_.clear();
      average_footprint_ = bytes / got;
      n += got;
      // Back to the loop now and then: jobs that ended start their next batch.
      if (n >= kMaxIntake) break;
      continue;
    }
    if (n > 0) break;  // drained: hand out what came
    // Nothing queued: wait for a first message (in slices, to notice stop and the end of a
    // job), then take what came with it.
    if (jobs_ended_.load(std::memory_order_acquire) || posted_.load(std::memory_order_acquire)) break;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    if (kafka::Fetched m = client_->poll(std::min(left, milliseconds(100)))) {
      fetched = true;
      accept(std::move(m));
      ++n;
    }
  }
  if (fetched) note_broker_answered("a message was fetched");
  group_metadata_stale_ = true;  // the poll may have moved the generation (a rebalance)
  if (observed()) {
    // Published by housekeeping(), for every poll of the last 100 ms: an event per poll
    // cost about a tenth of the CPU with an asynchronous subscriber (the metrics).
    ++polls_.polls;
    polls_.count += n;
    polls_.duration += Clock::now() - began;
  }
}

void Listener::publish_polls() {
  if (polls_.polls == 0 || !observed()) return;
  Event e{EventType::poll, name(), {}, polls_.count, {}};
  e.polls = polls_.polls;
  e.duration = polls_.duration;
  polls_ = {};
  publish(e);
}

std::size_t Listener::intake_chunk() const {
  // Messages of the average size seen that fit the group's headroom, at least one.
  const std::size_t fit = pausing_.headroom() / std::max<std::size_t>(average_footprint_, 1);
  return std::clamp<std::size_t>(fit, 1, kIntakeChunk);
}

void Listener::wait_for_job_end(milliseconds at_most) {
  std::unique_lock lock(done_mu_);
  done_cv_.wait_for(lock, at_most,
                    [&] { return jobs_ended_.load(std::memory_order_acquire) || stop_.load(); });
}

void Listener::accept(kafka::Fetched m) {
  Partition* p = lookup(m);
  // Not ours any more, rewound and paused, or leaving: it is delivered again (after the
  // rewind, or to the next owner). At or below what was queued already: a duplicate
  // (librdkafka before 2.4 could fetch again from a stale position after a resume).
  if (!p || p->pause_state().paused || p->leaving || m.offset() <= p->last_queued()) {
    if (p && p->pause_state().paused && !p->leaving) pausing_.dropped_while_paused(*p, m.offset());
    return;  // m is released
  }
  const std::size_t bytes = m.footprint();
  p->enqueue(std::move(m));
  if (!p->busy) list(*p);
  pausing_.queued(*p, bytes);
}

void Listener::housekeeping() {
  if (stop_.load()) return;
  const auto now = Clock::now();
  if (now >= next_tick_) {
    for (const auto& [key, p] : partitions_) {
      const PauseState& pause = p->pause_state();
      if ((pause.paused && !pause.consumer_paused) || p->leaving || p->held || !p->route().hooks().tick)
        continue;
      p->tick_due = true;
      if (!p->busy) list(*p);
    }
    next_tick_ = now + settings_.tick_interval;
    dispatch();
  }
  // Every 100 ms, and when a resume is due (wake_at_ passed: collect() no longer waits).
  if (now < next_housekeeping_ && now < wake_at_) return;
  next_housekeeping_ = now + milliseconds(100);
  publish_polls();
  // The marks of user threads (jobs store their own at their end).
  store_all();
  // Consumer::resume(), from any thread: the consumer's pause ends now.
  for (const auto& [key, p] : partitions_)
    if (p->take_resume_request()) pausing_.consumer_resumed(*p, now);
  pausing_.resume_due(live_partitions(), now, [this](Partition& p) {
    if (p.queued() > 0) list(p);
  });
  wake_at_ = next_tick_;
  milliseconds longest{0};
  for (const auto& [key, p] : partitions_) {
    if (p->pause_state().paused) wake_at_ = std::min(wake_at_, p->pause_state().resume_at);
    if (p->busy) longest = std::max(longest, std::chrono::duration_cast<milliseconds>(now - p->job_started));
    if (!p->busy || p->long_job_reported) continue;
    const auto ran = std::chrono::duration_cast<milliseconds>(now - p->job_started);
    if (ran < long_job_warning_) continue;
    p->long_job_reported = true;
    logger_.warn(fmt::format(
        "consumer group {}: the job of {}/{} has run for {} ms; the partition waits for it (paused "
        "once its queue is full), the other partitions and the group's membership do not",
        name(), p->topic(), p->partition(), ran.count()));
  }
  for (const auto& [p, owned] : abandoned_)
    longest = std::max(longest, std::chrono::duration_cast<milliseconds>(now - p->job_started));
  longest_job_ms_.store(longest.count(), std::memory_order_relaxed);
  // Never in the past: a resume whose rewind failed was rescheduled by resume_due.
  wake_at_ = std::max(wake_at_, now + milliseconds(1));
  dispatch();
}

void Listener::run_hooks(const std::vector<Partition*>& parts, Hook hook) {
  for (Partition* p : parts)
    if (!p->busy) pool_.submit(jobs_, [p, hook] { p->run_hook(hook); });
  jobs_.wait();
}

Partition* Listener::lookup(const kafka::Fetched& m) {
  const std::pair<const void*, std::int32_t> key{m.topic_key(), m.partition()};
  // A batch is mostly runs of one partition: the last answer first.
  if (last_lookup_ && key == last_key_) return last_lookup_;
  auto it = fast_.find(key);
  if (it != fast_.end()) {
    last_key_ = key;
    return last_lookup_ = it->second;
  }
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
  publish_error(error, topic);
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

void Listener::on_error(const kafka::Status& error) {
  publish_error(error, {});
  // Logged when news only (kafka/connection_log.hpp): librdkafka repeats them.
  const bool news = connection_log_.note_error(error, Clock::now());
  if (error.code() == kafka::Status::Code::fatal) {
    logger_.error(fmt::format("consumer group {}: fatal Kafka error: {}; stopping", name(), error.text()));
    exit_code_ = kExitFatal;
    stop_ = true;
    return;
  }
  // After a security failure stopped the group, the same failure (librdkafka reports each
  // connection attempt's) and "no broker answers" say nothing new and must not read as if
  // Samsa kept retrying.
  if (stopped_by_security_ && (kafka::is_security_failure(error) ||
                               error.code() == kafka::Status::Code::all_brokers_down))
    return;
  if (kafka::is_security_failure(error)) {
    if (!reached_cluster_.load()) {
      logger_.error(fmt::format("consumer group {}: cannot connect to the Kafka cluster: {}; stopping: a security "
                                "setting is wrong, and retrying cannot fix it",
                                name(), kafka::security_failure_text(error)));
      exit_code_ = kExitFatal;
      stop_ = true;
      stopped_by_security_ = true;
      return;
    }
    if (news)
      logger_.error(fmt::format("consumer group {}: {}; it connected before, so Samsa keeps retrying; marks are "
                                "kept and committed once the connection succeeds again",
                                name(), kafka::security_failure_text(error)));
    return;
  }
  if (error.code() == kafka::Status::Code::all_brokers_down) {
    Clock::rep none = 0;
    brokers_down_since_.compare_exchange_strong(none, Clock::now().time_since_epoch().count());
    if (news)
      logger_.error(fmt::format("consumer group {}: no broker answers ({}); Samsa keeps retrying; marks "
                              "are kept and committed once a broker answers again",
                              name(), error.text()));
  } else if (news) {
    // A broker that cannot be reached at error level, as librdkafka's own FAIL line (dropped
    // for this one: kafka/connection_log.hpp) said it.
    logger_.write(error.unreachable() ? LogLevel::error : LogLevel::warn,
                  fmt::format("consumer group {}: {}: {}", name(), error.name(), error.text()));
  }
}

void Listener::note_broker_answered(const char* how) {
  if (!reached_cluster_.load(std::memory_order_relaxed)) reached_cluster_.store(true);
  if (brokers_down_since_.load(std::memory_order_relaxed) == 0) return;
  const Clock::rep since = brokers_down_since_.exchange(0);
  if (since == 0) return;
  connection_log_.note_answer();
  const auto down = std::chrono::duration_cast<milliseconds>(Clock::now() - Clock::time_point(Clock::duration(since)));
  logger_.warn(fmt::format("consumer group {}: recovered: a broker answers again ({}) after {} ms without one",
                           name(), how, down.count()));
}

void Listener::on_log(LogLevel level, const std::string& facility, const std::string& text) {
  if (level < logger_.level()) return;
  logger_.write(level, fmt::format("librdkafka {}: {}", facility, text));
}

}  // namespace samsa::runtime
