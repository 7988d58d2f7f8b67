// Listener (listener.hpp): the rebalance callbacks. An assignment builds the partitions and
// hands each its initialized() job without waiting; a revocation drops the revoked
// partitions' queues, waits for their jobs only (revoke_timeout), runs revoked(), commits
// their marks and then gives them up; a job that outlives revoke_timeout is abandoned.
// Listener thread, inside the client's poll.
#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "runtime/current_exception.hpp"
#include "runtime/listener.hpp"
#include "samsa/exit_codes.hpp"

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
      pausing_.release_batch(**it);
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
  pausing_.uncount(p);  // the new assignment's queues get the budget
  std::lock_guard lock(partitions_mu_);
  auto it = partitions_.find({p.topic(), p.partition()});
  abandoned_[&p] = std::move(it->second);
  partitions_.erase(it);
}

void Listener::finish_abandoned(Partition& p) {
  p.busy = false;
  pausing_.release_batch(p);
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
  const TopicPartition key{p.topic(), p.partition()};
  abandoned_.erase(&p);
  // A new instance of the same partition waited for this one.
  auto it = partitions_.find(key);
  if (it != partitions_.end() && it->second->held) {
    it->second->held = false;
    start_job(*it->second, Job::initialized);
  }
}

void Listener::on_assigned(const std::vector<TopicPartitionOffset>& parts) {
  forget_lookups();
  assign(parts);
}

void Listener::on_revoked(const std::vector<TopicPartitionOffset>& parts, bool lost) {
  forget_lookups();
  revoke(parts, lost);
}

void Listener::on_rebalance_error(const kafka::Status& error, const std::vector<TopicPartitionOffset>& parts) {
  forget_lookups();
  logger_.error(fmt::format("consumer group {}: rebalance failed: {}", name(), error.text()));
  revoke(parts, client_->assignment_lost());
}

void Listener::assign(const std::vector<TopicPartitionOffset>& parts) {
  const auto began = Clock::now();
  note_broker_answered("the group coordinator assigned partitions");
  std::vector<std::unique_ptr<Partition>> created;
  // What librdkafka is told: a route with an offset store starts at the store's offset.
  std::vector<TopicPartitionOffset> assigned = parts;
  // After one read of a store failed, the other partitions are left to initialized(): the
  // rebalance callback must not wait for an unreachable database once per partition.
  bool stores_answer = true;
  for (auto& e : assigned) {
    const TopicRoute* route = group_.find(e.topic);
    if (!route) continue;
    try {
      created.push_back(std::make_unique<Partition>(*this, *route, effective(settings_, group_, *route), e.partition));
      if (route->offset_store() && stores_answer) stores_answer = start_from_store(*created.back(), e);
    } catch (...) {
      // Without a consumer its messages would be dropped unmarked (never committed): stop
      // rather than leave the partition stuck. Whatever the factory threw: this runs inside
      // librdkafka's C callback, which nothing may leave by an exception.
      logger_.error(fmt::format("consumer group {}: cannot create the consumer for {}/{}: {}; stopping",
                                name(), e.topic, e.partition, current_exception_text()));
      exit_code_ = kExitFatal;
      stop_ = true;
    }
  }
  if (const kafka::Status failure = client_->assign(assigned)) {
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
  joined_.store(true);
  rebalancing_since_.store(0);
  partition_count_.store(partitions_.size());
  if (observed()) {
    Event e{EventType::partitions_assigned, name(), parts, 0, {}};
    e.duration = Clock::now() - began;
    publish(e);
  }
}

bool Listener::start_from_store(Partition& p, TopicPartitionOffset& e) {
  try {
    if (const std::optional<std::int64_t> next = p.load_stored()) e.offset = *next;
    return true;
  } catch (...) {
    // Assigned as without a store; the read is tried again before any delivery (with
    // initialized(), and its back-off), so nothing is consumed from a guessed offset.
    logger_.warn(p.at(-1), fmt::format("consumer group {}: {}/{}: the offset store {} did not answer ({}); the "
                                       "partition delivers nothing until it does",
                                       name(), p.topic(), p.partition(), p.route().offset_store()->describe(),
                                       current_exception_text()));
    return false;
  }
}

void Listener::revoke(const std::vector<TopicPartitionOffset>& parts, bool lost) {
  const auto began = Clock::now();
  // An eager revocation gives up everything until the next assignment; an incremental one
  // may be the whole rebalance (nothing new is assigned), so it does not count.
  if (!client_->incremental()) rebalancing_since_.store(began.time_since_epoch().count());
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
  erase_going(before_polled_);
  // What was fetched for them and not handed to a job is dropped unhandled and unmarked:
  // the next owner receives it from the committed offset.
  pausing_.forget(going);
  for (Partition* p : going) {
    p->leaving = true;
    p->wind_down();  // a job in flight ends after the batch in hand
    // A job that has not started yet (behind other partitions' jobs) never will: its batch
    // is dropped unhandled like the queue.
    if (p->busy && pool_.cancel(p->jobs()) > 0) {
      p->busy = false;
      pausing_.release_batch(*p);
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
    pausing_.release(*p);
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
  partition_count_.store(partitions_.size());
  if (observed()) {
    Event e{lost ? EventType::partitions_lost : EventType::partitions_revoked, name(), parts, 0, {}};
    e.duration = Clock::now() - began;
    publish(e);
  }
}

}  // namespace samsa::runtime
