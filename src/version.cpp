#include "samsa/version.hpp"

#include <librdkafka/rdkafka.h>

namespace samsa {
const char* librdkafka_version() { return rd_kafka_version_str(); }
}  // namespace samsa
