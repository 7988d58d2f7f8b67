#include "samsa/version.hpp"

#include "kafka/library.hpp"

namespace samsa {
const char* librdkafka_version() { return kafka::library_version_text(); }
}  // namespace samsa
