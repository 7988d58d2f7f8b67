// The settings table (src/settings_table.hpp) covers every setting: each field of the
// settings structs has an entry, and each entry reaches set(), `info`, the overrides and
// the range checks with the texts users see.
#include "settings_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "app_info.hpp"
#include "samsa/errors.hpp"
#include "samsa/routing.hpp"
#include "samsa/settings.hpp"

namespace {

using samsa::Settings;
using samsa::SettingsError;

// Counts the fields of an aggregate: the most initializers `T{...}` accepts (a base class
// takes one). AnyField converts to any field's type; not to std::optional, whose own
// converting constructor would make the conversion ambiguous. A field of a type AnyField
// cannot initialize would stop the count short, and HasAnEntryForEveryField would say so.
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
struct AnyField {
  template <class T>
    requires(!IsOptional<T>::value)
  operator T() const;
};
template <class T, class... Fields>
constexpr std::size_t field_count() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; }) return field_count<T, Fields..., AnyField>();
  else return sizeof...(Fields);
}

// A valid value of each setting other than its default, written as `info` prints it. A new
// setting needs one here: EveryNameIsShownByInfo fails until it has one.
const std::map<std::string, std::string>& samples() {
  static const std::map<std::string, std::string> s = {
      {"automatically_mark_as_consumed", "false"},
      {"batch_fetching", "false"},
      {"max_messages", "7"},
      {"max_wait_time", "250ms"},
      {"initial_offset", "latest"},
      {"group_protocol", "consumer"},
      {"pause_timeout", "2000ms"},
      {"pause_max_timeout", "60000ms"},
      {"pause_with_exponential_backoff", "false"},
      {"rebalance_protocol", "cooperative-sticky"},
      {"concurrency", "3"},
      {"shutdown_timeout", "5000ms"},
      {"tick_interval", "100ms"},
      {"revoke_timeout", "1000ms"},
      {"queue_max_messages", "50"},
      {"max_buffered_bytes", "1MiB"},
      {"queue_min_time", "500ms"},
      {"client_id", "my_app"},
      {"transactional_id", "my_app-pod-0"},
      {"metrics_port", "9394"},
      {"metrics_host", "127.0.0.1"},
      {"http_threads", "8"},
      {"http_timeout", "3000ms"},
      {"http_max_connections", "50"},
      {"lag_interval", "2000ms"},
      {"stuck_partition_after", "5000ms"},
      {"stuck_job_after", "7000ms"},
      {"stuck_rebalance_after", "9000ms"},
  };
  return s;
}

using Sets = std::map<std::string, std::string>;

// The name=value pairs `info` prints for a group "g" with one topic "t" that set `group` and
// `topic` by name (librdkafka properties left out; the group's and the topic's line merged).
std::map<std::string, std::string> info_values(const Settings& app, const Sets& group = {},
                                               const Sets& topic = {}) {
  samsa::Routes routes;
  auto& g = routes.consumer_group("g");
  for (const auto& [k, v] : group) g.set(k, v);
  auto& t = g.topic("t");
  for (const auto& [k, v] : topic) t.set(k, v);
  std::istringstream words(samsa::detail::describe_group(app, g, ""));
  std::map<std::string, std::string> out;
  for (std::string w; words >> w;) {
    auto eq = w.find('=');
    // librdkafka properties (kafka.*, the producers' producer.kafka.*) are not settings.
    if (eq != std::string::npos && !w.starts_with("kafka.") && !w.starts_with("producer.kafka."))
      out[w.substr(0, eq)] = w.substr(eq + 1);
  }
  return out;
}

std::set<std::string> keys(const std::map<std::string, std::string>& m) {
  std::set<std::string> out;
  for (const auto& [k, v] : m) out.insert(k);
  return out;
}

}  // namespace

TEST(SettingsTable, HasAnEntryForEveryField) {
  using samsa::detail::app_settings;
  using samsa::detail::inherited_settings;
  // A field added to a settings struct without a table entry fails here.
  EXPECT_EQ(field_count<samsa::TopicSettings>(), inherited_settings().size());
  EXPECT_EQ(field_count<samsa::Overrides>(), inherited_settings().size() + 1) << "+ kafka";
  EXPECT_EQ(field_count<Settings>(), 1 + app_settings().size() + 2) << "the TopicSettings base + kafka + producer_kafka";
}

