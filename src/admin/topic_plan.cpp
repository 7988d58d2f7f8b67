#include "admin/topic_plan.hpp"

#include <string>
#include <utility>
#include <vector>

namespace samsa::admin {

namespace {

using Kind = TopicDifference::Kind;

std::string partitions_text(const std::string& topic, int declared, int actual,
                            const std::string& bootstrap) {
  const std::string counts = "partitions: " + std::to_string(actual) + " on the cluster, " +
                             std::to_string(declared) + " declared";
  if (actual < declared)
    return counts + " (" + std::to_string(declared - actual) +
           " fewer); Samsa never adds partitions itself (new partitions move keys to other "
           "partitions, so a key's old and new messages lose their order): to add them, run "
           "`kafka-topics.sh --bootstrap-server " + bootstrap + " --alter --topic " + topic +
           " --partitions " + std::to_string(declared) + "`, or declare .partitions(" +
           std::to_string(actual) + ")";
  return counts + " (" + std::to_string(actual - declared) +
         " more); Kafka cannot remove partitions: declare .partitions(" +
         std::to_string(actual) + "), or delete and recreate the topic";
}

std::string replication_text(int declared, int actual) {
  return "replication factor: " + std::to_string(actual) + " on the cluster, " +
         std::to_string(declared) +
         " declared; Samsa does not move replicas: change it with "
         "kafka-reassign-partitions.sh, or declare .replication_factor(" +
         std::to_string(actual) + ")";
}

std::string config_text(const std::string& topic, const std::string& key,
                        const std::string& declared, const std::string& actual,
                        const std::string& bootstrap) {
  return "config " + key + ": " + actual + " on the cluster, " + declared +
         " declared; Samsa does not alter an existing topic's configs: to set it, run "
         "`kafka-configs.sh --bootstrap-server " + bootstrap +
         " --alter --entity-type topics --entity-name " + topic + " --add-config " + key + "=" +
         declared + "`";
}

// The differences of an existing topic, in the order TopicChange documents.
std::vector<TopicDifference> differences(const TopicSpec& spec, const TopicState& state,
                                         const std::string& bootstrap) {
  std::vector<TopicDifference> out;
  auto add = [&](Kind kind, std::string key, std::string declared, std::string actual,
                 std::string text) {
    out.push_back({kind, std::move(key), std::move(declared), std::move(actual), std::move(text)});
  };
  // Not declared (-1): whatever count the topic has is the app's; nothing to propose.
  if (spec.partitions != -1 && state.partitions != spec.partitions)
    add(state.partitions < spec.partitions ? Kind::fewer_partitions : Kind::more_partitions, "",
        std::to_string(spec.partitions), std::to_string(state.partitions),
        partitions_text(spec.name, spec.partitions, state.partitions, bootstrap));

  if (spec.replication_factor != -1) {  // -1: whatever the broker's default is
    if (state.replication_factor <= 0)
      add(Kind::unknown, "", std::to_string(spec.replication_factor), "",
          "replication factor: unknown (the metadata names no replicas), " +
              std::to_string(spec.replication_factor) + " declared");
    else if (state.replication_factor != spec.replication_factor)
      add(Kind::replication_factor, "", std::to_string(spec.replication_factor),
          std::to_string(state.replication_factor),
          replication_text(spec.replication_factor, state.replication_factor));
  }

  if (spec.configs.empty()) return out;
  if (!state.configs) {
    // One line for all of them: the reason is the same for each.
    std::string keys, declared;
    for (const auto& [key, value] : spec.configs) {
      keys += (keys.empty() ? "" : ", ") + key;
      declared += (declared.empty() ? "" : ", ") + key + "=" + value;
    }
    add(Kind::unknown, keys, declared, "",
        "configs: unknown (" +
            (state.configs_unknown.empty() ? std::string("the broker did not say")
                                           : state.configs_unknown) +
            "), declared " + declared);
    return out;
  }
  for (const auto& [key, value] : spec.configs) {
    auto it = state.configs->find(key);
    if (it == state.configs->end())
      add(Kind::unknown, key, value, "",
          "config " + key + ": unknown (the broker reports no such topic config, or hides its "
          "value; is the name right?), " + value + " declared");
    else if (it->second != value)
      add(Kind::config, key, value, it->second,
          config_text(spec.name, key, value, it->second, bootstrap));
  }
  return out;
}

}  // namespace

std::vector<TopicChange> plan(const std::vector<TopicSpec>& declared, const ClusterState& actual,
                              const std::string& bootstrap) {
  std::vector<TopicChange> out;
  out.reserve(declared.size());
  for (const auto& spec : declared) {
    TopicChange change{spec, TopicChange::Action::create, {}};
    if (auto it = actual.find(spec.name); it != actual.end()) {
      change.differences = differences(spec, it->second, bootstrap);
      bool differs = false, unknown = false;
      for (const auto& d : change.differences) (d.kind == Kind::unknown ? unknown : differs) = true;
      change.action = differs   ? TopicChange::Action::differs
                      : unknown ? TopicChange::Action::unknown
                                : TopicChange::Action::ok;
    }
    out.push_back(std::move(change));
  }
  return out;
}

const char* action_name(TopicChange::Action action) {
  switch (action) {
    case TopicChange::Action::create:
      return "create";
    case TopicChange::Action::ok:
      return "ok";
    case TopicChange::Action::differs:
      return "differs";
    case TopicChange::Action::unknown:
      return "unknown";
  }
  return "?";
}

}  // namespace samsa::admin
