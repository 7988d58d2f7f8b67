#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "admin/client.hpp"
#include "admin/offsets.hpp"
#include "admin/topics.hpp"
#include "kafka/handle.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;
using kafka::AdminOptionsPtr;
using kafka::ListGroupOffsetsPtr;

// The topics `group` has committed offsets for, from the group coordinator
// (OffsetFetch for all topics).
std::vector<std::string> group_topics(rd_kafka_t* rk, const std::string& brokers,
                                      const std::string& group, ClientState& st,
                                      const Deadline& dl) {
  auto hint = [&](const std::string& why, rd_kafka_resp_err_t err) {
    return KafkaError("cannot list the topics group '" + group + "' has offsets for at " +
                          brokers + ": " + why +
                          " (pass the topic(s) explicitly: `samsa offsets --topic NAME`, or "
                          "the `topics` argument of admin::group_offsets; librdkafka 2.0.2's "
                          "embedded broker cannot list a group's offsets)",
                      static_cast<int>(err), is_unreachable(err));
  };
  ListGroupOffsetsPtr request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr));
  AdminOptionsPtr options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  char errstr[512];
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), std::max(1, dl.remaining_ms()),
                                                errstr, sizeof errstr))
    throw hint(errstr, RD_KAFKA_RESP_ERR__INVALID_ARG);
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_ListConsumerGroupOffsets(rk, requests, 1, options.get(), queue.get());
  kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), dl.remaining_ms() + 2000));
  if (!ev)
    throw failure("cannot list the offsets of group '" + group + "'",
                  RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl);
  if (auto err = rd_kafka_event_error(ev.get())) {
    if (is_unreachable(err))
      throw failure("cannot list the offsets of group '" + group + "'", err, brokers, st, dl);
    throw hint(std::string(rd_kafka_err2name(err)) + " (" +
                   rd_kafka_event_error_string(ev.get()) + ")",
               err);
  }
  const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev.get());
  if (!result) throw hint("unexpected answer", RD_KAFKA_RESP_ERR__FAIL);
  size_t group_cnt = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(result, &group_cnt);
  std::set<std::string> topics;
  for (size_t g = 0; g < group_cnt; ++g) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[g]))
      throw hint(std::string(rd_kafka_error_name(e)) + " (" + rd_kafka_error_string(e) + ")",
                 rd_kafka_error_code(e));
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[g]);
    if (!parts) continue;
    for (int i = 0; i < parts->cnt; ++i) topics.insert(parts->elems[i].topic);
  }
  // librdkafka 2.0.2's mock cluster answers an OffsetFetch for all topics with none at all,
  // which would read as "no offsets". Tell the caller instead (its cluster id gives it away).
  if (topics.empty() && is_mock_cluster(rk, dl))
    throw hint("the embedded broker answers every such request with an empty list",
               RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE);
  return {topics.begin(), topics.end()};
}

}  // namespace

namespace detail {

// Fills `list` with the group's committed offsets (OffsetFetch to the group coordinator),
// retrying while the coordinator is moving or loading (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, ...), which rd_kafka_committed reports rather than retries.
void read_committed(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* list,
                    const std::string& brokers, const std::string& group, ClientState& st,
                    const Deadline& dl) {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, dl.remaining_ms());
    const rd_kafka_topic_partition_t* bad = nullptr;
    if (!err)
      for (int i = 0; i < list->cnt && !bad; ++i)
        if (list->elems[i].err) bad = &list->elems[i];
    rd_kafka_resp_err_t e = err ? err : bad ? bad->err : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!e) return;
    if (kafka::status(e).retriable() && dl.remaining_ms() > backoff.count()) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (err)
      throw failure("cannot read the committed offsets of group '" + group + "'", err, brokers,
                    st, dl);
    throw kafka::error("cannot read the committed offset of group '" + group + "' on " +
                           bad->topic + "/" + std::to_string(bad->partition),
                       bad->err);
  }
}

KafkaPtr make_group_client(const Cluster& cluster, const std::string& group, ClientState& st) {
  if (group.empty())
    throw KafkaError("no consumer group given", RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  // Never subscribes: it only asks the group coordinator for the committed offsets, so it
  // does not join the group and cannot disturb its members.
  return make_client(cluster, st, {}, RD_KAFKA_CONSUMER, false,
                     {{"group.id", group},
                      {"enable.auto.commit", "false"},
                      {"enable.auto.offset.store", "false"},
                      {"allow.auto.create.topics", "false"}});
}

}  // namespace detail

std::vector<PartitionOffsets> group_offsets(const Cluster& cluster, const std::string& group,
                                            const std::vector<std::string>& topics,
                                            std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  ClientState st;
  KafkaPtr rk = make_group_client(cluster, group, st);

  const bool discovered = topics.empty();
  std::vector<std::string> names =
      discovered ? group_topics(rk.get(), brokers, group, st, dl) : topics;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  kafka::ListPtr list = kafka::make_list();
  const TopicMap all = describe_all_topics(rk.get(), brokers, st, dl);
  for (const auto& name : names) {
    auto found = all.find(name);
    TopicInfo info = found == all.end() ? TopicInfo{} : found->second;
    if (!info.exists) {
      if (discovered) continue;  // offsets left behind by a deleted topic
      throw KafkaError("topic '" + name + "' does not exist at " + brokers,
                       RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, false);
    }
    for (int p = 0; p < info.partitions; ++p)
      rd_kafka_topic_partition_list_add(list.get(), name.c_str(), p);
  }
  std::vector<PartitionOffsets> out;
  if (list->cnt == 0) return out;

  read_committed(rk.get(), list.get(), brokers, group, st, dl);
  out.reserve(static_cast<size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    PartitionOffsets po;
    po.topic = tp.topic;
    po.partition = tp.partition;
    po.committed = tp.offset >= 0 ? tp.offset : -1;
    po.metadata = kafka::metadata_of(tp);
    std::int64_t low = 0, high = 0;
    if (auto err = rd_kafka_query_watermark_offsets(rk.get(), tp.topic, tp.partition, &low,
                                                    &high, dl.remaining_ms()))
      throw failure("cannot read the end offset of " + po.topic + "/" +
                        std::to_string(po.partition),
                    err, brokers, st, dl);
    po.end = high;
    po.lag = po.committed >= 0 ? high - po.committed : high - low;
    out.push_back(std::move(po));
  }
  std::sort(out.begin(), out.end(), [](const PartitionOffsets& a, const PartitionOffsets& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return out;
}

std::int64_t committed_offset(const Cluster& cluster, const std::string& group,
                              const std::string& topic, std::int32_t partition,
                              std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  ClientState st;
  KafkaPtr rk = make_group_client(cluster, group, st);
  kafka::ListPtr list = kafka::make_list(1);
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  read_committed(rk.get(), list.get(), brokers, group, st, dl);
  const auto& tp = list->elems[0];
  return tp.offset >= 0 ? tp.offset : -1;
}

}  // namespace samsa::admin
