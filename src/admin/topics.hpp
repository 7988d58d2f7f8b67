#pragma once
// What the admin functions know of the cluster's topics (src/admin/topics.cpp), for the other
// functions that need it (src/admin/offsets.cpp, reset.cpp, topic_state.cpp).
#include <map>
#include <string>

#include "admin/client.hpp"

namespace samsa::admin::detail {

struct TopicInfo {
  bool exists = false;
  int partitions = 0;
  // The smallest replica count of its partitions (0 when the metadata lists none).
  int replication_factor = 0;
};

using TopicMap = std::map<std::string, TopicInfo>;

// Every topic of the cluster, without creating any. Throws KafkaError when the cluster does
// not answer, or reports an error for a topic other than its absence or a leader election.
TopicMap describe_all_topics(kafka::AdminClient& client, const std::string& brokers, const Deadline& dl);

}  // namespace samsa::admin::detail
