#include "admin/offsets.hpp"

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
#include "admin/topics.hpp"
#include "kafka/error_code.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;

// The topics `group` has committed offsets for, from the group coordinator
// (OffsetFetch for all topics).
std::vector<std::string> group_topics(kafka::AdminClient& client, const std::string& brokers,
                                      const std::string& group, const Deadline& dl) {
  auto hint = [&](const std::string& why, const kafka::Status& err) {
    return KafkaError("cannot list the topics group '" + group + "' has offsets for at " +
                          brokers + ": " + why +
                          " (pass the topic(s) explicitly: `samsa offsets --topic NAME`, or "
                          "the `topics` argument of admin::group_offsets; librdkafka 2.0.2's "
                          "embedded broker cannot list a group's offsets)",
                      err.number(), err.unreachable());
  };
  kafka::GroupOffsets answer;
  const kafka::Status s = client.list_group_offsets(group, dl.remaining(), answer);
  if (s.not_sent()) throw hint(s.text(), s);
  if (s.code() == kafka::Status::Code::unexpected_answer) throw hint("unexpected answer", s);
  if (s) {
    if (s.unreachable()) throw failure("cannot list the offsets of group '" + group + "'", s, brokers, client, dl);
    throw hint(s.name() + " (" + s.detail() + ")", s);
  }
  if (answer.error) throw hint(answer.error.name() + " (" + answer.error.detail() + ")", answer.error);
  std::set<std::string> topics;
  for (const auto& o : answer.offsets) topics.insert(o.topic);
  // librdkafka 2.0.2's mock cluster answers an OffsetFetch for all topics with none at all,
  // which would read as "no offsets". Tell the caller instead (its cluster id gives it away).
  if (topics.empty() && client.is_mock_cluster(dl.remaining()))
    throw hint("the embedded broker answers every such request with an empty list",
               kafka::status_of(kafka::error_code::unsupported_feature));
  return {topics.begin(), topics.end()};
}

}  // namespace

namespace detail {

void read_committed(kafka::AdminClient& client, std::vector<kafka::CommitOffset>& offsets, const std::string& brokers,
                    const std::string& group, const Deadline& dl) {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    const kafka::Status err = client.committed(offsets, dl.remaining());
    const kafka::CommitOffset* bad = nullptr;
    if (!err)
      for (const auto& o : offsets)
        if (o.status) {
          bad = &o;
          break;
        }
    const kafka::Status e = err ? err : bad ? bad->status : kafka::Status();
    if (!e) return;
    if (e.retriable() && dl.remaining_ms() > backoff.count()) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (err) throw failure("cannot read the committed offsets of group '" + group + "'", err, brokers, client, dl);
    throw bad->status.error("cannot read the committed offset of group '" + group + "' on " + bad->topic + "/" +
                            std::to_string(bad->partition));
  }
}

std::unique_ptr<kafka::AdminClient> make_group_client(const Cluster& cluster, const std::string& group) {
  if (group.empty()) throw KafkaError("no consumer group given", kafka::error_code::invalid_arg, false);
  // Never subscribes: it only asks the group coordinator for the committed offsets, so it
  // does not join the group and cannot disturb its members.
  return make_client(cluster, kafka::AdminUse::group, {},
                     {{"group.id", group},
                      {"enable.auto.commit", "false"},
                      {"enable.auto.offset.store", "false"},
                      {"allow.auto.create.topics", "false"}});
}

std::vector<PartitionOffsets> group_offsets(kafka::AdminClient& client, const std::string& brokers,
                                            const std::string& group, const std::vector<std::string>& topics,
                                            const Deadline& dl) {
  const bool discovered = topics.empty();
  std::vector<std::string> names = discovered ? group_topics(client, brokers, group, dl) : topics;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::vector<kafka::CommitOffset> committed;
  const TopicMap all = describe_all_topics(client, brokers, dl);
  for (const auto& name : names) {
    auto found = all.find(name);
    TopicInfo info = found == all.end() ? TopicInfo{} : found->second;
    if (!info.exists) {
      if (discovered) continue;  // offsets left behind by a deleted topic
      throw KafkaError("topic '" + name + "' does not exist at " + brokers,
                       kafka::error_code::unknown_topic_or_part, false);
    }
    for (int p = 0; p < info.partitions; ++p) committed.push_back({name, p, -1, {}, {}});
  }
  std::vector<PartitionOffsets> out;
  if (committed.empty()) return out;

  read_committed(client, committed, brokers, group, dl);
  out.reserve(committed.size());
  for (const auto& tp : committed) {
    PartitionOffsets po;
    po.topic = tp.topic;
    po.partition = tp.partition;
    po.committed = tp.offset >= 0 ? tp.offset : -1;
    po.metadata = tp.metadata;
    std::int64_t low = 0, high = 0;
    if (kafka::Status err = client.watermarks(tp.topic, tp.partition, dl.remaining(), low, high))
      throw failure("cannot read the end offset of " + po.topic + "/" + std::to_string(po.partition), err, brokers,
                    client, dl);
    po.end = high;
    po.lag = po.committed >= 0 ? high - po.committed : high - low;
    out.push_back(std::move(po));
  }
  std::sort(out.begin(), out.end(), [](const PartitionOffsets& a, const PartitionOffsets& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return out;
}

}  // namespace detail

std::vector<PartitionOffsets> group_offsets(const Cluster& cluster, const std::string& group,
                                            const std::vector<std::string>& topics,
                                            std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  auto client = make_group_client(cluster, group);
  return detail::group_offsets(*client, cluster.bootstrap_servers(), group, topics, dl);
}

std::int64_t committed_offset(const Cluster& cluster, const std::string& group,
                              const std::string& topic, std::int32_t partition,
                              std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  auto client = make_group_client(cluster, group);
  std::vector<kafka::CommitOffset> committed{{topic, partition, -1, {}, {}}};
  read_committed(*client, committed, cluster.bootstrap_servers(), group, dl);
  return committed[0].offset >= 0 ? committed[0].offset : -1;
}

}  // namespace samsa::admin
