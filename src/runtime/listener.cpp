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

std::string describe(const rd_kafka_topic_partition_list_t* list, bool with_offsets = false) {
  // "user_events[0,1,2] other[0]" or with offsets "user_events/0@15 ..."
  std::string out;
  std::string last_topic;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (with_offsets) {
      if (!out.empty()) out += ' ';
      out += fmt::format("{}/{}@{}", e.topic, e.partition, e.offset);
      continue;
    }
    if (last_topic != e.topic) {
      if (!out.empty()) out += "] ";
      out += fmt::format("{}[{}", e.topic, e.partition);
      last_topic = e.topic;
    } else {
      out += fmt::format(",{}", e.partition);
    }
  }
  if (!with_offsets && !out.empty()) out += ']';
  return out.empty() ? "nothing" : out;
}

std::vector<TopicPartitionOffset> to_offsets(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  out.reserve(list ? list->cnt : 0);
  for (int i = 0; list && i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  return out;
}

}  // namespace

Listener::Listener(const Settings& settings, const ConsumerGroupRoute& group,
                   const std::string& brokers, WorkerPool& pool, Logger& logger,
                   const Monitor& monitor)
    : settings_(settings),
      group_(group),
      group_settings_(effective(settings, group)),
      pool_(pool),
      logger_(logger),
      monitor_(monitor) {
  auto props = effective_kafka(settings, group);
  if (!brokers.empty()) props["bootstrap.servers"] = brokers;
  if (props["bootstrap.servers"].empty())
    throw SettingsError(
        "setting 'kafka.bootstrap.servers': not set; pass --brokers, set KAFKA_BROKERS or set "
        "config.kafka[\"bootstrap.servers\"]");
  throw_if_problems(protocol_problems(group_settings_.group_protocol, props, rd_kafka_version(),
                                      "consumer group '" + group.name() + "': "));
  props["group.id"] = group.name();
  props.emplace("client.id", settings.client_id);
  // Samsa owns the stored offsets (marking); librdkafka's auto-commit commits them.
  props["enable.auto.offset.store"] = "false";
  props.emplace("enable.auto.commit", "true");
  props["auto.offset.reset"] = std::string(to_string(group_settings_.initial_offset));
  if (group_settings_.group_protocol == GroupProtocol::consumer) {
    // KIP-848: the broker assigns and every rebalance is incremental; the classic-only
    // properties are refused by librdkafka (checked above with a clearer message).
    props["group.protocol"] = "consumer";
  } else {
    props["partition.assignment.strategy"] =
        settings.rebalance_protocol == "cooperative-sticky" ? "cooperative-sticky" : "range,roundrobin";
  }
  props["enable.partition.eof"] = "false";
  add_fetch_queue_defaults(props, rd_kafka_version());

  // librdkafka's own messages may quote a property's value (a bad sasl.oauthbearer.config
  // is quoted in its token error): every one is redacted before it is logged.
  redactor_ = SecretRedactor(props);
  auto conf = kafka::make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Listener::rebalance_cb);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &Listener::commit_cb);
  rd_kafka_conf_set_error_cb(conf.get(), &Listener::error_cb);
  rd_kafka_conf_set_log_cb(conf.get(), &Listener::log_cb);
  rk_ = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  // Read once: housekeeping() reports a job still running at half of max.poll.interval.ms.
  char interval[32];
  size_t size = sizeof interval;
  if (rd_kafka_conf_get(rd_kafka_conf(rk_.get()), "max.poll.interval.ms", interval, &size) == RD_KAFKA_CONF_OK)
    long_job_warning_ = milliseconds(std::atol(interval) / 2);
  // One queue for messages, rebalances, commit results and errors: all served by poll.
  rd_kafka_poll_set_consumer(rk_.get());
  consumer_queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
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
  consumer_queue_.reset();
  rk_.reset();
}

void Listener::start() {
  auto topics = kafka::make_list(static_cast<int>(group_.topics().size()));
  for (const auto& t : group_.topics())
    rd_kafka_topic_partition_list_add(topics.get(), t->name().c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(rk_.get(), topics.get()))
    throw kafka::error("consumer group " + name() + ": cannot subscribe", err);
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
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), timeout);
    if (!m) {
      if (n > 0) break;
      continue;
    }
    if (m->err) {
      handle_consumer_error(m);
      rd_kafka_message_destroy(m);
      continue;
    }
    fetched = true;
    accept(m);
    ++n;
  }
  if (fetched) note_broker_answered("a message was fetched");
}

