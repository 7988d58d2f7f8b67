#include "cli/config_sources.hpp"

#include <CLI/CLI.hpp>
// toml++ as a header-only library: nothing to link, for libsamsa and its users.
#define TOML_HEADER_ONLY 1
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <tuple>

#include "kafka/properties.hpp"
#include "samsa/errors.hpp"

extern char** environ;

namespace samsa::cli {
namespace {

// An INI key may be quoted ("socket.timeout.ms" = 3000); CLI11 keeps the quotes, on
// whichever of the key's dotted parts they fell. No setting name has a quote.
std::string unquote(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == '"' || c == '\''; }), s.end());
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

namespace {

// A TOML document's values as assignments, their keys the dotted paths of their tables
// (`[kafka]` + `"socket.timeout.ms" = 3000` and `kafka = { "socket.timeout.ms" = 3000 }`
// alike: kafka.socket.timeout.ms). Each origin names the file and the value's line.
struct Located {
  Assignment assignment;
  std::uint32_t line, column;
};

void flatten(const toml::table& table, const std::string& prefix, const std::string& origin,
             std::vector<Located>& out) {
  for (auto&& [k, node] : table) {
    const std::string key = prefix + std::string(k.str());
    const auto& at = node.source().begin;
    const std::string where = origin + ", line " + std::to_string(at.line);
    if (const auto* sub = node.as_table()) {
      flatten(*sub, key + ".", origin, out);
      continue;
    }
    if (node.is_array())
      throw SettingsError(where + ": '" + key + "' needs exactly one value, e.g. " + key + " = 500 (not a list)");
    std::string text;
    if (const auto v = node.value_exact<std::string>())
      text = *v;
    else if (const auto b = node.value_exact<bool>())
      text = *b ? "true" : "false";
    else if (const auto i = node.value_exact<std::int64_t>())
      text = std::to_string(*i);
    else {
      std::ostringstream printed;  // a float, a date or a time, as TOML writes it
      node.visit([&](auto&& v) { printed << v; });
      text = printed.str();
    }
    out.push_back({{key, text, where}, at.line, at.column});
  }
}

std::vector<Assignment> read_toml(const std::string& path, const std::string& origin) {
  if (!std::ifstream(path)) throw SettingsError(origin + ": cannot be read (no such file, or not readable)");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw SettingsError(origin + ", line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                        ": " + std::string(e.description()) +
                        " (the file is TOML: `name = value` lines; `[kafka]` starts the librdkafka properties)");
  }
  std::vector<Located> found;
  flatten(root, "", origin, found);
  // In the file's order (a table keeps its keys sorted).
  std::sort(found.begin(), found.end(),
            [](const Located& a, const Located& b) { return std::tie(a.line, a.column) < std::tie(b.line, b.column); });
  std::vector<Assignment> out;
  for (auto& l : found) out.push_back(std::move(l.assignment));
  return out;
}

}  // namespace

std::vector<Assignment> read_config_file(const std::string& path) {
  const std::string origin = "config file " + path;
  if (!ends_with(lower(path), ".ini")) return read_toml(path, origin);
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigINI().from_file(path);
  } catch (const CLI::Error& e) {
    throw SettingsError(origin + ": cannot be read (" + e.what() + ")");
  }
  std::vector<Assignment> out;
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // CLI11's marks of a table's start and end
    std::string key;
    for (const auto& p : item.parents) key += p + ".";
    key = unquote(key + item.name);
    if (item.inputs.size() != 1)
      throw SettingsError(origin + ": '" + key + "' needs exactly one value, e.g. " + key +
                          (item.inputs.empty() ? " = 500" : " = 500 (not a list)"));
    out.push_back({key, item.inputs.front(), origin});
  }
  return out;
}

EnvironmentSettings environment_settings(const std::vector<std::string>& environment,
                                         const std::function<bool(const std::string&)>& is_kafka_property) {
  static constexpr std::string_view kPrefix = "SAMSA_";
  static const std::vector<std::string_view> kReadElsewhere = {"SAMSA_LOG_LEVEL", "SAMSA_LOG_FORMAT",
                                                               "SAMSA_CONFIG"};
  EnvironmentSettings out;
  for (const auto& entry : environment) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = entry.substr(0, eq);
    if (!name.starts_with(kPrefix)) continue;
    if (std::find(kReadElsewhere.begin(), kReadElsewhere.end(), name) != kReadElsewhere.end()) continue;
    const std::string value = entry.substr(eq + 1);
    const std::string origin = "environment variable " + name;
    const std::string rest = lower(std::string_view(name).substr(kPrefix.size()));
    const auto& names = Settings::names();
    if (std::find(names.begin(), names.end(), rest) != names.end()) {
      out.settings.push_back({rest, value, origin});
      continue;
    }
    bool found = false;
    for (std::string_view prefix : {std::string_view("kafka_"), std::string_view("producer_kafka_")}) {
      if (!rest.starts_with(prefix) || rest.size() == prefix.size()) continue;
      std::string property = rest.substr(prefix.size());
      std::replace(property.begin(), property.end(), '_', '.');
      if (!is_kafka_property(property)) break;
      out.settings.push_back({prefix == "kafka_" ? "kafka." + property : "producer.kafka." + property, value, origin});
      found = true;
      break;
    }
    if (!found) out.ignored.push_back(name);
  }
  return out;
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

void apply(Settings& settings, const std::vector<Assignment>& assignments) {
  for (const auto& a : assignments) {
    try {
      settings.set(a.key, a.value);
      // Settings::set keeps librdkafka's values as text: have librdkafka check this one
      // now, while its origin is known (a bad value is refused even when a later source
      // would override it: it is still a mistake in that source).
      for (std::string_view prefix : {std::string_view("kafka."), std::string_view("producer.kafka.")})
        if (a.key.starts_with(prefix)) {
          kafka::check_property(a.key.substr(prefix.size()), a.value);
          break;
        }
    } catch (const SettingsError& e) {
      throw SettingsError(a.origin + ": " + e.what());
    }
  }
}

}  // namespace samsa::cli
