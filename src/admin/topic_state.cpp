#include "admin/topic_state.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "admin/client.hpp"
#include "admin/topics.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;

void set_unknown(ClusterState& state, const std::vector<TopicSpec>& topics, const std::string& reason) {
  for (const TopicSpec& t : topics) {
    state[t.name].configs.reset();
    state[t.name].configs_unknown = reason;
  }
}

// Fills in the configs of `topics` (existing, each with declared configs), asking the broker
// only for the declared keys.
void describe_configs(kafka::AdminClient& client, const std::vector<TopicSpec>& topics, ClusterState& state,
                      const std::string& brokers, const Deadline& dl) {
  const std::string what = "cannot describe the configs of the routed topics";
  std::vector<kafka::TopicConfigs> results;
  const kafka::Status s = client.describe_configs(topics, dl.remaining(), results);
  if (s.not_sent()) throw KafkaError(what + ": " + s.text(), s.number(), false);
  if (s) {
    if (!s.unsupported())
      throw failure(s.detail().empty() ? what : what + " (" + s.detail() + ")", s, brokers, client, dl);
    set_unknown(state, topics, "the broker does not support DescribeConfigs: " + s.name());
    return;
  }
  // Topics the result does not mention stay unknown.
  set_unknown(state, topics, "the broker's DescribeConfigs answer did not mention the topic");
  for (auto& result : results) {
    auto it = state.find(result.name);
    if (it == state.end()) continue;
    TopicState& topic = it->second;
    if (const kafka::Status& err = result.status) {
      topic.configs_unknown = "DescribeConfigs refused: " + err.name() +
                              (err.detail().empty() ? "" : " (" + err.detail() + ")");
      continue;
    }
    topic.configs = std::move(result.values);
    topic.configs_unknown.clear();
  }
}

}  // namespace

ClusterState describe_topics(const Cluster& cluster, const std::vector<TopicSpec>& declared,
                             std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  auto client = make_client(cluster, kafka::AdminUse::cluster, {}, {{"allow.auto.create.topics", "false"}});
  ClusterState state;
  for (const auto& [name, info] : describe_all_topics(*client, brokers, dl))
    if (info.exists) state[name] = {info.partitions, info.replication_factor, std::nullopt, ""};

  std::vector<TopicSpec> with_configs;
  for (const auto& t : declared)
    if (!t.configs.empty() && state.contains(t.name)) with_configs.push_back(t);
  if (with_configs.empty()) return state;
  // librdkafka 2.0.2's mock cluster has no DescribeConfigs and names no controller: a
  // request would only wait for the timeout.
  if (client->is_mock_cluster(dl.remaining())) {
    set_unknown(state, with_configs,
                "the embedded broker, librdkafka's mock cluster, has no DescribeConfigs");
    return state;
  }
  describe_configs(*client, with_configs, state, brokers, dl);
  return state;
}

}  // namespace samsa::admin