void Listener::accept(rd_kafka_message_t* m) {
  Partition* p = lookup(m);
  // Not ours any more, rewound and paused, or leaving: it is delivered again (after the
  // rewind, or to the next owner). At or below what was queued already: a duplicate
  // (librdkafka before 2.4 could fetch again from a stale position after a resume).
  if (!p || p->paused || p->leaving || m->offset <= p->last_queued()) {
    rd_kafka_message_destroy(m);
    return;
  }
  if (p->queued() == 0) ++queued_partitions_;
  p->enqueue(m);
  queued_bytes_ += m->len;
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
    if (wake_on_job_end_.load(std::memory_order_acquire)) rd_kafka_queue_yield(consumer_queue_.get());
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
  auto list = kafka::make_list(1);
  rd_kafka_topic_partition_list_add(list.get(), p.topic().c_str(), p.partition());
  auto err = pause ? rd_kafka_pause_partitions(rk_.get(), list.get()) : rd_kafka_resume_partitions(rk_.get(), list.get());
  if (!err) err = list->elems[0].err;
  if (err)
    logger_.error(fmt::format("consumer group {}: {}/{}: {} failed: {}", name(), p.topic(), p.partition(),
                              pause ? "pause" : "resume", rd_kafka_err2str(err)));
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
  auto list = kafka::make_list(1);
  rd_kafka_topic_partition_list_add(list.get(), p.topic().c_str(), p.partition())->offset = target;
  std::string failure;
  if (rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_.get(), list.get(), 10000)) {
    failure = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
  } else if (list->elems[0].err) {
    failure = rd_kafka_err2str(list->elems[0].err);
  }
  if (failure.empty()) {
    drop_queue(p, target);
    return true;
  }
  logger_.error(fmt::format("consumer group {}: {}/{}: rewind to offset {} failed: {}; the partition "
                            "stays paused and the rewind is tried again",
                            name(), p.topic(), p.partition(), target, failure));
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

Partition* Listener::lookup(const rd_kafka_message_t* m) {
  const std::pair<const void*, std::int32_t> key{m->rkt, m->partition};
  auto it = fast_.find(key);
  if (it != fast_.end()) return it->second;
  auto pit = partitions_.find({rd_kafka_topic_name(m->rkt), m->partition});
  if (pit == partitions_.end()) return nullptr;
  fast_.emplace(key, pit->second.get());
  return pit->second.get();
}

void Listener::handle_consumer_error(const rd_kafka_message_t* m) {
  const std::string topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
  switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
      return;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      warn_missing_topic(topic);
      return;
    default:
      logger_.error(fmt::format("consumer group {}: consumer error{}: {}", name(),
                                topic.empty() ? "" : " on " + topic, rd_kafka_message_errstr(m)));
  }
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
      kafka::TopicPtr rkt(rd_kafka_topic_new(rk_.get(), it->c_str(), nullptr));
      const rd_kafka_metadata_t* md = nullptr;
      // A broker that does not answer is reported by the poll loop; only a definite
      // "unknown topic" counts here.
      const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, rkt.get(), &md, 3000);
      rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR__TIMED_OUT;
      if (!err && md && md->topic_cnt == 1) topic_err = md->topics[0].err;
      if (md) rd_kafka_metadata_destroy(md);
      if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) warn_missing_topic(*it);
      it = topic_err == RD_KAFKA_RESP_ERR_NO_ERROR ? unknown.erase(it) : it + 1;
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

std::vector<TopicPartitionOffset> Listener::note_committed(const rd_kafka_topic_partition_list_t* list,
                                                           rd_kafka_resp_err_t request_err) {
  std::vector<TopicPartitionOffset> news;
  {
    std::lock_guard lock(confirmed_mu_);
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      if (request_err || e.err) {
        news.push_back({e.topic, e.partition, e.offset});  // a failure is always news
        continue;
      }
      if (e.offset < 0) continue;  // nothing was committed for it
      auto [it, inserted] = confirmed_.try_emplace({e.topic, e.partition}, e.offset);
      if (!inserted) {
        if (it->second == e.offset) continue;  // confirmed already, and reported then
        it->second = e.offset;
      }
      news.push_back({e.topic, e.partition, e.offset});
    }
  }
  if (request_err) return news;
  std::lock_guard lock(partitions_mu_);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err || e.offset < 0) continue;
    auto it = partitions_.find({e.topic, e.partition});
    if (it != partitions_.end()) it->second->committed(e.offset, kafka::metadata_of(e));
  }
  return news;
}

