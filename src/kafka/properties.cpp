#include "kafka/properties.hpp"

#include "kafka/handle.hpp"
#include "log_text.hpp"
#include "samsa/settings.hpp"

namespace samsa::kafka {

std::string conf_error_text(std::string_view key, std::string_view value, std::string errstr,
                            std::size_t errstr_capacity) {
  if (!is_secret_kafka_property(key) || value.empty()) return errstr;
  // librdkafka quotes a refused value for some types ('Invalid value "..." for ...'). A
  // reason that filled the buffer may end in a cut-off copy of the value: drop it whole.
  if (errstr.size() + 1 >= errstr_capacity)
    return "librdkafka refused the value (not shown: the property is secret)";
  const std::map<std::string, std::string> secret{{std::string(key), std::string(value)}};
  return SecretRedactor(secret).redact(errstr);
}

void check_property(const std::string& key, const std::string& value) { (void)make_conf({{key, value}}); }

bool is_librdkafka_property(const std::string& name) {
  // rd_kafka_conf_get does not know aliases (bootstrap.servers); setting does. An empty
  // value is refused as invalid by a known property, never as unknown.
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  return rd_kafka_conf_set(conf.get(), name.c_str(), "", errstr, sizeof errstr) != RD_KAFKA_CONF_UNKNOWN;
}

void require_bootstrap_servers(const std::map<std::string, std::string>& properties) {
  const auto it = properties.find("bootstrap.servers");
  if (it == properties.end() || it->second.empty())
    throw SettingsError(
        "setting 'kafka.bootstrap.servers': not set; pass --brokers, set KAFKA_BROKERS or set "
        "config.kafka[\"bootstrap.servers\"]");
}

}  // namespace samsa::kafka
