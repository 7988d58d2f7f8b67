#pragma once
// `topics plan`'s diff: the topics an app declares against what the cluster has. Pure: the
// cluster's state is read elsewhere (admin/topic_state.hpp), this only compares.
//
// Samsa never changes an existing topic. Partitions in particular: Kafka can only add them,
// and adding them changes which partition a key hashes to, so the messages of a key written
// before and after land in different partitions and lose their order. Whether that is
// acceptable is the app owner's call, so a difference is reported with the command that
// would make it, never made.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "samsa/admin.hpp"

namespace samsa::admin {

/// What the cluster says of one existing topic.
struct TopicState {
  int partitions = 0;
  /// The smallest replica count of its partitions (a topic is as replicated as its least
  /// replicated partition); 0 when the metadata names no replicas.
  int replication_factor = 0;
  /// The broker's values of the configs asked for; std::nullopt when the broker cannot say
  /// (no DescribeConfigs, the request was refused), with the reason in `configs_unknown`.
  /// A key asked for but missing from the map is one the broker did not report.
  std::optional<std::map<std::string, std::string>> configs;
  std::string configs_unknown;
};

/// The cluster's existing topics by name; a topic that is not in it does not exist.
using ClusterState = std::map<std::string, TopicState>;

/// One thing that differs between a declared topic and the cluster's.
struct TopicDifference {
  enum class Kind {
    /// Fewer partitions on the cluster than declared (Kafka could add them).
    fewer_partitions,
    /// More partitions on the cluster than declared (Kafka cannot remove any).
    more_partitions,
    replication_factor,
    config,
    /// The broker cannot say whether it matches (e.g. no DescribeConfigs): not a match.
    unknown,
  };
  Kind kind = Kind::unknown;
  /// The config's name (Kind::config; Kind::unknown about configs), else empty.
  std::string key;
  /// The declared and the cluster's value as text (empty when the cluster's is unknown).
  std::string declared, actual;
  /// One sentence for the user: what differs and what to do about it.
  std::string text;
};

struct TopicChange {
  enum class Action {
    /// Missing: `topics create` creates it.
    create,
    /// Exists and matches every declared property.
    ok,
    /// Exists and at least one property differs (`differences` says which). Samsa changes
    /// nothing of an existing topic.
    differs,
    /// Exists, nothing known differs, but the broker could not say for some property.
    unknown,
  };
  TopicSpec declared;
  Action action = Action::create;
  /// Every difference and every unknown property (empty for create and ok), in the order
  /// partitions, replication factor, configs by name.
  std::vector<TopicDifference> differences;
};

/// The change for each declared topic, in the order given. `bootstrap` only goes into the
/// commands the texts suggest (`kafka-topics.sh --bootstrap-server ...`). A partition count
/// or replication factor of -1 (not declared: the broker's default) is not compared;
/// configs are compared as text, only the declared keys.
std::vector<TopicChange> plan(const std::vector<TopicSpec>& declared, const ClusterState& actual,
                              const std::string& bootstrap);

/// "create", "ok", "differs", "unknown".
const char* action_name(TopicChange::Action action);

}  // namespace samsa::admin
