// Listener (listener.hpp): the commits of the group's marks, through the Committer (the one
// retry policy). A synchronous commit stores the marks and commits what moved, waiting for
// the broker's answer; only partitions still owned commit (one lost, or given up after
// revoke_timeout, commits nothing: the broker would refuse the commit or misplace it), and
// ownership is asked again before each retry. commit_async() stores the marks and asks
// librdkafka for a commit in the background. note_confirmed() records on the partition what
// the broker confirmed.
// Threads: Consumer's commit calls come from a job or a user thread; commit_all_sync() also
// from the listener thread (a revocation, the shutdown); commit_marked_now() from another
// thread while the listener is stuck (the shutdown timed out); note_confirmed() wherever
// the Committer took an answer (a synchronous commit's caller, or the listener's poll).
// partitions_ is read under partitions_mu_.
#include <spdlog/fmt/fmt.h>

#include <string>
#include <vector>

#include "runtime/listener.hpp"

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

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
                                Clock::now() + kCommitBudget,
                                [&p](const std::string&, std::int32_t) { return p.owned(); });
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
  // Asked again before a retry: a rebalance may have taken a partition meanwhile (one that
  // is gone from partitions_ is not owned).
  return committer_.commit_sync(list, deadline, [this](const std::string& topic, std::int32_t partition) {
    std::lock_guard lock(partitions_mu_);
    const auto it = partitions_.find({topic, partition});
    return it != partitions_.end() && it->second->owned();
  });
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

}  // namespace samsa::runtime
