#include "runtime/committer.hpp"

#include <spdlog/fmt/fmt.h>

#include <optional>
#include <thread>

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::vector<TopicPartitionOffset> to_offsets(const std::vector<kafka::CommitOffset>& offsets) {
  std::vector<TopicPartitionOffset> out;
  out.reserve(offsets.size());
  for (const auto& o : offsets) out.push_back({o.topic, o.partition, o.offset});
  return out;
}

}  // namespace

std::string describe_offsets(const std::vector<kafka::CommitOffset>& offsets) {
  std::string out;
  for (const auto& o : offsets) out += fmt::format("{}{}/{}@{}", out.empty() ? "" : " ", o.topic, o.partition, o.offset);
  return out.empty() ? "nothing" : out;
}

Committer::Committer(kafka::ConsumerClient& client, const std::string& group, Logger& logger, const Monitor& monitor,
                     Confirmed confirmed, Answered answered)
    : client_(client),
      group_(group),
      logger_(logger),
      monitor_(monitor),
      confirmed_cb_(std::move(confirmed)),
      answered_cb_(std::move(answered)) {}

kafka::Status Committer::commit_sync(const std::vector<kafka::CommitOffset>& given, Deadline deadline,
                                     const Owned& owned) {
  if (given.empty()) return {};
  std::vector<kafka::CommitOffset> offsets = given;  // a stale epoch's retry may drop some
  kafka::Status err(kafka::Status::Code::timed_out, "_TIMED_OUT", "Local: Timed out");
  kafka::Status dropped;  // an ownership loss found before a retry
  for (int attempt = 0;; ++attempt) {
    const auto asked = Clock::now();
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - asked);
    if (left.count() <= 0) break;
    // The epoch the commit goes out with (librdkafka reads its own when it sends, a moment
    // later: at worst one retry more). Unknown under the classic protocol.
    const std::optional<std::int32_t> epoch = client_.member_epoch();
    kafka::CommitAnswer answer;
    {
      // One synchronous commit in flight per group at a time: librdkafka completes an
      // assignment change (a KIP-848 member acknowledges its revocation) only at a moment
      // with no commit in flight, and workers marking synchronously back to back kept one in
      // flight for over a minute on real Kafka 4.1.
      // A flag under a mutex rather than a timed_mutex: ThreadSanitizer (GCC 12) does not
      // see pthread_mutex_clocklock, and reports every unlock of a timed_mutex as wrong.
      std::unique_lock lock(in_flight_mu_);
      if (!in_flight_cv_.wait_until(lock, deadline, [&] { return !in_flight_; })) {
        logger_.error(fmt::format("consumer group {}: commit of {} not sent: the group's synchronous commit "
                                  "before it was still waiting for its answer at the deadline",
                                  group_, describe_offsets(offsets)));
        if (!monitor_.empty()) {
          Event e{EventType::commit_failed, group_, to_offsets(offsets), 0, err.text()};
          e.duration = Clock::now() - asked;
          monitor_.publish(e);
        }
        break;
      }
      in_flight_ = true;
      lock.unlock();
      struct Done {
        Committer& c;
        ~Done() {
          {
            std::lock_guard l(c.in_flight_mu_);
            c.in_flight_ = false;
          }
          c.in_flight_cv_.notify_one();
        }
      } done{*this};
      answer = client_.commit(offsets, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    }
    if (!answer.answered && answer.request.code() != kafka::Status::Code::timed_out) {
      err = answer.request;  // not sent
      break;
    }
    if (!answer.answered) {
      err = answer.request;
      logger_.error(fmt::format("consumer group {}: commit of {} got no answer within {} ms", group_,
                                describe_offsets(offsets), left.count()));
      if (!monitor_.empty()) {
        Event e{EventType::commit_failed, group_, to_offsets(offsets), 0, err.text()};
        e.duration = Clock::now() - asked;
        monitor_.publish(e);
      }
      break;
    }
    err = answer.first_error();
    // Recorded, logged and published here, as soon as the answer is known: revoke()
    // publishes partitions_revoked after this commit's offsets_committed.
    on_answer(answer, Clock::now() - asked);
    if (err.code() == kafka::Status::Code::stale_member_epoch && epoch) {
      // A heartbeat moved the member to a new epoch after the commit left (librdkafka asks
      // for one at once when a commit is refused so). Retried, with no pause and no limit
      // but the deadline, once the client has the new epoch: it is not a sign of lost
      // partitions.
      if (!await_new_epoch(*epoch, deadline)) break;
      --attempt;  // not one of the transient errors' tries
    } else {
      if (!err || !err.retriable() || err.code() == kafka::Status::Code::rebalance_in_progress || attempt >= 4)
        break;
      std::this_thread::sleep_for(
          std::min(milliseconds(100 << attempt), std::chrono::duration_cast<milliseconds>(deadline - Clock::now())));
    }
    // The broker does not check whose partitions a commit names (only the member and its
    // epoch): a retry names only those this member still owns.
    if (keep_owned(offsets, owned))
      dropped = kafka::Status(kafka::Status::Code::state, "_STATE", "the partition is no longer assigned to this member",
                              true);
    if (offsets.empty()) break;
  }
  if (offsets.empty() || (!err && dropped)) return dropped;
  return err;
}