TEST(SettingsTable, EveryNameIsShownByInfo) {
  std::set<std::string> names(Settings::names().begin(), Settings::names().end());
  EXPECT_EQ(names.size(), Settings::names().size()) << "a name declared twice";
  EXPECT_EQ(names, keys(samples()));
  EXPECT_EQ(keys(info_values(Settings{})), names);
}

TEST(SettingsTable, EachSettingRoundTripsFromSetToInfoAndChangesNothingElse) {
  const auto defaults = info_values(Settings{});
  for (const auto& [name, text] : samples()) {
    ASSERT_NE(defaults.at(name), text) << name << ": the sample must not be the default";
    Settings s;
    s.set(name, text);
    EXPECT_TRUE(s.problems().empty()) << name;
    auto shown = info_values(s);
    for (const auto& [other, value] : defaults)
      EXPECT_EQ(shown.at(other), other == name ? text : value) << "after set(" << name << ", " << text << ")";
  }
}

TEST(SettingsTable, EachInheritedSettingIsOverriddenByTheGroupAndTheTopicLevelOnesByTheTopic) {
  const auto defaults = info_values(Settings{});
  for (const auto& s : samsa::detail::inherited_settings()) {
    const std::string name(s.name);
    const Sets sample = {{name, samples().at(name)}};
    EXPECT_EQ(info_values(Settings{}, sample).at(name), samples().at(name)) << name;
    const bool per_topic = s.level == samsa::detail::Level::topic;
    const auto& expected = per_topic ? samples().at(name) : defaults.at(name);
    EXPECT_EQ(info_values(Settings{}, {}, sample).at(name), expected)
        << name << ": a group-level setting set on a topic does not reach `info`";
  }
}

TEST(SettingsTable, AnUnknownOrAppOnlyKeyIsRefusedNamingIt) {
  Settings s;
  try {
    s.set("no_such_setting", "1");
    FAIL() << "accepted an unknown setting";
  } catch (const SettingsError& e) {
    EXPECT_EQ(std::string(e.what()),
              "setting 'no_such_setting': unknown setting; librdkafka properties go under 'kafka.', e.g. "
              "kafka.fetch.wait.max.ms");
  }
  samsa::Overrides o;
  EXPECT_THROW(o.set("concurrency", "2"), SettingsError) << "app only";
  try {
    o.set("pause_timeot", "1s");
    FAIL() << "accepted an unknown override";
  } catch (const SettingsError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("setting 'pause_timeot': unknown setting (did you mean 'pause_timeout'?)"),
              std::string::npos)
        << what;
  }
}

TEST(SettingsTable, TheRangeChecksKeepTheirTexts) {
  using std::chrono::milliseconds;
  Settings s;
  s.max_messages = 0;
  s.max_wait_time = milliseconds(-1);
  s.pause_timeout = milliseconds(-1);
  s.pause_max_timeout = milliseconds(-2);
  s.client_id = "";
  s.concurrency = 0;
  s.shutdown_timeout = milliseconds(0);
  s.tick_interval = milliseconds(0);
  s.revoke_timeout = milliseconds(-1);
  s.queue_max_messages = 0;
  s.max_buffered_bytes = 0;
  s.rebalance_protocol = "sticky";
  const std::vector<std::string> expected = {
      "max_messages: must be at least 1",
      "max_wait_time: must not be negative",
      "pause_timeout: must not be negative",
      "pause_max_timeout: must be at least pause_timeout",
      "rebalance_protocol: expected eager or cooperative-sticky, got 'sticky'",
      "concurrency: must be at least 1",
      "shutdown_timeout: must be positive",
      "tick_interval: must be positive",
      "revoke_timeout: must not be negative",
      "queue_max_messages: must be at least 1",
      "max_buffered_bytes: must be at least 1MiB (1048576 bytes)",
      "client_id: must not be empty",
  };
  EXPECT_EQ(s.problems(), expected);
  samsa::Overrides o;
  o.set("max_messages", "0");
  EXPECT_EQ(samsa::problems(o, "consumer group 'g': "),
            std::vector<std::string>{"consumer group 'g': max_messages: must be at least 1"});
}
