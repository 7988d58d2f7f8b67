#include "setting_text.hpp"

#include <charconv>
#include <limits>
#include <utility>

#include "samsa/errors.hpp"

namespace samsa::detail {

using std::chrono::milliseconds;

void setting_error(std::string_view key, const std::string& reason) {
  throw SettingsError("setting '" + std::string(key) + "': " + reason);
}

void parse_value(std::string_view key, std::string_view v, bool& out) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") out = true;
  else if (v == "false" || v == "0" || v == "no" || v == "off") out = false;
  else setting_error(key, "expected true or false, got '" + std::string(v) + "'");
}

std::string value_text(bool value) { return value ? "true" : "false"; }

void parse_value(std::string_view key, std::string_view v, int& out) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size())
    setting_error(key, "expected an integer, got '" + std::string(v) + "'");
  out = n;
}

std::string value_text(int value) { return std::to_string(value); }

void parse_value(std::string_view key, std::string_view v, std::int64_t& out) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  std::string_view unit(end, static_cast<std::size_t>(v.data() + v.size() - end));
  if (ec != std::errc() || end == v.data())
    setting_error(key, "expected a size in bytes such as 1048576, 512KiB, 64MiB or 1GiB, got '" + std::string(v) + "'");
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "KiB") shift = 10;
  else if (unit == "MiB") shift = 20;
  else if (unit == "GiB") shift = 30;
  else setting_error(key, "unknown size unit '" + std::string(unit) + "' (use KiB, MiB or GiB, or bytes without a unit)");
  if (n > (std::numeric_limits<std::int64_t>::max() >> shift) || n < (std::numeric_limits<std::int64_t>::min() >> shift))
    setting_error(key, "'" + std::string(v) + "' is too large");
  out = n * (std::int64_t{1} << shift);
}

std::string value_text(std::int64_t value) {
  for (const auto& [shift, unit] : {std::pair{30, "GiB"}, std::pair{20, "MiB"}, std::pair{10, "KiB"}})
    if (value != 0 && value % (std::int64_t{1} << shift) == 0) return std::to_string(value >> shift) + unit;
  return std::to_string(value);
}

void parse_value(std::string_view key, std::string_view v, milliseconds& out) {
  long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  std::string_view unit(end, static_cast<std::size_t>(v.data() + v.size() - end));
  if (ec != std::errc() || end == v.data())
    setting_error(key, "expected a duration such as 500, 250ms, 5s or 2m, got '" + std::string(v) + "'");
  if (unit.empty() || unit == "ms") out = milliseconds(n);
  else if (unit == "s") out = milliseconds(n * 1000);
  else if (unit == "m") out = milliseconds(n * 60000);
  else setting_error(key, "unknown duration unit '" + std::string(unit) + "' (use ms, s or m)");
}

std::string value_text(milliseconds value) { return std::to_string(value.count()) + "ms"; }

void parse_value(std::string_view key, std::string_view v, InitialOffset& out) {
  if (v == "earliest") out = InitialOffset::earliest;
  else if (v == "latest") out = InitialOffset::latest;
  else setting_error(key, "expected earliest or latest, got '" + std::string(v) + "'");
}

std::string value_text(InitialOffset value) { return std::string(to_string(value)); }

void parse_value(std::string_view key, std::string_view v, GroupProtocol& out) {
  if (v == "classic") out = GroupProtocol::classic;
  else if (v == "consumer") out = GroupProtocol::consumer;
  else setting_error(key, "expected classic or consumer (KIP-848), got '" + std::string(v) + "'");
}

std::string value_text(GroupProtocol value) { return std::string(to_string(value)); }

void parse_value(std::string_view, std::string_view text, std::string& out) { out = std::string(text); }

std::string value_text(const std::string& value) { return value; }

}  // namespace samsa::detail
