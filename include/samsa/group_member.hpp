#pragma once
// A member of a consumer group as the group coordinator describes it (DescribeConsumerGroups):
// shared by admin::describe_group and the monitor's group_described event.
#include <cstdint>
#include <string>
#include <vector>

#include "samsa/topic_partition.hpp"

namespace samsa {

struct GroupMember {
  /// The coordinator's id of the member (a process may have several: one per group client).
  std::string member_id;
  /// The client's client.id and the host the coordinator saw it connect from.
  std::string client_id;
  std::string host;
  /// The partitions assigned to it, sorted.
  std::vector<TopicPartition> assignment;
};

}  // namespace samsa