bool Committer::await_new_epoch(std::int32_t sent, Deadline deadline) {
  for (;;) {
    // 0: rejoining after a fence, -1: left; neither is an epoch to commit with.
    const std::optional<std::int32_t> now = client_.member_epoch();
    if (now && *now > 0 && *now != sent) return true;
    // Fenced: the new epoch comes only after the lost partitions were given up; nothing to
    // wait for (keep_owned drops them all).
    if (client_.assignment_lost()) return true;
    if (Clock::now() >= deadline) {
      logger_.warn(fmt::format("consumer group {}: the member's epoch is still {} at the commit's deadline; "
                               "the marks stay stored and the next commit carries them",
                               group_, now ? std::to_string(*now) : std::string("unknown")));
      return false;
    }
    std::this_thread::sleep_for(std::min(milliseconds(5), std::chrono::duration_cast<milliseconds>(deadline - Clock::now())));
  }
}

bool Committer::keep_owned(std::vector<kafka::CommitOffset>& offsets, const Owned& owned) {
  const bool lost = client_.assignment_lost();
  std::vector<kafka::CommitOffset> gone;
  std::erase_if(offsets, [&](const kafka::CommitOffset& o) {
    if (!lost && (!owned || owned(o.topic, o.partition))) return false;
    gone.push_back(o);
    return true;
  });
  if (gone.empty()) return false;
  logger_.warn(fmt::format("consumer group {}: commit of {} not retried: no longer assigned to this member{}", group_,
                           describe_offsets(gone), lost ? " (assignment lost)" : ""));
  return true;
}

void Committer::commit_async() {
  async_asked_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  const kafka::Status err = client_.commit_async();
  if (err && err.code() != kafka::Status::Code::no_offset)
    logger_.warn(fmt::format("consumer group {}: asynchronous commit not started: {}", group_, err.text()));
}

std::vector<TopicPartitionOffset> Committer::note(const kafka::CommitAnswer& answer) {
  std::vector<TopicPartitionOffset> news;
  {
    std::lock_guard lock(mu_);
    for (const auto& o : answer.offsets) {
      if (answer.request || o.status) {
        news.push_back({o.topic, o.partition, o.offset});  // a failure is always news
        continue;
      }
      if (o.offset < 0) continue;  // nothing was committed for it
      auto [it, inserted] = confirmed_.try_emplace({o.topic, o.partition}, o.offset);
      if (!inserted) {
        if (it->second == o.offset) continue;  // confirmed already, and reported then
        it->second = o.offset;
      }
      news.push_back({o.topic, o.partition, o.offset});
    }
  }
  if (answer.request) return news;
  for (const auto& o : answer.offsets)
    if (!o.status && o.offset >= 0) confirmed_cb_(o);
  return news;
}

void Committer::on_answer(const kafka::CommitAnswer& answer, std::chrono::nanoseconds latency) {
  if (answer.request.code() == kafka::Status::Code::no_offset) return;  // nothing was due
  const std::vector<TopicPartitionOffset> news = note(answer);
  // A partition's error fails the commit as much as the request's.
  const kafka::Status err = answer.first_error();
  if (!err) answered_cb_();
  if (!err && !answer.offsets.empty() && news.empty()) {
    // With enable.auto.commit librdkafka commits the stored offsets of the partitions it
    // removes from the assignment, after revoke() committed the same ones: not news.
    if (logger_.level() <= LogLevel::debug)
      logger_.debug(fmt::format("consumer group {}: librdkafka committed {} again (committed already)", group_,
                                describe_offsets(answer.offsets)));
    return;
  }
  if (err) {
    std::string msg = fmt::format("consumer group {}: commit of {} failed: {}", group_,
                                  answer.offsets.empty() ? "offsets" : describe_offsets(answer.offsets), err.text());
    if (err.ownership_lost() || err.code() == kafka::Status::Code::rebalance_in_progress)
      logger_.warn(msg + " (ownership changing; the next owner re-delivers from the last commit)");
    else if (err.code() == kafka::Status::Code::stale_member_epoch)
      logger_.warn(msg + (latency.count() < 0
                              ? " (the member's epoch moved on; the offsets stay stored and the next commit carries them)"
                              : " (the member's epoch moved on; retried with the new one for the partitions still owned)"));
    else
      logger_.error(msg);
  } else if (logger_.level() <= LogLevel::debug && !answer.offsets.empty()) {
    logger_.debug(fmt::format("consumer group {}: committed {}", group_, describe_offsets(answer.offsets)));
  }
  if (!monitor_.empty()) {
    Event e{err ? EventType::commit_failed : EventType::offsets_committed, group_, news, 0,
            err ? err.text() : std::string()};
    if (latency.count() < 0) {
      // The answer to our last commit_async(), taken once; librdkafka's own commits (the
      // auto-commit timer, on unassign) were not asked by us: unknown (-1 ns).
      const auto asked = async_asked_.exchange(0, std::memory_order_relaxed);
      latency = asked ? Clock::now().time_since_epoch() - Clock::duration(asked) : std::chrono::nanoseconds(-1);
    }
    e.duration = latency;
    monitor_.publish(e);
  }
}

}  // namespace samsa::runtime
