#include "runtime/committer.hpp"

#include <spdlog/fmt/fmt.h>

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

kafka::Status Committer::commit_sync(const std::vector<kafka::CommitOffset>& offsets, Deadline deadline) {
  if (offsets.empty()) return {};
  kafka::Status err(kafka::Status::Code::timed_out, "_TIMED_OUT", "Local: Timed out");
  for (int attempt = 0;; ++attempt) {
    const auto asked = Clock::now();
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - asked);
    if (left.count() <= 0) break;
    const kafka::CommitAnswer answer = client_.commit(offsets, left);
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
    if (!err || !err.retriable() || err.code() == kafka::Status::Code::rebalance_in_progress || attempt >= 4)
      break;
    std::this_thread::sleep_for(
        std::min(milliseconds(100 << attempt), std::chrono::duration_cast<milliseconds>(deadline - Clock::now())));
  }
  return err;
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
