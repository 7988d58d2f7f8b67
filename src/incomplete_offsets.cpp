#include "incomplete_offsets.hpp"

#include <algorithm>
#include <stdexcept>

namespace samsa {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kSeparator = '|';

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// The varints of `completed` (checked: see encode()).
std::string ranges_bytes(std::int64_t committed, const std::vector<IncompleteOffsets::Range>& completed) {
  std::string out;
  std::int64_t previous = committed;
  for (const auto& [first, last] : completed) {
    if (first <= previous || last < first)
      throw std::invalid_argument("IncompleteOffsets: completed ranges must ascend, be disjoint and lie above the "
                                  "committed offset " + std::to_string(committed));
    put_varint(out, static_cast<std::uint64_t>(first - previous));
    put_varint(out, static_cast<std::uint64_t>(last - first));
    previous = last;
  }
  return out;
}

std::size_t base64_size(std::size_t bytes) { return (bytes * 4 + 2) / 3; }  // unpadded

std::string base64url(const std::string& in) {
  std::string out;
  out.reserve(base64_size(in.size()));
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = std::uint8_t(in[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    const std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> from_base64url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* at = std::find(kAlphabet, kAlphabet + 64, c);
    if (at == kAlphabet + 64) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(at - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

std::string IncompleteOffsets::encode(std::int64_t committed, const std::vector<Range>& completed,
                                      std::string_view user_metadata) {
  const std::string bytes = ranges_bytes(committed, completed);
  // No ranges: the user's metadata as it is, unless it looks like an encoding itself.
  if (completed.empty() && user_metadata.substr(0, kPrefix.size()) != kPrefix) return std::string(user_metadata);
  std::string out(kPrefix);
  out += base64url(bytes);
  if (!user_metadata.empty() || completed.empty()) {
    out.push_back(kSeparator);
    out += user_metadata;
  }
  return out;
}

std::size_t IncompleteOffsets::encoded_size(std::int64_t committed, const std::vector<Range>& completed,
                                            std::size_t user_metadata_bytes) {
  if (completed.empty()) return user_metadata_bytes;  // (or the prefix and "|" more: see encode)
  std::size_t bytes = 0;
  std::int64_t previous = committed;
  for (const auto& [first, last] : completed) {
    bytes += varint_size(static_cast<std::uint64_t>(first - previous)) +
             varint_size(static_cast<std::uint64_t>(last - first));
    previous = last;
  }
  return kPrefix.size() + base64_size(bytes) + (user_metadata_bytes > 0 ? 1 + user_metadata_bytes : 0);
}

bool IncompleteOffsets::fits(std::int64_t committed, const std::vector<Range>& completed,
                             std::size_t user_metadata_bytes) {
  // Without ranges yet, the first one adds the prefix and the separator too.
  const std::size_t now = completed.empty() ? kPrefix.size() + (user_metadata_bytes > 0 ? 1 + user_metadata_bytes : 0)
                                            : encoded_size(committed, completed, user_metadata_bytes);
  return now + kGrowthReserve <= kMaxMetadataBytes;
}

std::optional<IncompleteOffsets::Decoded> IncompleteOffsets::decode(std::int64_t committed,
                                                                    std::string_view metadata) {
  Decoded d;
  if (metadata.substr(0, kPrefix.size()) != kPrefix) {
    d.user_metadata = std::string(metadata);
    return d;
  }
  std::string_view body = metadata.substr(kPrefix.size());
  const std::size_t bar = body.find(kSeparator);
  if (bar != std::string_view::npos) {
    d.user_metadata = std::string(body.substr(bar + 1));
    body = body.substr(0, bar);
  }
  const auto bytes = from_base64url(body);
  if (!bytes) return std::nullopt;
  std::int64_t previous = committed;
  std::size_t i = 0;
  auto varint = [&]() -> std::optional<std::uint64_t> {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && i < bytes->size(); shift += 7) {
      const auto b = static_cast<std::uint8_t>((*bytes)[i++]);
      v |= std::uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return std::nullopt;
  };
  while (i < bytes->size()) {
    const auto gap = varint();
    const auto length = gap ? varint() : std::nullopt;
    if (!gap || !length || *gap == 0 || *gap > std::uint64_t(INT64_MAX - previous) ||
        *length > std::uint64_t(INT64_MAX - previous - std::int64_t(*gap)))
      return std::nullopt;
    const std::int64_t first = previous + static_cast<std::int64_t>(*gap);
    const std::int64_t last = first + static_cast<std::int64_t>(*length);
    d.completed.emplace_back(first, last);
    previous = last;
  }
  return d;
}

bool IncompleteOffsets::contains(const std::vector<Range>& completed, std::int64_t offset) {
  const auto it = std::upper_bound(completed.begin(), completed.end(), offset,
                                   [](std::int64_t o, const Range& r) { return o < r.first; });
  return it != completed.begin() && offset <= std::prev(it)->second;
}

}  // namespace samsa
