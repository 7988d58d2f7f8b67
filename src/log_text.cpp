#include "log_text.hpp"

#include <algorithm>

#include "samsa/settings.hpp"

namespace samsa {
namespace {

// The length of the well-formed UTF-8 sequence of two to four bytes at the start of `s`
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view s) {
  auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) len = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;  // overlong
    if (b0 == 0xed) hi = 0x9f;  // surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;  // overlong
    if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < len; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  // U+0080..U+009F are the C1 control characters: escaped like the C0 ones.
  if (len == 2 && b0 == 0xc2 && byte(1) <= 0x9f) return 0;
  return len;
}

}  // namespace

std::string escape_for_log(std::string_view bytes, std::size_t max_bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(bytes.size(), max_bytes) + 16);
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t len = c >= 0x80 ? utf8_sequence(bytes.substr(i)) : 1;
    if (i + (len ? len : 1) > max_bytes) break;
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (len > 1) {
      out.append(bytes.substr(i, len));
    } else {
      len = 1;
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
    i += len;
  }
  if (i < bytes.size()) out += "...(" + std::to_string(bytes.size() - i) + " more bytes)";
  return out;
}

SecretRedactor::SecretRedactor(const std::map<std::string, std::string>& kafka_properties) {
  for (const auto& [name, value] : kafka_properties) {
    if (value.empty() || !is_secret_kafka_property(name)) continue;
    values_.push_back(value);
    for (std::size_t i = 0; i + kMinRun <= value.size(); ++i) runs_.insert(value.substr(i, kMinRun));
  }
}

std::string SecretRedactor::redact(std::string_view text) const {
  if (values_.empty()) return std::string(text);
  // Mark the bytes that belong to a secret: whole copies of a value, then pieces of one.
  std::vector<bool> secret(text.size(), false);
  for (const auto& v : values_)
    for (auto at = text.find(v); at != std::string_view::npos; at = text.find(v, at + 1))
      std::fill(secret.begin() + static_cast<std::ptrdiff_t>(at),
                secret.begin() + static_cast<std::ptrdiff_t>(at + v.size()), true);
  if (!runs_.empty())
    for (std::size_t i = 0; i + kMinRun <= text.size(); ++i)
      if (runs_.count(std::string(text.substr(i, kMinRun))))
        std::fill(secret.begin() + static_cast<std::ptrdiff_t>(i),
                  secret.begin() + static_cast<std::ptrdiff_t>(i + kMinRun), true);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!secret[i]) {
      out += text[i];
    } else if (i == 0 || !secret[i - 1]) {
      out += "[redacted]";
    }
  }
  return out;
}

}  // namespace samsa
