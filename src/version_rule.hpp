#pragma once
// Which librdkafka a build of Samsa runs on: the rule behind check_librdkafka(), pure so
// that it is tested on any pair of versions.
#include <string>

namespace samsa::detail {

/// Empty when Samsa built against librdkafka `built` (RD_KAFKA_VERSION, 0xMMmmrrxx) runs on
/// the loaded `loaded` (rd_kafka_version()); otherwise why it refuses, naming both versions,
/// `file` (the library loaded; may be empty) and the likely cause. It refuses a librdkafka
/// older than the one built against (functions and behaviour Samsa was compiled for may be
/// missing: it is almost always the loader finding another librdkafka.so.1, as every
/// librdkafka has that soname) and one of another major version; a newer one of the same
/// major version runs (librdkafka keeps its ABI within a major version).
std::string librdkafka_refusal(int built, int loaded, const std::string& file);

}  // namespace samsa::detail
