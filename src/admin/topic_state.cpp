#include "admin/topic_state.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "admin/client.hpp"
#include "admin/topics.hpp"
#include "kafka/handle.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;

void set_unknown(ClusterState& state, const std::vector<const TopicSpec*>& topics,
                 const std::string& reason) {
  for (const TopicSpec* t : topics) {
    state[t->name].configs.reset();
    state[t->name].configs_unknown = reason;
  }
}

// Fills in the configs of `topics` (existing, each with declared configs), asking the broker
// only for the declared keys.
void describe_configs(rd_kafka_t* rk, const std::vector<const TopicSpec*>& topics,
                      ClusterState& state, const std::string& brokers, ClientState& st,
                      const Deadline& dl) {
  const std::string what = "cannot describe the configs of the routed topics";
  std::vector<kafka::ConfigResourcePtr> owned;
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const TopicSpec* t : topics) {
    kafka::ConfigResourcePtr res(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t->name.c_str()));
    // A describe request names the configs it wants; the value is not sent.
    for (const auto& [key, value] : t->configs)
      rd_kafka_ConfigResource_set_config(res.get(), key.c_str(), nullptr);
    resources.push_back(res.get());
    owned.push_back(std::move(res));
  }
  kafka::AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS));
  set_request_timeout(options.get(), dl, what);
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConfigs(rk, resources.data(), resources.size(), options.get(), queue.get());
  kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), dl.remaining_ms() + 2000));
  if (!ev) throw failure(what, RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl);
  if (auto err = rd_kafka_event_error(ev.get())) {
    if (!is_unsupported(err))
      throw failure(what + " (" + rd_kafka_event_error_string(ev.get()) + ")", err, brokers, st, dl);
    set_unknown(state, topics,
                std::string("the broker does not support DescribeConfigs: ") + rd_kafka_err2name(err));
    return;
  }
  // Topics the result does not mention stay unknown.
  set_unknown(state, topics, "the broker's DescribeConfigs answer did not mention the topic");
  size_t cnt = 0;
  const auto* result = rd_kafka_event_DescribeConfigs_result(ev.get());
  const rd_kafka_ConfigResource_t** results =
      result ? rd_kafka_DescribeConfigs_result_resources(result, &cnt) : nullptr;
  for (size_t i = 0; i < cnt; ++i) {
    auto it = state.find(rd_kafka_ConfigResource_name(results[i]));
    if (it == state.end()) continue;
    TopicState& topic = it->second;
    if (auto err = rd_kafka_ConfigResource_error(results[i])) {
      const char* detail = rd_kafka_ConfigResource_error_string(results[i]);
      topic.configs_unknown = std::string("DescribeConfigs refused: ") + rd_kafka_err2name(err) +
                              (detail && *detail ? std::string(" (") + detail + ")" : "");
      continue;
    }
    std::map<std::string, std::string> values;
    size_t entry_cnt = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(results[i], &entry_cnt);
    for (size_t j = 0; j < entry_cnt; ++j)
      // A sensitive config's value is never sent (NULL): left out, so it shows as unknown.
      if (const char* value = rd_kafka_ConfigEntry_value(entries[j]))
        values[rd_kafka_ConfigEntry_name(entries[j])] = value;
    topic.configs = std::move(values);
    topic.configs_unknown.clear();
  }
}

}  // namespace

ClusterState describe_topics(const Cluster& cluster, const std::vector<TopicSpec>& declared,
                             std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  ClientState st;
  KafkaPtr rk = make_client(cluster, st, {}, RD_KAFKA_PRODUCER, false,
                            {{"allow.auto.create.topics", "false"}});
  ClusterState state;
  for (const auto& [name, info] : describe_all_topics(rk.get(), brokers, st, dl))
    if (info.exists) state[name] = {info.partitions, info.replication_factor, std::nullopt, ""};

  std::vector<const TopicSpec*> with_configs;
  for (const auto& t : declared)
    if (!t.configs.empty() && state.contains(t.name)) with_configs.push_back(&t);
  if (with_configs.empty()) return state;
  // librdkafka 2.0.2's mock cluster has no DescribeConfigs and names no controller: a
  // request would only wait for the timeout.
  if (is_mock_cluster(rk.get(), dl)) {
    set_unknown(state, with_configs,
                "the embedded broker, librdkafka's mock cluster, has no DescribeConfigs");
    return state;
  }
  describe_configs(rk.get(), with_configs, state, brokers, st, dl);
  return state;
}

}  // namespace samsa::admin
