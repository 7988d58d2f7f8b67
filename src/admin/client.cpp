#include "admin/client.hpp"

#include <string_view>
#include <utility>

namespace samsa::admin {

std::string Cluster::bootstrap_servers() const {
  if (!brokers.empty()) return brokers;
  auto it = kafka.find("bootstrap.servers");
  return it == kafka.end() ? std::string() : it->second;
}

}  // namespace samsa::admin

namespace samsa::admin::detail {

namespace {

// Replaces librdkafka's stderr logger: the admin functions report problems through their
// exceptions, and the first error line (the connection failure, usually) goes into them.
void on_log(const rd_kafka_t* rk, int level, const char*, const char* buf) {
  if (level > 3) return;  // LOG_ERR and worse
  auto* st = static_cast<ClientState*>(rd_kafka_opaque(rk));
  if (!st) return;
  std::string_view line(buf);
  if (line.starts_with("[thrd:"))  // librdkafka's thread tag: noise in an error message
    if (auto end = line.find("]: "); end != std::string_view::npos) line.remove_prefix(end + 3);
  std::lock_guard lock(st->mu);
  if (st->first_log_error.empty()) st->first_log_error = line;
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* st = static_cast<ClientState*>(opaque);
  if (!msg->err) {
    st->delivered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard lock(st->mu);
  if (!st->delivery_failed.load()) {
    st->delivery_err = msg->err;
    st->delivery_partition = msg->partition;
    st->delivery_failed.store(true);
  }
}

}  // namespace

KafkaPtr make_client(const Cluster& cluster, ClientState& st,
                     const std::map<std::string, std::string>& defaults, rd_kafka_type_t type,
                     bool delivery_reports, const std::map<std::string, std::string>& owned) {
  const std::string brokers = cluster.bootstrap_servers();
  if (brokers.empty())
    throw KafkaError("no bootstrap servers given (expected HOST:PORT[,HOST:PORT...])",
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  std::map<std::string, std::string> props = defaults;
  for (const auto& [key, value] : cluster.kafka) props[key] = value;
  for (const auto& [key, value] : owned) props[key] = value;
  props["bootstrap.servers"] = brokers;
  props.emplace("client.id", "samsa-admin");
  auto conf = kafka::make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), &st);
  rd_kafka_conf_set_log_cb(conf.get(), on_log);
  if (delivery_reports) rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  return kafka::make_client(type, std::move(conf));
}

bool is_unreachable(rd_kafka_resp_err_t err) { return kafka::status(err).unreachable(); }

bool is_unsupported(rd_kafka_resp_err_t err) { return kafka::status(err).unsupported(); }

bool is_coordinator_moving(rd_kafka_resp_err_t err) { return kafka::status(err).coordinator_moving(); }

KafkaError failure(const std::string& what, rd_kafka_resp_err_t err, const std::string& brokers,
                   ClientState& st, const Deadline& dl) {
  if (!is_unreachable(err)) return kafka::error(what, err);
  std::string msg = what + ": no answer from the Kafka cluster at " + brokers + " within " +
                    dl.budget_text() + " (" + rd_kafka_err2name(err) + ")";
  if (auto log = st.log_error(); !log.empty()) msg += "; librdkafka says: " + log;
  msg += " (is a broker running at that address? check the bootstrap servers)";
  return KafkaError(std::move(msg), static_cast<int>(err), true);
}

void set_request_timeout(rd_kafka_AdminOptions_t* options, const Deadline& dl,
                         const std::string& what) {
  char errstr[512];
  if (rd_kafka_AdminOptions_set_request_timeout(options, std::max(1, dl.remaining_ms()), errstr,
                                                sizeof errstr))
    throw KafkaError(what + ": " + errstr, RD_KAFKA_RESP_ERR__INVALID_ARG, false);
}

bool is_mock_cluster(rd_kafka_t* rk, const Deadline& dl) {
  char* id = rd_kafka_clusterid(rk, std::max(1, dl.remaining_ms()));
  if (!id) return false;
  bool mock = std::string_view(id).starts_with("mockCluster");
  rd_kafka_mem_free(rk, id);
  return mock;
}

}  // namespace samsa::admin::detail
