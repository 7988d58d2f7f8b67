#pragma once
// Bytes from outside (payloads, keys, exception texts built from them) made safe for a log line.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace samsa {

/// `bytes` as one line of printable text: printable ASCII and well-formed UTF-8 sequences
/// are kept; a backslash becomes "\\"; every other byte (control characters including
/// NUL, \n and DEL, the C1 controls U+0080..U+009F, invalid or overlong UTF-8, surrogates)
/// becomes "\xNN" (two lowercase hex digits). At most `max_bytes` input bytes are written
/// (never splitting a UTF-8 sequence); the rest is summarised as "...(N more bytes)".
std::string escape_for_log(std::string_view bytes, std::size_t max_bytes = 200);

/// Takes the values of secret librdkafka properties (is_secret_kafka_property) out of text
/// that librdkafka wrote: its error strings and log lines may quote a value or a piece of
/// it, e.g. "Unrecognized sasl.oauthbearer.config beginning at: <the rest of the value>".
class SecretRedactor {
 public:
  SecretRedactor() = default;
  /// Remembers the values of the secret properties among `kafka_properties`.
  explicit SecretRedactor(const std::map<std::string, std::string>& kafka_properties);
  /// `text` with every copy of a secret value, and every run of kMinRun or more bytes that
  /// also appear in a row in one, replaced with "[redacted]".
  std::string redact(std::string_view text) const;
  /// True when there is no secret value to take out.
  bool empty() const { return values_.empty(); }

  static constexpr std::size_t kMinRun = 8;

 private:
  std::vector<std::string> values_;
  std::unordered_set<std::string> runs_;  // every kMinRun-byte piece of every value
};

}  // namespace samsa
