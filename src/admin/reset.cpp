// admin::reset_offsets: moves an inactive group's committed offsets (samsa offsets reset).
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
#include "kafka/handle.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;
using kafka::AdminOptionsPtr;

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
                    RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP, false);
}

KafkaError refused_commit(const std::string& group, rd_kafka_resp_err_t err, bool embedded) {
  std::string msg = "cannot reset the offsets of group '" + group +
                    "': the broker refused the commit (" + rd_kafka_err2name(err) +
                    "), as it does while the group has active members; " + stop_first(group);
  if (embedded)
    msg += ". The embedded broker (librdkafka's mock cluster) cannot describe groups, and it "
           "refuses such a commit for every group a consumer has joined since it started, even "
           "once the group is empty: on it, reset only groups no consumer has joined yet (or "
           "restart it)";
  return KafkaError(std::move(msg), RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP, false);
}

// Commits `offsets` for `group` as the group's admin (no member, no generation): the broker
// takes it only while the group has no members.
void alter_offsets(rd_kafka_t* rk, const std::string& brokers, const std::string& group,
                   const rd_kafka_topic_partition_list_t* offsets, bool embedded, ClientState& st,
                   const Deadline& dl) {
  const std::string what = "cannot reset the offsets of group '" + group + "'";
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    kafka::AlterGroupOffsetsPtr request(
        rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), offsets));
    AdminOptionsPtr options(
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS));
    set_request_timeout(options.get(), dl, what);
    kafka::QueuePtr queue(rd_kafka_queue_new(rk));
    rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {request.get()};
    rd_kafka_AlterConsumerGroupOffsets(rk, requests, 1, options.get(), queue.get());
    kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), dl.remaining_ms() + 2000));
    if (!ev) throw failure(what, RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl);

    rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get());
    std::string detail = err ? rd_kafka_event_error_string(ev.get()) : "";
    std::string partition;
    if (!err) {
      const auto* result = rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get());
      size_t cnt = 0;
      const rd_kafka_group_result_t** groups =
          result ? rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &cnt) : nullptr;
      if (cnt != 1) throw KafkaError(what + ": unexpected answer", RD_KAFKA_RESP_ERR__FAIL, false);
      if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[0])) {
        err = rd_kafka_error_code(e);
        detail = rd_kafka_error_string(e);
      } else if (const auto* parts = rd_kafka_group_result_partitions(groups[0])) {
        for (int i = 0; i < parts->cnt && !err; ++i)
          if (parts->elems[i].err) {
            err = parts->elems[i].err;
            detail = rd_kafka_err2str(err);
            partition = where(parts->elems[i].topic, parts->elems[i].partition);
          }
      }
    }
    if (!err) return;
    if (kafka::status(err).refused_by_active_group()) throw refused_commit(group, err, embedded);
    if (is_coordinator_moving(err) && dl.remaining_ms() > backoff.count()) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (is_unreachable(err)) throw failure(what, err, brokers, st, dl);
    throw KafkaError(what + (partition.empty() ? "" : " on " + partition) + ": " +
                         rd_kafka_err2name(err) + " (" + detail + ")",
                     static_cast<int>(err), false);
  }
}

}  // namespace

std::vector<OffsetReset> reset_offsets(const Cluster& cluster, const OffsetResetRequest& request,
                                       std::chrono::milliseconds timeout) {
  const std::string& group = request.group;
  const std::string& topic = request.topic;
  if (topic.empty())
    throw KafkaError("no topic given to reset the offsets of", RD_KAFKA_RESP_ERR__INVALID_ARG,
                     false);
  if (request.to.kind == ResetTarget::Kind::offset && request.to.offset < 0)
    throw KafkaError("cannot reset to offset " + std::to_string(request.to.offset) +
                         ": an offset cannot be negative",
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  ClientState st;
  KafkaPtr rk = make_group_client(cluster, group, st);
  const std::string what = "cannot reset the offsets of group '" + group + "' on " + topic;

  // The partitions.
  const TopicMap all = describe_all_topics(rk.get(), brokers, st, dl);
  auto found = all.find(topic);
  if (found == all.end() || !found->second.exists)
    throw KafkaError(what + ": topic '" + topic + "' does not exist at " + brokers,
                     RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, false);
  const int count = found->second.partitions;
  std::vector<std::int32_t> partitions;
  if (request.partition) {
    if (*request.partition < 0 || *request.partition >= count)
      throw KafkaError(what + ": it has no partition " + std::to_string(*request.partition) +
                           " (its partitions are 0 to " + std::to_string(count - 1) + ")",
                       RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, false);
    partitions.push_back(*request.partition);
  } else {
    for (std::int32_t p = 0; p < count; ++p) partitions.push_back(p);
  }

  // Refuse early, before any work, while the group has members.
  const bool embedded = is_mock_cluster(rk.get(), dl);
  if (request.to.kind == ResetTarget::Kind::time && embedded)
    throw KafkaError(what + " to " + request.to.text() +
                         ": the embedded broker (librdkafka's mock cluster) cannot look offsets "
                         "up by time (it answers every time as past the log end); reset to an "
                         "offset instead, or use real Kafka",
                     RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, false);
  // librdkafka 2.0.2's mock cluster has no DescribeGroups: the broker's refusal of the commit
  // below is the check there.
  if (!embedded)
    if (GroupDescription gs = describe_group(rk.get(), brokers, group, st, dl); gs.known && !gs.members.empty())
      throw active_group(group, gs);

  // The plan: where each partition is and where it goes.
  std::vector<OffsetReset> plan;
  kafka::ListPtr committed = kafka::make_list(static_cast<int>(partitions.size()));
  for (std::int32_t p : partitions) {
    OffsetReset r;
    r.topic = topic;
    r.partition = p;
    if (auto err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &r.low, &r.high,
                                                    dl.remaining_ms()))
      throw failure("cannot read the offsets of " + where(topic, p), err, brokers, st, dl);
    plan.push_back(r);
    rd_kafka_topic_partition_list_add(committed.get(), topic.c_str(), p);
  }
  read_committed(rk.get(), committed.get(), brokers, group, st, dl);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const std::int64_t o = committed->elems[i].offset;
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
                         RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, false);
      break;
    }
    case ResetTarget::Kind::time: {
      kafka::ListPtr times = kafka::make_list(static_cast<int>(plan.size()));
      for (const auto& r : plan)
        rd_kafka_topic_partition_list_add(times.get(), topic.c_str(), r.partition)->offset =
            request.to.time_ms;
      if (auto err = rd_kafka_offsets_for_times(rk.get(), times.get(), dl.remaining_ms()))
        throw failure("cannot look up the offsets of " + topic + " at " + request.to.text(), err,
                      brokers, st, dl);
      for (std::size_t i = 0; i < plan.size(); ++i) {
        const auto& tp = times->elems[i];
        if (tp.err)
          throw kafka::error("cannot look up the offset of " + where(topic, tp.partition) +
                                 " at " + request.to.text(),
                             tp.err);
        // No message at or after the time: the log end, where the next one will go.
        plan[i].after = tp.offset >= 0 ? tp.offset : plan[i].high;
      }
      break;
    }
  }
  if (request.dry_run) return plan;

  kafka::ListPtr offsets = kafka::make_list(static_cast<int>(plan.size()));
  for (const auto& r : plan) kafka::add_offset(offsets.get(), topic, r.partition, r.after);
  alter_offsets(rk.get(), brokers, group, offsets.get(), embedded, st, dl);
  return plan;
}

}  // namespace samsa::admin
