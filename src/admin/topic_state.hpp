#pragma once
// What `topics plan` compares the declared topics with (admin/topic_plan.hpp): the cluster's
// state of those topics, read without changing or creating anything.
#include <chrono>
#include <vector>

#include "admin/topic_plan.hpp"
#include "samsa/admin.hpp"

namespace samsa::admin {

/// The state of every existing topic of the cluster (its partitions and replica counts from
/// the metadata of all topics: asking for a topic by name would create it on a broker that
/// auto-creates topics), and, for the declared topics that exist and declare configs, the
/// broker's values of those configs (DescribeConfigs). A broker that cannot describe configs
/// (librdkafka 2.0.2's embedded mock broker, a broker without the API, a refused request)
/// leaves the configs unknown, saying why, rather than failing. Throws KafkaError when the
/// cluster does not answer within `timeout`.
ClusterState describe_topics(const Cluster& cluster, const std::vector<TopicSpec>& declared,
                             std::chrono::milliseconds timeout = 30s);

}  // namespace samsa::admin
