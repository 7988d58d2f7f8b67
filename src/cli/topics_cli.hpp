#pragma once
// `my_app topics plan` and `my_app topics create` (App::run): the routed topics as code.
#include <iosfwd>
#include <string>
#include <vector>

#include "samsa/admin.hpp"
#include "samsa/routing.hpp"
#include "samsa/settings.hpp"

namespace samsa::detail {

struct DeclaredTopic {
  admin::TopicSpec spec;
  /// The routed topic whose dead-letter topic this is; empty for a routed topic.
  std::string dead_letter_of;
};

/// The topics the routes declare, in route order: each routed topic once, then each
/// dispatching dead-letter topic that is not routed itself, with its (first) source topic's
/// partitions and replication factor and no configs. Throws RoutingError when one topic is
/// routed twice with different partitions, replication factor or configs: which one the
/// cluster should have would be a guess.
std::vector<DeclaredTopic> declared_topics(const Routes& routes);

/// The bootstrap servers of the topics commands: `flag` (--brokers or KAFKA_BROKERS), else
/// settings.kafka["bootstrap.servers"]. Throws SettingsError when there are none.
std::string topics_brokers(const std::string& flag, const Settings& settings);

/// `topics plan`: prints one line per declared topic (what `topics create` would do, or
/// what differs) and a summary to `out`; changes nothing. Returns kExitOk when every topic
/// exists and matches, kExitTopicsDiffer otherwise (missing, different, or unknown).
/// Throws (KafkaError) when the cluster cannot be read, RoutingError for conflicting routes.
int topics_plan(const Routes& routes, const admin::Cluster& cluster, std::ostream& out);

/// `topics create`: creates the missing topics, then reads the cluster again and prints per
/// topic `created`, `ready` or what still differs (it never changes an existing topic).
/// Returns kExitOk when every topic now matches, kExitTopicsDiffer otherwise.
int topics_create(const Routes& routes, const admin::Cluster& cluster, std::ostream& out);

}  // namespace samsa::detail
