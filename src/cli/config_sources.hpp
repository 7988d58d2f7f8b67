#pragma once
// Where `App::run` reads settings from besides the code: a config file (--config, TOML or
// INI, parsed by CLI11's config parser), the environment (SAMSA_*), and --set. Each source
// becomes a list of key/value assignments fed to Settings::set, so every source gets the
// same validation and the same messages, prefixed with where the value came from.
//
// Precedence (later wins): defaults < the code (App::setup) < the config file < the
// environment < --set (and --brokers, --metrics-port).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "samsa/settings.hpp"

namespace samsa::cli {

/// One setting from one source. `origin` names the source for messages
/// ("config file app.toml", "environment variable SAMSA_MAX_MESSAGES", "--set").
struct Assignment {
  std::string key;
  std::string value;
  std::string origin;
};

/// The settings in a config file: top-level keys are settings (`max_messages = 500`), the
/// keys of a [kafka] table are librdkafka properties (`bootstrap.servers = "b:9092"` ->
/// kafka.bootstrap.servers), and of [producer.kafka] the producer's. A `.ini` file is read
/// as INI (';' comments), anything else as TOML ('#' comments). Throws SettingsError when
/// the file cannot be read, or a key has no value or several (a TOML array).
std::vector<Assignment> read_config_file(const std::string& path);

/// What the environment sets. Each `NAME=VALUE` entry of `environment` whose NAME is
/// SAMSA_ followed by a setting's name in upper case, dots as underscores, is one:
///  - SAMSA_MAX_MESSAGES -> max_messages (every name in Settings::names())
///  - SAMSA_KAFKA_BOOTSTRAP_SERVERS -> kafka.bootstrap.servers, when librdkafka knows
///    bootstrap.servers (`is_kafka_property`); a property with an underscore in its own
///    name (log_level) cannot be set this way: use --set or the config file
///  - SAMSA_PRODUCER_KAFKA_LINGER_MS -> producer.kafka.linger.ms (the same way)
/// SAMSA_LOG_LEVEL, SAMSA_LOG_FORMAT and SAMSA_CONFIG are read by the logger and the command
/// line themselves. Every other SAMSA_* name is listed in `ignored` (run() warns about each:
/// a misspelt setting is named, never silently dropped, and a variable of other tools does
/// not stop the app). Pure: no I/O.
struct EnvironmentSettings {
  std::vector<Assignment> settings;
  std::vector<std::string> ignored;
};
EnvironmentSettings environment_settings(const std::vector<std::string>& environment,
                                         const std::function<bool(const std::string&)>& is_kafka_property);

/// The process's environment, as environment_settings takes it.
std::vector<std::string> process_environment();

/// Applies `assignments` in order; a librdkafka property's value is checked by librdkafka at
/// once. A SettingsError is thrown again with the origin in front: "environment variable
/// SAMSA_MAX_MESSAGES: setting 'max_messages': ...".
void apply(Settings& settings, const std::vector<Assignment>& assignments);

}  // namespace samsa::cli