rd_kafka_resp_err_t Listener::commit_list_sync(rd_kafka_topic_partition_list_t* list, Deadline deadline) {
  // On a queue of our own, so that the wait is bounded by `deadline` (a plain synchronous
  // rd_kafka_commit can block far longer while no coordinator answers).
  kafka::QueuePtr queue(rd_kafka_queue_new(rk_.get()));
  // The result comes back on that queue only. Without a callback of the commit's own,
  // librdkafka also hands it to the global offset_commit_cb, served by a later poll: after
  // revoke() published partitions_revoked, and reported a second time. This callback is
  // never called (the queue is served with the event API, which ignores it).
  auto only_on_the_queue = [](rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*) {};
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  for (int attempt = 0;; ++attempt) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    err = rd_kafka_commit_queue(rk_.get(), list, queue.get(), only_on_the_queue, nullptr);
    if (err) break;
    kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), kafka::to_ms(left)));
    if (!event) {
      err = RD_KAFKA_RESP_ERR__TIMED_OUT;
      logger_.error(fmt::format("consumer group {}: commit of {} got no answer within {} ms", name(),
                                describe(list, true), left.count()));
      // Unconfirmed: reported as failed (a late answer is dropped with the queue; the
      // marks stay uncommitted and are committed again).
      if (observed()) publish({EventType::offsets_committed, name(), to_offsets(list), 0, rd_kafka_err2str(err)});
      break;
    }
    const rd_kafka_resp_err_t request_err = rd_kafka_event_error(event.get());
    const rd_kafka_topic_partition_list_t* result = rd_kafka_event_topic_partition_list(event.get());
    err = request_err;
    if (!err && result)
      for (int i = 0; i < result->cnt && !err; ++i) err = result->elems[i].err;
    // Recorded, logged and published here, as soon as the answer is known: revoke()
    // publishes partitions_revoked after this commit's offsets_committed.
    on_commit(request_err, result);
    // REBALANCE_IN_PROGRESS cannot clear while this thread holds up the poll loop; the
    // marks stay stored and are committed when the partitions are revoked.
    if (!err || !kafka::is_retriable_commit_error(err) ||
        err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || attempt >= 4)
      break;
    std::this_thread::sleep_for(std::min(milliseconds(100 << attempt),
                                         std::chrono::duration_cast<milliseconds>(deadline - Clock::now())));
  }
  return err;
}

rd_kafka_resp_err_t Listener::commit_partition_sync(Partition& p) {
  // A partition given up (a job that outlived revoke_timeout) commits nothing: the broker
  // would take a classic member's commit for a partition another member owns now.
  if (!p.owned()) return RD_KAFKA_RESP_ERR__STATE;
  p.store();
  const Partition::Mark mark = p.uncommitted();
  if (mark.offset < 0) return RD_KAFKA_RESP_ERR_NO_ERROR;
  auto list = kafka::make_list(1);
  kafka::add_offset(list.get(), p.topic(), p.partition(), mark.offset, mark.metadata);
  return commit_list_sync(list.get(), Clock::now() + kCommitBudget);
}

rd_kafka_resp_err_t Listener::commit_all_sync(const std::vector<Partition*>* only, Deadline deadline) {
  auto list = kafka::make_list();
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
      const Partition::Mark mark = p->uncommitted();
      if (mark.offset >= 0) kafka::add_offset(list.get(), p->topic(), p->partition(), mark.offset, mark.metadata);
    }
  }
  if (list->cnt == 0) return RD_KAFKA_RESP_ERR_NO_ERROR;
  return commit_list_sync(list.get(), deadline);
}

void Listener::commit_async() {
  store_all();
  auto err = rd_kafka_commit(rk_.get(), nullptr, 1);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    logger_.warn(fmt::format("consumer group {}: asynchronous commit not started: {}", name(),
                             rd_kafka_err2str(err)));
}

std::string Listener::committed_metadata(const Partition& p, milliseconds timeout) {
  auto list = kafka::make_list(1);
  rd_kafka_topic_partition_list_add(list.get(), p.topic().c_str(), p.partition());
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), list.get(), kafka::to_ms(timeout));
  if (!err) err = list->elems[0].err;
  if (err)
    throw kafka::error(fmt::format("consumer group {}: cannot read the committed offset of {}/{}", name(),
                                   p.topic(), p.partition()),
                       err);
  return std::string(kafka::metadata_of(list->elems[0]));
}

