#include "admin/client.hpp"

#include <utility>

#include "kafka/error_code.hpp"

namespace samsa::admin {

std::string Cluster::bootstrap_servers() const {
  if (!brokers.empty()) return brokers;
  auto it = kafka.find("bootstrap.servers");
  return it == kafka.end() ? std::string() : it->second;
}

}  // namespace samsa::admin

namespace samsa::admin::detail {

std::unique_ptr<kafka::AdminClient> make_client(const Cluster& cluster, kafka::AdminUse use,
                                                const std::map<std::string, std::string>& defaults,
                                                const std::map<std::string, std::string>& owned) {
  const std::string brokers = cluster.bootstrap_servers();
  if (brokers.empty())
    throw KafkaError("no bootstrap servers given (expected HOST:PORT[,HOST:PORT...])",
                     kafka::error_code::invalid_arg, false);
  std::map<std::string, std::string> props = defaults;
  for (const auto& [key, value] : cluster.kafka) props[key] = value;
  for (const auto& [key, value] : owned) props[key] = value;
  props["bootstrap.servers"] = brokers;
  props.emplace("client.id", "samsa-admin");
  return kafka::make_admin_client(props, use);
}

KafkaError failure(const std::string& what, const kafka::Status& status, const std::string& brokers,
                   const kafka::AdminClient& client, const Deadline& dl) {
  // Retrying cannot help: say which setting to fix, not "is a broker running".
  if (const kafka::Status sec = client.security_failure(); !sec.ok()) return refused(what, brokers, sec);
  if (!status.unreachable()) return status.error(what);
  std::string msg = what + ": no answer from the Kafka cluster at " + brokers + " within " +
                    dl.budget_text() + " (" + status.name() + ")";
  if (auto log = client.first_log_error(); !log.empty()) msg += "; librdkafka says: " + log;
  msg += " (is a broker running at that address? check the bootstrap servers)";
  return KafkaError(std::move(msg), status.number(), true);
}

KafkaError refused(const std::string& what, const std::string& brokers, const kafka::Status& security) {
  return KafkaError(what + ": the Kafka cluster at " + brokers + " refused the connection: " +
                        kafka::security_failure_text(security),
                    security.number(), false);
}

}  // namespace samsa::admin::detail
