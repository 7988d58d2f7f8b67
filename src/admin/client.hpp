#pragma once
// What the admin functions (src/admin/*.cpp) share: their clients of a Cluster, and the
// error for a request the cluster did not answer.
#include <map>
#include <memory>
#include <string>

#include "admin/deadline.hpp"
#include "kafka/admin_client.hpp"
#include "kafka/status.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin::detail {

// A client of `cluster` for `use`. `defaults` are the function's tuning, which the cluster's
// properties override; `owned` are what defines its work (group.id, ...), which they do not.
// Throws KafkaError when the cluster has no bootstrap servers, SettingsError for a bad
// property.
std::unique_ptr<kafka::AdminClient> make_client(const Cluster& cluster, kafka::AdminUse use,
                                                const std::map<std::string, std::string>& defaults = {},
                                                const std::map<std::string, std::string>& owned = {});

// The exception for `what` failing with `status`. When the client's connection failed
// authentication or its TLS handshake (AdminClient::security_failure), it says so and names
// the settings to fix (kafka::security_failure_text), whatever `status`. When the cluster
// did not answer (timeout, transport), it says which cluster, within what time, and
// librdkafka's own account of the connection failure; otherwise status.error(what).
KafkaError failure(const std::string& what, const kafka::Status& status, const std::string& brokers,
                   const kafka::AdminClient& client, const Deadline& dl);

// The exception for `what` failing because the cluster refused the client's connection with
// `security` (AdminClient::security_failure): not retriable, naming the settings to fix.
KafkaError refused(const std::string& what, const std::string& brokers, const kafka::Status& security);

}  // namespace samsa::admin::detail