void Listener::commit_marked_now(milliseconds budget) {
  auto err = commit_all_sync(nullptr, Clock::now() + budget);
  if (err)
    logger_.error(fmt::format("consumer group {}: final commit of the marked offsets failed: {}",
                              name(), rd_kafka_err2str(err)));
  else
    logger_.warn(fmt::format("consumer group {}: committed the marked offsets", name()));
}

// ---- Rebalance ----

void Listener::rebalance_cb(rd_kafka_t*, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<Listener*>(opaque)->on_rebalance(err, parts);
}

void Listener::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  fast_.clear();
  // Incremental (cooperative-sticky, and always under KIP-848) or eager: librdkafka knows
  // which protocol the group agreed on; a setting could be wrong (a KIP-848 member that is
  // told to assign eagerly has its rd_kafka_assign refused and stalls).
  const char* protocol = rd_kafka_rebalance_protocol(rk_.get());
  incremental_ = protocol && std::string_view(protocol) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(parts);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    revoke(parts);
  } else {
    logger_.error(fmt::format("consumer group {}: rebalance failed: {}", name(), rd_kafka_err2str(err)));
    revoke(parts);
  }
}

void Listener::assign(rd_kafka_topic_partition_list_t* parts) {
  note_broker_answered("the group coordinator assigned partitions");
  std::vector<std::unique_ptr<Partition>> created;
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& e = parts->elems[i];
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
  std::string failure;
  if (incremental_) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_assign(rk_.get(), parts)) {
      failure = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
    }
  } else if (auto err = rd_kafka_assign(rk_.get(), parts)) {
    failure = rd_kafka_err2str(err);
  }
  if (!failure.empty()) {
    // Not assigned is not owned: the partitions just built are dropped unused (no hook ran
    // on them, nothing was delivered or marked), and the group gives them out again.
    logger_.error(fmt::format("consumer group {}: {} assign of {} failed: {}; the partitions are "
                              "not owned by this process",
                              name(), incremental_ ? "incremental" : "eager", describe(parts), failure));
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
  if (observed()) publish({EventType::partitions_assigned, name(), to_offsets(parts), 0, {}});
}

void Listener::revoke(rd_kafka_topic_partition_list_t* parts) {
  const bool lost = rd_kafka_assignment_lost(rk_.get());
  std::vector<Partition*> going;
  for (int i = 0; i < parts->cnt; ++i) {
    auto it = partitions_.find({parts->elems[i].topic, parts->elems[i].partition});
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
    if (auto err = commit_all_sync(&going))
      logger_.error(fmt::format("consumer group {}: commit of revoked partitions failed: {}; the "
                                "next owner re-delivers from the last committed offset",
                                name(), rd_kafka_err2str(err)));
  } else {
    logger_.warn(fmt::format("consumer group {}: partitions lost ({}): marks since the last commit "
                             "could not be committed; the next owner re-delivers them",
                             name(), describe(parts)));
  }
  if (stop_.load()) note_unconfirmed(going);
  // librdkafka keeps a partition's pause across assignments: undo ours.
  auto paused = kafka::make_list();
  for (Partition* p : going) {
    p->disown();
    if (p->paused || p->flow_paused)
      rd_kafka_topic_partition_list_add(paused.get(), p->topic().c_str(), p->partition());
  }
  if (paused->cnt) rd_kafka_resume_partitions(rk_.get(), paused.get());
  for (Partition* p : stuck) abandon(*p);
  {
    std::lock_guard lock(partitions_mu_);
    for (Partition* p : going) {
      if (p->abandoned) continue;
      p->jobs().wait();  // returns at once: their jobs ended (the pool's last touch)
      partitions_.erase({p->topic(), p->partition()});
    }
  }
  if (incremental_) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_.get(), parts)) {
      logger_.error(fmt::format("consumer group {}: incremental unassign failed: {}", name(), rd_kafka_error_string(error)));
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(rk_.get(), nullptr);
  }
  logger_.info(fmt::format("consumer group {}: revoked {} ({} partitions owned)", name(),
                           describe(parts), partitions_.size()));
  if (observed()) publish({EventType::partitions_revoked, name(), to_offsets(parts), 0, {}});
}

void Listener::commit_cb(rd_kafka_t*, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  static_cast<Listener*>(opaque)->on_commit(err, offsets);
}

