// admin::reset_offsets: moves an inactive group's committed offsets (samsa offsets reset).
#include "admin/reset.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "admin/client.hpp"
#include "admin/groups.hpp"
#include "admin/offsets.hpp"
#include "admin/topics.hpp"
#include "kafka/error_code.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;
namespace error_code = kafka::error_code;

std::string where(const std::string& topic, std::int32_t partition) {
  return topic + "/" + std::to_string(partition);
}

const char kStopFirst[] =
    "an app of the group that runs goes on from its own positions and commits over a reset: "
    "stop every process of the app (a graceful stop commits what it marked), check with "
    "`samsa offsets --group NAME` that it is gone, then reset again";

std::string stop_first(const std::string& group) {
  std::string text = kStopFirst;
  text.replace(text.find("NAME"), 4, group);
  return text;
}

KafkaError active_group(const std::string& group, const GroupDescription& gs) {
  return KafkaError("cannot reset the offsets of group '" + group + "': it has " +
                        std::to_string(gs.members.size()) + " active member" +
                        (gs.members.size() == 1 ? "" : "s") + " (state " + gs.state + "); " +
                        stop_first(group),
                    error_code::non_empty_group, false);
}

KafkaError refused_commit(const std::string& group, const kafka::Status& err, bool embedded) {
  std::string msg = "cannot reset the offsets of group '" + group +
                    "': the broker refused the commit (" + err.name() +
                    "), as it does while the group has active members; " + stop_first(group);
  if (embedded)
    msg += ". The embedded broker (librdkafka's mock cluster) cannot describe groups, and it "
           "refuses such a commit for every group a consumer has joined since it started, even "
           "once the group is empty: on it, reset only groups no consumer has joined yet (or "
           "restart it)";
  return KafkaError(std::move(msg), error_code::non_empty_group, false);
}

// Commits `offsets` for `group` as the group's admin (no member, no generation): the broker
// takes it only while the group has no members.
void alter_offsets(kafka::AdminClient& client, const std::string& brokers, const std::string& group,
                   const std::vector<kafka::CommitOffset>& offsets, bool embedded, const Deadline& dl) {
  const std::string what = "cannot reset the offsets of group '" + group + "'";
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    kafka::GroupOffsets answer;
    const kafka::Status s = client.alter_group_offsets(group, offsets, dl.remaining(), answer);
    if (s.not_sent()) throw KafkaError(what + ": " + s.text(), s.number(), false);
    if (s.code() == kafka::Status::Code::unexpected_answer)
      throw KafkaError(what + ": unexpected answer", s.number(), false);
    // The request's error, else the group's, else the first partition's.
    kafka::Status err = s;
    std::string detail = s.detail();
    std::string partition;
    if (!err) {
      if (answer.error) {
        err = answer.error;
        detail = answer.error.detail();
      } else {
        for (const auto& o : answer.offsets)
          if (o.status) {
            err = o.status;
            detail = o.status.text();
            partition = where(o.topic, o.partition);
            break;
          }
      }
    }
    if (!err) return;
    if (err.refused_by_active_group()) throw refused_commit(group, err, embedded);
    if (err.coordinator_moving() && dl.remaining_ms() > backoff.count()) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (err.unreachable()) throw failure(what, err, brokers, client, dl);
    throw KafkaError(what + (partition.empty() ? "" : " on " + partition) + ": " + err.name() + " (" + detail + ")",
                     err.number(), false);
  }
}

}  // namespace

