#pragma once
// What the admin helpers know of the cluster's topics (src/admin/topics.cpp), for the other
// helpers that need it (src/admin/offsets.cpp, src/admin/topic_state.cpp).
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

// Every topic of the cluster, without creating any.
TopicMap describe_all_topics(rd_kafka_t* rk, const std::string& brokers, ClientState& st,
                             const Deadline& dl);

}  // namespace samsa::admin::detail
