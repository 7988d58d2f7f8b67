#pragma once
// librdkafka's properties as the settings and the command line check them, without
// librdkafka's header. Any thread; check_property and is_librdkafka_property build and drop a
// librdkafka configuration (microseconds).
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace samsa::kafka {

/// librdkafka's reason `errstr` for refusing `value` of property `key`, fit for a log: for a
/// secret property (is_secret_kafka_property) every copy of the value is replaced with
/// "[redacted]", and a reason that filled its buffer of `errstr_capacity` bytes (so may end
/// in a cut-off copy) is replaced whole.
std::string conf_error_text(std::string_view key, std::string_view value, std::string errstr,
                            std::size_t errstr_capacity);

/// Throws SettingsError naming the property and librdkafka's reason when librdkafka does not
/// know `key` or refuses `value` for it.
void check_property(const std::string& key, const std::string& value);

/// True when librdkafka knows a (global or topic) property of this name.
bool is_librdkafka_property(const std::string& name);

/// Throws SettingsError saying how to set them when `properties` has no bootstrap.servers.
void require_bootstrap_servers(const std::map<std::string, std::string>& properties);

}  // namespace samsa::kafka
