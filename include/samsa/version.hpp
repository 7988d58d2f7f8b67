#pragma once
namespace samsa {
inline constexpr const char* kVersion = "0.1.0";
/// The librdkafka version Samsa runs on, e.g. "2.0.2".
const char* librdkafka_version();
}  // namespace samsa
