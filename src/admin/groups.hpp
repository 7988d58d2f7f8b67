#pragma once
// DescribeConsumerGroups for the admin functions and for a group's consumer (the status
// page's members: the runtime hands this to kafka::make_consumer_client): a group's state and members, asked again
// while the coordinator is moving or loading (a fresh cluster creates __consumer_offsets on
// the first group request).
#include <string>

#include "admin/client.hpp"
#include "samsa/admin.hpp"

namespace samsa::admin::detail {

// On any admin client. Blocks until the coordinator answered or `dl`. `known` is false, with
// the reason, when the broker cannot describe groups (librdkafka 2.0.2's embedded broker); a
// group the coordinator does not know is known, state "Dead", no members. Throws KafkaError
// when no answer came in time.
GroupDescription describe_group(kafka::AdminClient& client, const std::string& brokers, const std::string& group,
                                const Deadline& dl);

}  // namespace samsa::admin::detail
