#include "samsa/settings.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "samsa/errors.hpp"
#include "setting_text.hpp"
#include "settings_table.hpp"

namespace samsa {
namespace {

using detail::app_settings;
using detail::find_setting;
using detail::inherited_settings;
using detail::setting_error;

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
  // Settings an earlier version had, with what replaced them.
  if (key == "queue_max_bytes")
    setting_error(key, "no longer a setting: max_buffered_bytes bounds the memory of fetched messages now "
                       "(the whole process, in real bytes, librdkafka's prefetch included)");
  std::string best;
  std::size_t best_d = 4;
  for (const auto& k : known) {
    std::size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  std::string reason = "unknown setting";
  if (!best.empty()) reason += " (did you mean '" + best + "'?)";
  reason += "; librdkafka properties go under 'kafka.', e.g. kafka.fetch.wait.max.ms";
  setting_error(key, reason);
}

const std::vector<std::string>& override_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : inherited_settings()) n.emplace_back(s.name);
    return n;
  }();
  return names;
}

// "kafka.<property>": stored in `kafka` as it is, for librdkafka to check. False for any
// other key.
bool set_kafka(std::map<std::string, std::string>& kafka, std::string_view key, std::string_view value) {
  if (!key.starts_with("kafka.")) return false;
  if (key.size() == 6) setting_error(key, "a librdkafka property name must follow 'kafka.'");
  kafka[std::string(key.substr(6))] = std::string(value);
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

// The range problems of every setting of `table` in `owner`, in the table's order.
template <class Table, class Owner>
void check_ranges(const Table& table, const Owner& owner, std::string_view where,
                  std::vector<std::string>& out) {
  for (const auto& s : table) {
    auto reason = s.problem(owner);
    if (!reason.empty()) out.push_back(std::string(where) + std::string(s.name) + ": " + reason);
  }
}

}  // namespace

void Overrides::set(std::string_view key, std::string_view value) {
  if (set_kafka(kafka, key, value)) return;
  const auto* s = find_setting(inherited_settings(), key);
  if (!s) unknown(key, override_names());
  s->set_override(*this, value);
}

std::chrono::milliseconds TopicSettings::pause_for_attempt(int attempt) const {
  if (!pause_with_exponential_backoff || attempt <= 1) return std::min(pause_timeout, pause_max_timeout);
  auto t = pause_timeout;
  for (int i = 1; i < attempt && t < pause_max_timeout; ++i) t *= 2;
  return std::min(t, pause_max_timeout);
}

void Settings::set(std::string_view key, std::string_view value) {
  if (set_kafka(kafka, key, value)) return;
  if (key.starts_with("producer.")) {
    if (set_kafka(producer_kafka, key.substr(9), value)) return;
    setting_error(key, "the producer's librdkafka properties go under 'producer.kafka.', e.g. producer.kafka.linger.ms");
  }
  if (const auto* s = find_setting(inherited_settings(), key)) return s->set(*this, value);
  if (const auto* s = find_setting(app_settings(), key)) return s->set(*this, value);
  unknown(key, names());
}

TopicSettings Settings::topic_defaults() const { return *this; }

std::vector<std::string> Settings::problems() const {
  std::vector<std::string> out;
  check_ranges(inherited_settings(), topic_defaults(), "", out);
  check_ranges(app_settings(), *this, "", out);
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
    for (const auto& s : app_settings()) n.emplace_back(s.name);
    return n;
  }();
  return all;
}

TopicSettings resolve(const TopicSettings& base, const Overrides& o) {
  TopicSettings t = base;
  for (const auto& s : inherited_settings()) s.apply(t, o);
  return t;
}

std::vector<std::string> problems(const Overrides& o, std::string_view where) {
  std::vector<std::string> out;
  check_ranges(inherited_settings(), resolve(TopicSettings{}, o), where, out);
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

BufferShare buffer_share(const Settings& settings, std::size_t groups) {
  const std::int64_t group = settings.max_buffered_bytes / static_cast<std::int64_t>(std::max<std::size_t>(groups, 1));
  return BufferShare{group / 2, group - group / 2};
}

void add_fetch_queue_defaults(std::map<std::string, std::string>& kafka, int librdkafka_version,
                              std::int64_t librdkafka_bytes) {
  constexpr int kFirstWithFetchQueueBackoff = 0x02010000;  // 2.1.0
  // bench/run.py --study fetch-queue measured these (README, Benchmarks).
  if (librdkafka_version >= kFirstWithFetchQueueBackoff) {
    kafka.emplace("fetch.queue.backoff.ms", "20");
    // librdkafka's ranges: queued.max.messages.kbytes 1..2097151, queued.min.messages
    // 1..10000000.
    const std::int64_t kbytes = std::clamp<std::int64_t>(librdkafka_bytes / 1024, 1, 2097151);
    const std::int64_t messages = std::clamp<std::int64_t>(librdkafka_bytes / 512, 1, 10000000);
    kafka.emplace("queued.max.messages.kbytes", std::to_string(kbytes));
    kafka.emplace("queued.min.messages", std::to_string(messages));
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
