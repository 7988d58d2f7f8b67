#pragma once
// A group's committed offsets, for the admin functions (src/admin/offsets.cpp,
// src/admin/reset.cpp). Unit tested on the fake client.
#include <memory>
#include <string>
#include <vector>

#include "admin/client.hpp"
#include "kafka/commit_offset.hpp"
#include "samsa/admin.hpp"

namespace samsa::admin::detail {

// A client of `group` that never subscribes: it asks the group coordinator for offsets and
// commits none by itself, so it neither joins the group nor disturbs it. Throws KafkaError
// when `group` is empty.
std::unique_ptr<kafka::AdminClient> make_group_client(const Cluster& cluster, const std::string& group);

// Fills `offsets` (their topic and partition) with the group's committed offsets (OffsetFetch
// to the group coordinator), asking again while the coordinator is moving or loading, which
// librdkafka reports rather than retries. Throws KafkaError.
void read_committed(kafka::AdminClient& client, std::vector<kafka::CommitOffset>& offsets, const std::string& brokers,
                    const std::string& group, const Deadline& dl);

// admin::group_offsets on `client` (a group client of `group`) within `dl`.
std::vector<PartitionOffsets> group_offsets(kafka::AdminClient& client, const std::string& brokers,
                                            const std::string& group, const std::vector<std::string>& topics,
                                            const Deadline& dl);

}  // namespace samsa::admin::detail
