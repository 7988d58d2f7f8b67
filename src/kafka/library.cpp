#include "kafka/library.hpp"

#include <librdkafka/rdkafka.h>

namespace samsa::kafka {

int library_version() { return rd_kafka_version(); }

const char* library_version_text() { return rd_kafka_version_str(); }

bool stores_offset_metadata() { return rd_kafka_version() >= 0x020200ff; }

}  // namespace samsa::kafka
