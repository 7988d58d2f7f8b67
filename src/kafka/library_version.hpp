#pragma once
// The librdkafka this build was compiled against and the one the process loaded. The rule
// that compares them is in src/version.cpp (librdkafka_compatibility).
#include <string>

namespace samsa::kafka {

/// RD_KAFKA_VERSION of the rdkafka.h libsamsa was compiled with (0xMMmmrrxx).
int built_version();
/// rd_kafka_version() of the librdkafka loaded (0xMMmmrrxx).
int loaded_version();
/// rd_kafka_version_str() of the librdkafka loaded, e.g. "2.14.2".
const char* loaded_version_str();
/// The file the loaded librdkafka came from (e.g. /usr/lib/x86_64-linux-gnu/librdkafka.so.1),
/// or empty when the loader cannot say.
std::string loaded_file();
/// Whether the loaded librdkafka's offsets store carries commit metadata to the auto-commit:
/// from 2.2.0 on; before, it drops it (and the auto-commit would commit the offset without it).
bool stores_offset_metadata();

}  // namespace samsa::kafka