namespace detail {

std::vector<OffsetReset> reset_offsets(kafka::AdminClient& client, const std::string& brokers,
                                       const OffsetResetRequest& request, const Deadline& dl) {
  const std::string& group = request.group;
  const std::string& topic = request.topic;
  const std::string what = "cannot reset the offsets of group '" + group + "' on " + topic;

  // The partitions.
  const TopicMap all = describe_all_topics(client, brokers, dl);
  auto found = all.find(topic);
  if (found == all.end() || !found->second.exists)
    throw KafkaError(what + ": topic '" + topic + "' does not exist at " + brokers,
                     error_code::unknown_topic_or_part, false);
  const int count = found->second.partitions;
  std::vector<std::int32_t> partitions;
  if (request.partition) {
    if (*request.partition < 0 || *request.partition >= count)
      throw KafkaError(what + ": it has no partition " + std::to_string(*request.partition) +
                           " (its partitions are 0 to " + std::to_string(count - 1) + ")",
                       error_code::unknown_partition, false);
    partitions.push_back(*request.partition);
  } else {
    for (std::int32_t p = 0; p < count; ++p) partitions.push_back(p);
  }

  // Refuse early, before any work, while the group has members.
  const bool embedded = client.is_mock_cluster(dl.remaining());
  if (request.to.kind == ResetTarget::Kind::time && embedded)
    throw KafkaError(what + " to " + request.to.text() +
                         ": the embedded broker (librdkafka's mock cluster) cannot look offsets "
                         "up by time (it answers every time as past the log end); reset to an "
                         "offset instead, or use real Kafka",
                     error_code::unsupported_feature, false);
  // librdkafka 2.0.2's mock cluster has no DescribeGroups: the broker's refusal of the commit
  // below is the check there.
  if (!embedded)
    if (GroupDescription gs = describe_group(client, brokers, group, dl); gs.known && !gs.members.empty())
      throw active_group(group, gs);

  // The plan: where each partition is and where it goes.
  std::vector<OffsetReset> plan;
  std::vector<kafka::CommitOffset> committed;
  for (std::int32_t p : partitions) {
    OffsetReset r;
    r.topic = topic;
    r.partition = p;
    if (kafka::Status err = client.watermarks(topic, p, dl.remaining(), r.low, r.high))
      throw failure("cannot read the offsets of " + where(topic, p), err, brokers, client, dl);
    plan.push_back(r);
    committed.push_back({topic, p, -1, {}, {}});
  }
  read_committed(client, committed, brokers, group, dl);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const std::int64_t o = committed[i].offset;
    plan[i].before = o >= 0 ? o : -1;
  }

  switch (request.to.kind) {
    case ResetTarget::Kind::earliest:
      for (auto& r : plan) r.after = r.low;
      break;
    case ResetTarget::Kind::latest:
      for (auto& r : plan) r.after = r.high;
      break;
    case ResetTarget::Kind::offset: {
      std::string outside;
      for (auto& r : plan) {
        r.after = request.to.offset;
        if (r.after < r.low || r.after > r.high)
          outside += std::string(outside.empty() ? "" : ", ") + where(topic, r.partition) +
                     " has [" + std::to_string(r.low) + ", " + std::to_string(r.high) + "]";
      }
      if (!outside.empty())
        throw KafkaError(what + " to offset " + std::to_string(request.to.offset) +
                             ": outside the range of its log (log start, log end): " + outside +
                             "; nothing was reset (give an offset in the range, or earliest or "
                             "latest)",
                         error_code::offset_out_of_range, false);
      break;
    }
    case ResetTarget::Kind::time: {
      std::vector<kafka::TimeOffset> times;
      for (const auto& r : plan) times.push_back({topic, r.partition, -1, {}});
      if (kafka::Status err = client.offsets_for_time(times, request.to.time_ms, dl.remaining()))
        throw failure("cannot look up the offsets of " + topic + " at " + request.to.text(), err, brokers, client,
                      dl);
      for (std::size_t i = 0; i < plan.size(); ++i) {
        const auto& tp = times[i];
        if (tp.status)
          throw tp.status.error("cannot look up the offset of " + where(topic, tp.partition) + " at " +
                                request.to.text());
        // No message at or after the time: the log end, where the next one will go.
        plan[i].after = tp.offset >= 0 ? tp.offset : plan[i].high;
      }
      break;
    }
  }
  if (request.dry_run) return plan;

  std::vector<kafka::CommitOffset> offsets;
  for (const auto& r : plan) offsets.push_back({topic, r.partition, r.after, {}, {}});
  alter_offsets(client, brokers, group, offsets, embedded, dl);
  return plan;
}

}  // namespace detail

std::vector<OffsetReset> reset_offsets(const Cluster& cluster, const OffsetResetRequest& request,
                                       std::chrono::milliseconds timeout) {
  if (request.topic.empty())
    throw KafkaError("no topic given to reset the offsets of", kafka::error_code::invalid_arg, false);
  if (request.to.kind == ResetTarget::Kind::offset && request.to.offset < 0)
    throw KafkaError("cannot reset to offset " + std::to_string(request.to.offset) +
                         ": an offset cannot be negative",
                     kafka::error_code::invalid_arg, false);
  Deadline dl(timeout);
  auto client = make_group_client(cluster, request.group);
  return detail::reset_offsets(*client, cluster.bootstrap_servers(), request, dl);
}

}  // namespace samsa::admin
