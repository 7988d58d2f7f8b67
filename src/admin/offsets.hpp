#pragma once
// The group-offset helpers src/admin/offsets.cpp shares with src/admin/reset.cpp.
#include <string>

#include "admin/client.hpp"

namespace samsa::admin::detail {

// A consumer client of `group` that never subscribes: it asks the group coordinator for
// offsets and commits none by itself, so it neither joins the group nor disturbs it.
KafkaPtr make_group_client(const Cluster& cluster, const std::string& group, ClientState& st);

// Fills `list` with the group's committed offsets (OffsetFetch to the group coordinator),
// retrying while the coordinator is moving or loading. Throws KafkaError.
void read_committed(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* list,
                    const std::string& brokers, const std::string& group, ClientState& st,
                    const Deadline& dl);

}  // namespace samsa::admin::detail
