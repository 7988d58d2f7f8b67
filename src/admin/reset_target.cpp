// admin::ResetTarget: the `--to` of `samsa offsets reset`, parsed and printed. Pure: no
// librdkafka, so the unit tests check every case.
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include "samsa/admin.hpp"

namespace samsa::admin {

namespace {

constexpr std::string_view kAccepted =
    "expected earliest, latest, an offset (a whole number >= 0) or an ISO-8601 time with its "
    "zone such as 2026-12-01T10:00:00Z or 2026-12-01T11:00:00.250+01:00";

[[noreturn]] void refuse(std::string_view text, const std::string& why) {
  throw std::invalid_argument("cannot reset to '" + std::string(text) + "': " + why + " (" +
                              std::string(kAccepted) + ")");
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// The fixed-width number at text[pos, pos + width), or -1.
int number_at(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm) -> milliseconds since the epoch, rounded up.
std::int64_t parse_time(std::string_view text) {
  const int year = number_at(text, 0, 4), month = number_at(text, 5, 2),
            day = number_at(text, 8, 2), hour = number_at(text, 11, 2),
            minute = number_at(text, 14, 2), second = number_at(text, 17, 2);
  const bool shape = text.size() >= 19 && text[4] == '-' && text[7] == '-' &&
                     (text[10] == 'T' || text[10] == 't') && text[13] == ':' &&
                     text[16] == ':' && year >= 0 && month >= 0 && day >= 0 && hour >= 0 &&
                     minute >= 0 && second >= 0;
  if (!shape) refuse(text, "not a time of the form YYYY-MM-DDTHH:MM:SS followed by its zone");
  if (month < 1 || month > 12) refuse(text, "there is no month " + std::to_string(month));
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)))
    refuse(text, "there is no day " + std::to_string(day) + " in that month");
  if (hour > 23 || minute > 59 || second > 59)
    refuse(text, "the time of day must be 00:00:00 to 23:59:59");

  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    std::size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    const std::size_t digits = pos - start;
    if (digits == 0) refuse(text, "no digits after the decimal point of the seconds");
    if (digits > 9) refuse(text, "more than 9 digits of fractional seconds");
    for (std::size_t i = 0; i < 9; ++i)
      nanos = nanos * 10 + (i < digits ? text[start + i] - '0' : 0);
  }

  std::int64_t offset_minutes = 0;
  const std::string_view zone = text.substr(pos);
  if (zone.empty())
    refuse(text, "the time has no zone: add Z for UTC, or the offset from UTC such as +01:00");
  if (zone == "Z" || zone == "z") {
    // UTC
  } else if ((zone[0] == '+' || zone[0] == '-') && zone.size() == 6 && zone[3] == ':' &&
             number_at(zone, 1, 2) >= 0 && number_at(zone, 4, 2) >= 0) {
    const int hh = number_at(zone, 1, 2), mm = number_at(zone, 4, 2);
    if (hh > 23 || mm > 59) refuse(text, "the zone offset must be -23:59 to +23:59");
    offset_minutes = (zone[0] == '-' ? -1 : 1) * (hh * 60 + mm);
  } else {
    refuse(text, "'" + std::string(zone) + "' is not a zone: use Z, or +hh:mm / -hh:mm");
  }

  const std::int64_t seconds = days_from_civil(year, static_cast<unsigned>(month),
                                               static_cast<unsigned>(day)) *
                                   86400 +
                               hour * 3600 + minute * 60 + second - offset_minutes * 60;
  const std::int64_t ms = seconds * 1000 + (nanos + 999999) / 1000000;  // rounded up
  if (ms < 0) refuse(text, "the time is before 1970-01-01T00:00:00Z, when Kafka's clock starts");
  return ms;
}

}  // namespace

ResetTarget ResetTarget::parse(std::string_view text) {
  ResetTarget t;
  if (text == "earliest") {
    t.kind = Kind::earliest;
  } else if (text == "latest") {
    t.kind = Kind::latest;
  } else if (all_digits(text)) {
    if (text.size() > 18) refuse(text, "the offset is too large");
    t.kind = Kind::offset;
    t.offset = std::stoll(std::string(text));
  } else if (!text.empty() && text[0] == '-' && all_digits(text.substr(1))) {
    refuse(text, "an offset cannot be negative");
  } else if (text.size() >= 10 && text[4] == '-') {
    t.kind = Kind::time;
    t.time_ms = parse_time(text);
  } else {
    refuse(text, text.empty() ? "nothing given" : "not one of the accepted forms");
  }
  return t;
}

std::string ResetTarget::text() const {
  switch (kind) {
    case Kind::earliest: return "earliest";
    case Kind::latest: return "latest";
    case Kind::offset: return std::to_string(offset);
    case Kind::time: break;
  }
  // Civil date of time_ms (Howard Hinnant's civil_from_days).
  const std::int64_t days = time_ms / 86400000, ms_of_day = time_ms % 86400000;
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(ms_of_day / 3600000),
                static_cast<long long>(ms_of_day / 60000 % 60),
                static_cast<long long>(ms_of_day / 1000 % 60),
                static_cast<long long>(ms_of_day % 1000));
  return buf;
}

}  // namespace samsa::admin
