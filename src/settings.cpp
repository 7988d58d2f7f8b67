#include "samsa/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

#include "samsa/errors.hpp"

namespace samsa {
namespace {

using std::chrono::milliseconds;

[[noreturn]] void fail(std::string_view key, const std::string& reason) {
  throw SettingsError("setting '" + std::string(key) + "': " + reason);
}

bool parse_bool(std::string_view key, std::string_view v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  fail(key, "expected true or false, got '" + std::string(v) + "'");
}

int parse_int(std::string_view key, std::string_view v) {
  int out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size())
    fail(key, "expected an integer, got '" + std::string(v) + "'");
  return out;
}

milliseconds parse_duration(std::string_view key, std::string_view v) {
  long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  std::string_view unit(end, static_cast<std::size_t>(v.data() + v.size() - end));
  if (ec != std::errc() || end == v.data())
    fail(key, "expected a duration such as 500, 250ms, 5s or 2m, got '" + std::string(v) + "'");
  if (unit.empty() || unit == "ms") return milliseconds(n);
  if (unit == "s") return milliseconds(n * 1000);
  if (unit == "m") return milliseconds(n * 60000);
  fail(key, "unknown duration unit '" + std::string(unit) + "' (use ms, s or m)");
}

InitialOffset parse_initial_offset(std::string_view key, std::string_view v) {
  if (v == "earliest") return InitialOffset::earliest;
  if (v == "latest") return InitialOffset::latest;
  fail(key, "expected earliest or latest, got '" + std::string(v) + "'");
}

GroupProtocol parse_group_protocol(std::string_view key, std::string_view v) {
  if (v == "classic") return GroupProtocol::classic;
  if (v == "consumer") return GroupProtocol::consumer;
  fail(key, "expected classic or consumer (KIP-848), got '" + std::string(v) + "'");
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

[[noreturn]] void unknown(std::string_view key, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = 4;
  for (const auto& k : known) {
    std::size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  std::string reason = "unknown setting";
  if (!best.empty()) reason += " (did you mean '" + best + "'?)";
  reason += "; librdkafka properties go under 'kafka.', e.g. kafka.fetch.wait.max.ms";
  fail(key, reason);
}

const std::vector<std::string>& override_names() {
  static const std::vector<std::string> names = {
      "automatically_mark_as_consumed", "batch_fetching", "max_messages", "max_wait_time",
      "initial_offset", "pause_timeout", "pause_max_timeout", "pause_with_exponential_backoff",
      "group_protocol"};
  return names;
}

// Shared by Settings::set and Overrides::set: the inherited settings, by name.
template <class Bool, class Int, class Ms, class Init, class Proto>
bool set_inherited(std::string_view key, std::string_view value, Bool& mark, Bool& batch,
                   Int& max_messages, Ms& max_wait, Init& initial, Ms& pause, Ms& pause_max,
                   Bool& exponential, Proto& protocol) {
  if (key == "automatically_mark_as_consumed") mark = parse_bool(key, value);
  else if (key == "batch_fetching") batch = parse_bool(key, value);
  else if (key == "max_messages") max_messages = parse_int(key, value);
  else if (key == "max_wait_time") max_wait = parse_duration(key, value);
  else if (key == "initial_offset") initial = parse_initial_offset(key, value);
  else if (key == "pause_timeout") pause = parse_duration(key, value);
  else if (key == "pause_max_timeout") pause_max = parse_duration(key, value);
  else if (key == "pause_with_exponential_backoff") exponential = parse_bool(key, value);
  else if (key == "group_protocol") protocol = parse_group_protocol(key, value);
  else return false;
  return true;
}

void check_kafka(const std::map<std::string, std::string>& kafka, std::string_view where,
                 std::vector<std::string>& out) {
  for (const auto& [key, value] : kafka) {
    auto r = reserved_kafka_properties().find(key);
    if (r != reserved_kafka_properties().end())
      out.push_back(std::string(where) + "kafka." + key + ": " + r->second);
  }
}

void check_inherited(const TopicSettings& s, std::string_view where,
                     std::vector<std::string>& out) {
  auto w = std::string(where);
  if (s.max_messages < 1) out.push_back(w + "max_messages: must be at least 1");
  if (s.max_wait_time.count() < 0) out.push_back(w + "max_wait_time: must not be negative");
  if (s.pause_timeout.count() < 0) out.push_back(w + "pause_timeout: must not be negative");
  if (s.pause_max_timeout < s.pause_timeout)
    out.push_back(w + "pause_max_timeout: must be at least pause_timeout");
}

}  // namespace

void Overrides::set(std::string_view key, std::string_view value) {
  if (key.starts_with("kafka.")) {
    if (key.size() == 6) fail(key, "a librdkafka property name must follow 'kafka.'");
    kafka[std::string(key.substr(6))] = std::string(value);
    return;
  }
  if (!set_inherited(key, value, automatically_mark_as_consumed, batch_fetching, max_messages,
                     max_wait_time, initial_offset, pause_timeout, pause_max_timeout,
                     pause_with_exponential_backoff, group_protocol))
    unknown(key, override_names());
}

std::chrono::milliseconds TopicSettings::pause_for_attempt(int attempt) const {
  if (!pause_with_exponential_backoff || attempt <= 1) return std::min(pause_timeout, pause_max_timeout);
  auto t = pause_timeout;
  for (int i = 1; i < attempt && t < pause_max_timeout; ++i) t *= 2;
  return std::min(t, pause_max_timeout);
}

void Settings::set(std::string_view key, std::string_view value) {
  if (key.starts_with("kafka.")) {
    if (key.size() == 6) fail(key, "a librdkafka property name must follow 'kafka.'");
    kafka[std::string(key.substr(6))] = std::string(value);
    return;
  }
  if (set_inherited(key, value, automatically_mark_as_consumed, batch_fetching, max_messages,
                    max_wait_time, initial_offset, pause_timeout, pause_max_timeout,
                    pause_with_exponential_backoff, group_protocol))
    return;
  if (key == "client_id") client_id = std::string(value);
  else if (key == "concurrency") concurrency = parse_int(key, value);
  else if (key == "shutdown_timeout") shutdown_timeout = parse_duration(key, value);
  else if (key == "tick_interval") tick_interval = parse_duration(key, value);
  else if (key == "revoke_timeout") revoke_timeout = parse_duration(key, value);
  else if (key == "queue_max_messages") queue_max_messages = parse_int(key, value);
  else if (key == "queue_max_bytes") queue_max_bytes = parse_int(key, value);
  else if (key == "rebalance_protocol") rebalance_protocol = std::string(value);
  else unknown(key, names());
}

TopicSettings Settings::topic_defaults() const { return *this; }

std::vector<std::string> Settings::problems() const {
  std::vector<std::string> out;
  check_inherited(topic_defaults(), "", out);
  if (client_id.empty()) out.push_back("client_id: must not be empty");
  if (concurrency < 1) out.push_back("concurrency: must be at least 1");
  if (shutdown_timeout.count() <= 0) out.push_back("shutdown_timeout: must be positive");
  if (tick_interval.count() <= 0) out.push_back("tick_interval: must be positive");
  if (revoke_timeout.count() < 0) out.push_back("revoke_timeout: must not be negative");
  if (queue_max_messages < 1) out.push_back("queue_max_messages: must be at least 1");
  if (queue_max_bytes < 1) out.push_back("queue_max_bytes: must be at least 1");
  if (rebalance_protocol != "eager" && rebalance_protocol != "cooperative-sticky")
    out.push_back("rebalance_protocol: expected eager or cooperative-sticky, got '" +
                  rebalance_protocol + "'");
  check_kafka(kafka, "", out);
  return out;
}

void Settings::validate() const { throw_if_problems(problems()); }

void throw_if_problems(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::ostringstream msg;
  msg << "invalid settings:";
  for (const auto& line : problems) msg << "\n  - " << line;
  throw SettingsError(msg.str());
}

const std::vector<std::string>& Settings::names() {
  static const std::vector<std::string> all = [] {
    auto n = override_names();
    for (const char* k : {"client_id", "concurrency", "shutdown_timeout", "tick_interval",
                          "rebalance_protocol", "revoke_timeout", "queue_max_messages", "queue_max_bytes"})
      n.emplace_back(k);
    return n;
  }();
  return all;
}

TopicSettings resolve(const TopicSettings& base, const Overrides& o) {
  TopicSettings t = base;
  if (o.automatically_mark_as_consumed) t.automatically_mark_as_consumed = *o.automatically_mark_as_consumed;
  if (o.batch_fetching) t.batch_fetching = *o.batch_fetching;
  if (o.max_messages) t.max_messages = *o.max_messages;
  if (o.max_wait_time) t.max_wait_time = *o.max_wait_time;
  if (o.initial_offset) t.initial_offset = *o.initial_offset;
  if (o.group_protocol) t.group_protocol = *o.group_protocol;
  if (o.pause_timeout) t.pause_timeout = *o.pause_timeout;
  if (o.pause_max_timeout) t.pause_max_timeout = *o.pause_max_timeout;
  if (o.pause_with_exponential_backoff) t.pause_with_exponential_backoff = *o.pause_with_exponential_backoff;
  return t;
}

std::vector<std::string> problems(const Overrides& o, std::string_view where) {
  std::vector<std::string> out;
  check_inherited(resolve(TopicSettings{}, o), where, out);
  check_kafka(o.kafka, where, out);
  return out;
}

const std::map<std::string, std::string>& reserved_kafka_properties() {
  static const std::map<std::string, std::string> reserved = {
      {"enable.auto.offset.store",
       "Samsa stores offsets itself (marking); use automatically_mark_as_consumed instead"},
      {"group.id", "set by the consumer group's name in the routes"},
      {"auto.offset.reset", "use the initial_offset setting (earliest or latest)"},
      {"partition.assignment.strategy",
       "use the rebalance_protocol setting (eager or cooperative-sticky)"},
      {"enable.partition.eof", "Samsa does not deliver end-of-partition events"},
      {"group.protocol", "use the group_protocol setting (classic or consumer)"},
  };
  return reserved;
}

bool is_secret_kafka_property(std::string_view name) {
  std::string n(name.starts_with("kafka.") ? name.substr(6) : name);
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto has = [&n](std::string_view part) { return n.find(part) != std::string::npos; };
  // librdkafka's own _RK_SENSITIVE properties (2.0.2), then patterns for the rest. ssl_key is
  // the internal property rd_kafka_conf_set_ssl_cert() fills with a private key.
  // Certificates (ssl.certificate.pem, ssl.ca.pem) stay visible on purpose: a certificate is
  // public (the peer receives it in every TLS handshake) and seeing which one is configured
  // helps to debug; only the private key that goes with it is secret, hence "key.pem" and
  // not ".pem". A location (ssl.key.location, ssl.keystore.location) is a path, not the key.
  static const std::string_view listed[] = {
      "ssl.key.pem",   "ssl_key", "ssl.key.password", "ssl.keystore.password", "sasl.password",
      "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret"};
  for (auto l : listed)
    if (n == l) return true;
  return has("password") || has("passphrase") || has("secret") || has("sasl.oauthbearer.config") ||
         n.ends_with("key.pem");
}

std::string redacted_value(std::string_view name, std::string_view value) {
  return is_secret_kafka_property(name) ? std::string("[redacted]") : std::string(value);
}

std::string_view to_string(InitialOffset offset) {
  return offset == InitialOffset::earliest ? "earliest" : "latest";
}

std::string version_text(int v) {
  return std::to_string((v >> 24) & 0xff) + "." + std::to_string((v >> 16) & 0xff) + "." +
         std::to_string((v >> 8) & 0xff);
}

void add_fetch_queue_defaults(std::map<std::string, std::string>& kafka, int librdkafka_version) {
  constexpr int kFirstWithFetchQueueBackoff = 0x02010000;  // 2.1.0
  // bench/run.py --study fetch-queue measured these (README, Benchmarks).
  if (librdkafka_version >= kFirstWithFetchQueueBackoff) {
    kafka.emplace("fetch.queue.backoff.ms", "20");
  } else {
    kafka.emplace("queued.min.messages", "300000");
    kafka.emplace("queued.max.messages.kbytes", "131072");
  }
}

std::vector<std::string> protocol_problems(GroupProtocol protocol,
                                           const std::map<std::string, std::string>& kafka,
                                           int librdkafka_version, std::string_view where) {
  std::vector<std::string> out;
  if (protocol != GroupProtocol::consumer) return out;
  const std::string w(where);
  constexpr int kFirstWithKip848 = 0x020c0000;  // 2.12.0: group.protocol=consumer is GA
  if (librdkafka_version < kFirstWithKip848)
    out.push_back(w + "group_protocol: 'consumer' (KIP-848) needs librdkafka >= 2.12 and Kafka >= 4.0; "
                  "this process runs librdkafka " + version_text(librdkafka_version) +
                  " (build with a newer librdkafka, or use group_protocol = classic)");
  static const std::map<std::string, std::string> classic_only = {
      {"partition.assignment.strategy",
       "the broker assigns under group_protocol = consumer: use kafka.group.remote.assignor "
       "(uniform or range)"},
      {"session.timeout.ms",
       "the broker owns the session timeout under group_protocol = consumer "
       "(its group.consumer.session.timeout.ms)"},
      {"heartbeat.interval.ms",
       "the broker owns the heartbeat interval under group_protocol = consumer "
       "(its group.consumer.heartbeat.interval.ms)"},
  };
  for (const auto& [key, why] : classic_only)
    if (kafka.count(key)) out.push_back(w + "kafka." + key + ": " + why);
  return out;
}

std::string_view to_string(GroupProtocol protocol) {
  return protocol == GroupProtocol::classic ? "classic" : "consumer";
}

}  // namespace samsa