void Listener::on_commit(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;  // nothing was due
  std::vector<TopicPartitionOffset> news;
  if (offsets) news = note_committed(offsets, err);
  // A partition's error fails the commit as much as the request's.
  for (int i = 0; !err && offsets && i < offsets->cnt; ++i) err = offsets->elems[i].err;
  if (!err) note_broker_answered("a commit was confirmed");
  if (!err && offsets && offsets->cnt > 0 && news.empty()) {
    // With enable.auto.commit librdkafka commits the stored offsets of the partitions it
    // removes from the assignment, after revoke() committed the same ones: not news.
    if (logger_.level() <= LogLevel::debug)
      logger_.debug(fmt::format("consumer group {}: librdkafka committed {} again (committed already)",
                                name(), describe(offsets, true)));
    return;
  }
  if (err) {
    std::string msg = fmt::format("consumer group {}: commit of {} failed: {}", name(),
                                  offsets ? describe(offsets, true) : "offsets", rd_kafka_err2str(err));
    if (kafka::is_ownership_lost(err) || err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
      logger_.warn(msg + " (ownership changing; the next owner re-delivers from the last commit)");
    else
      logger_.error(msg);
  } else if (logger_.level() <= LogLevel::debug && offsets) {
    logger_.debug(fmt::format("consumer group {}: committed {}", name(), describe(offsets, true)));
  }
  if (observed())
    publish({EventType::offsets_committed, name(), std::move(news), 0, err ? rd_kafka_err2str(err) : std::string()});
}

void Listener::error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Listener*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    self->logger_.error(fmt::format("consumer group {}: fatal Kafka error: {}; stopping", self->name(),
                                    self->redactor_.redact(buf)));
    self->exit_code_ = kExitFatal;
    self->stop_ = true;
    return;
  }
  self->on_error(err, reason);
}

void Listener::on_error(int err, const char* raw_reason) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  const std::string reason = redactor_.redact(raw_reason);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    Clock::rep none = 0;
    brokers_down_since_.compare_exchange_strong(none, Clock::now().time_since_epoch().count());
    logger_.error(fmt::format("consumer group {}: no broker answers ({}); Samsa keeps retrying; marks "
                              "are kept and committed once a broker answers again",
                              name(), reason));
  } else
    logger_.warn(fmt::format("consumer group {}: {}: {}", name(), rd_kafka_err2name(code), reason));
}

void Listener::note_broker_answered(const char* how) {
  if (brokers_down_since_.load(std::memory_order_relaxed) == 0) return;
  const Clock::rep since = brokers_down_since_.exchange(0);
  if (since == 0) return;
  const auto down = std::chrono::duration_cast<milliseconds>(Clock::now() - Clock::time_point(Clock::duration(since)));
  logger_.warn(fmt::format("consumer group {}: recovered: a broker answers again ({}) after {} ms without one",
                           name(), how, down.count()));
}

void Listener::log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto* self = static_cast<Listener*>(rd_kafka_opaque(rk));
  if (!self) return;
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  LogLevel l = level <= 3 ? LogLevel::error : level == 4 ? LogLevel::warn : level <= 6 ? LogLevel::info : LogLevel::debug;
  if (l < self->logger_.level()) return;
  self->logger_.write(l, fmt::format("librdkafka {}: {}", fac, self->redactor_.redact(buf)));
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
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), kafka::to_ms(left))) {
      if (m->err) handle_consumer_error(m);
      rd_kafka_message_destroy(m);
    }
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
  rd_kafka_resp_err_t err;
  // A rebalance in progress refuses the commit (REBALANCE_IN_PROGRESS; with cooperative
  // rebalancing also ILLEGAL_GENERATION until this member rejoined): serve the rebalance,
  // then commit again, until the shutdown deadline.
  while ((err = commit_all_sync(nullptr, deadline)) &&
         (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION) &&
         Clock::now() < deadline) {
    logger_.info(fmt::format("consumer group {}: the group is rebalancing ({}); serving the rebalance "
                             "before committing again",
                             name(), rd_kafka_err2name(err)));
    serve_rebalance_for(milliseconds(500));
    drain_jobs();  // a partition assigned meanwhile runs initialized()
  }
  if (err)
    logger_.error(fmt::format("consumer group {}: the final commit was not confirmed: {}; leaving the "
                              "group commits once more",
                              name(), rd_kafka_err2str(err)));
  else
    logger_.info(fmt::format("consumer group {}: committed the marked offsets", name()));
  logger_.info(fmt::format("consumer group {}: leaving the group", name()));
  // Runs the revoke callback (revoked(), commit) for what is still assigned. On librdkafka
  // < 2.1 close can hang after partitions were lost (#4187): App's shutdown_timeout bounds it.
  if (auto err = rd_kafka_consumer_close(rk_.get()))
    logger_.warn(fmt::format("consumer group {}: close: {}", name(), rd_kafka_err2str(err)));
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
