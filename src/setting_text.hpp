#pragma once
// The text form of a setting's value, one overload pair per value type: parse_value() is how
// `settings.set(key, text)` (and so `--set key=text`) reads it, value_text() how `info` prints
// it. Contract: value_text() gives a text parse_value() reads back to the same value, so a
// value copied from `info` into --set means the same; parse_value() throws SettingsError
// naming the key and the form it expected, and leaves `out` as it was.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "samsa/settings.hpp"

namespace samsa::detail {

/// Throws SettingsError("setting '<key>': <reason>"), the shape of every error about a
/// setting given by name.
[[noreturn]] void setting_error(std::string_view key, const std::string& reason);

/// true/1/yes/on or false/0/no/off; printed as true or false.
void parse_value(std::string_view key, std::string_view text, bool& out);
std::string value_text(bool value);

/// A decimal integer, nothing around it.
void parse_value(std::string_view key, std::string_view text, int& out);
std::string value_text(int value);

/// A size in bytes, bare or with a binary unit ("65536", "512KiB", "64MiB", "1GiB"); printed
/// with the largest unit that divides it ("64MiB").
void parse_value(std::string_view key, std::string_view text, std::int64_t& out);
std::string value_text(std::int64_t value);

/// Milliseconds, bare or with a unit ("250ms", "5s", "2m"); printed as "250ms".
void parse_value(std::string_view key, std::string_view text, std::chrono::milliseconds& out);
std::string value_text(std::chrono::milliseconds value);

/// earliest or latest.
void parse_value(std::string_view key, std::string_view text, InitialOffset& out);
std::string value_text(InitialOffset value);

/// classic or consumer.
void parse_value(std::string_view key, std::string_view text, GroupProtocol& out);
std::string value_text(GroupProtocol value);

/// Taken as it is: a string setting's allowed values are left to its range check, so that a
/// value set in C++ is checked the same way.
void parse_value(std::string_view key, std::string_view text, std::string& out);
std::string value_text(const std::string& value);

}  // namespace samsa::detail
