#pragma once
// DescribeConsumerGroups for the admin functions and the listener's watch: a group's state
// and members (with their assignments), asked again while the coordinator is moving or
// loading (a fresh cluster creates __consumer_offsets on the first group request).
#include <librdkafka/rdkafka.h>

#include <string>

#include "admin/client.hpp"
#include "samsa/admin.hpp"

namespace samsa::admin::detail {

// On any client `rk` (an admin client, or a group's own consumer). Blocks until the
// coordinator answered or `dl`. `known` is false, with the reason, when the broker cannot
// describe groups (librdkafka 2.0.2's embedded broker); a group the coordinator does not
// know is known, state "Dead", no members. Throws KafkaError when no answer came in time.
GroupDescription describe_group(rd_kafka_t* rk, const std::string& brokers, const std::string& group,
                                ClientState& st, const Deadline& dl);

}  // namespace samsa::admin::detail
