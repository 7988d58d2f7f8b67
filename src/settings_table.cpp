#include "settings_table.hpp"

#include <optional>
#include <type_traits>

#include "setting_text.hpp"

namespace samsa::detail {
namespace {

using std::chrono::milliseconds;

/// A range check: the reason `value` is out of range, or "" (it may look at `all`, the
/// other fields).
template <class T, class Owner>
using Check = std::function<std::string(const T& value, const Owner& all)>;

auto at_least(int min) {
  return [min](int v, const auto&) {
    return v < min ? "must be at least " + std::to_string(min) : std::string();
  };
}

constexpr std::int64_t kMinBufferedBytes = 1 << 20;

constexpr auto not_negative = [](milliseconds v, const auto&) {
  return std::string(v.count() < 0 ? "must not be negative" : "");
};

constexpr auto positive = [](milliseconds v, const auto&) {
  return std::string(v.count() <= 0 ? "must be positive" : "");
};

constexpr auto not_empty = [](const std::string& v, const auto&) {
  return std::string(v.empty() ? "must not be empty" : "");
};

// Fills the parts of `s` that reach `field`. type_identity_t: T comes from the member pointer,
// never from the check (often a lambda).
template <class T, class Owner>
void bind_field(Setting<Owner>& s, std::string_view name, T Owner::*field,
                    std::type_identity_t<Check<T, Owner>> check) {
  s.name = name;
  s.set = [name, field](Owner& o, std::string_view text) { parse_value(name, text, o.*field); };
  s.text = [field](const Owner& o) { return value_text(o.*field); };
  s.problem = [field, check](const Owner& o) { return check ? check(o.*field, o) : std::string(); };
}

template <class T>
AppSetting app(std::string_view name, T Settings::*field,
               std::type_identity_t<Check<T, Settings>> check = {}) {
  AppSetting s;
  bind_field(s, name, field, std::move(check));
  return s;
}

template <class T>
InheritedSetting inherited(std::string_view name, Level level, T TopicSettings::*field,
                           std::optional<T> Overrides::*optional_field,
                           std::type_identity_t<Check<T, TopicSettings>> check = {}) {
  InheritedSetting s;
  bind_field(s, name, field, std::move(check));
  s.level = level;
  s.set_override = [name, optional_field](Overrides& o, std::string_view text) {
    T value{};
    parse_value(name, text, value);
    o.*optional_field = value;
  };
  s.overridden = [optional_field](const Overrides& o) { return (o.*optional_field).has_value(); };
  s.apply = [field, optional_field](TopicSettings& t, const Overrides& o) {
    if (o.*optional_field) t.*field = *(o.*optional_field);
  };
  return s;
}

}  // namespace

const std::vector<InheritedSetting>& inherited_settings() {
  using T = TopicSettings;
  using O = Overrides;
  static const std::vector<InheritedSetting> table = {
      inherited("automatically_mark_as_consumed", Level::topic, &T::automatically_mark_as_consumed,
                &O::automatically_mark_as_consumed),
      inherited("batch_fetching", Level::topic, &T::batch_fetching, &O::batch_fetching),
      inherited("max_messages", Level::group, &T::max_messages, &O::max_messages, at_least(1)),
      inherited("max_wait_time", Level::group, &T::max_wait_time, &O::max_wait_time, not_negative),
      inherited("initial_offset", Level::group, &T::initial_offset, &O::initial_offset),
      inherited("group_protocol", Level::group, &T::group_protocol, &O::group_protocol),
      inherited("pause_timeout", Level::topic, &T::pause_timeout, &O::pause_timeout, not_negative),
      inherited("pause_max_timeout", Level::topic, &T::pause_max_timeout, &O::pause_max_timeout,
                [](milliseconds v, const T& all) {
                  return v < all.pause_timeout ? "must be at least pause_timeout" : std::string();
                }),
      inherited("pause_with_exponential_backoff", Level::topic, &T::pause_with_exponential_backoff,
                &O::pause_with_exponential_backoff),
  };
  return table;
}

const std::vector<AppSetting>& app_settings() {
  using S = Settings;
  static const std::vector<AppSetting> table = {
      app("rebalance_protocol", &S::rebalance_protocol,
          [](const std::string& v, const S&) {
            return v == "eager" || v == "cooperative-sticky"
                       ? std::string()
                       : "expected eager or cooperative-sticky, got '" + v + "'";
          }),
      app("concurrency", &S::concurrency, at_least(1)),
      app("shutdown_timeout", &S::shutdown_timeout, positive),
      app("tick_interval", &S::tick_interval, positive),
      app("revoke_timeout", &S::revoke_timeout, not_negative),
      app("queue_max_messages", &S::queue_max_messages, at_least(1)),
      app("max_buffered_bytes", &S::max_buffered_bytes,
          [](std::int64_t v, const S&) {
            return v < kMinBufferedBytes ? "must be at least 1MiB (" + std::to_string(kMinBufferedBytes) + " bytes)"
                                         : std::string();
          }),
      app("queue_min_time", &S::queue_min_time, not_negative),
      app("client_id", &S::client_id, not_empty),
      app("transactional_id", &S::transactional_id,
          [](const std::string& v, const S&) {
            // Kafka takes any string; these would make the log lines and the ids ambiguous.
            return v.find_first_of(" \t\r\n") != std::string::npos ? "must not contain whitespace" : std::string();
          }),
      app("metrics_port", &S::metrics_port,
          [](int v, const S&) {
            return v < 0 || v > 65535 ? "expected a TCP port, 1 to 65535 (0: no HTTP endpoint), got " +
                                            std::to_string(v)
                                      : std::string();
          }),
      app("metrics_host", &S::metrics_host, not_empty),
      app("http_threads", &S::http_threads,
          [](int v, const S&) {
            return v < 1 || v > 64 ? "expected 1 to 64 threads, got " + std::to_string(v) : std::string();
          }),
      app("http_timeout", &S::http_timeout,
          [](std::chrono::milliseconds v, const S&) {
            return v < std::chrono::seconds(1) ? "expected at least 1s (it counts in whole seconds), got " +
                                                     std::to_string(v.count()) + "ms"
                                               : std::string();
          }),
      app("http_max_connections", &S::http_max_connections,
          [](int v, const S&) {
            return v < 1 ? "expected at least 1 connection, got " + std::to_string(v) : std::string();
          }),
      app("lag_interval", &S::lag_interval, not_negative),
      app("stuck_partition_after", &S::stuck_partition_after, positive),
      app("stuck_job_after", &S::stuck_job_after, positive),
      app("stuck_rebalance_after", &S::stuck_rebalance_after, positive),
  };
  return table;
}

}  // namespace samsa::detail
