// The build itself: Samsa is compiled against the headers of the librdkafka it loads. A build
// against a librdkafka prefix once compiled with the system's 2.0.2 headers and ran 2.14.2.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "samsa/version.hpp"

TEST(Build, CompiledAgainstTheHeadersOfTheLoadedLibrdkafka) {
  // Major, minor and revision; the last byte is the pre-release tag.
  EXPECT_EQ(RD_KAFKA_VERSION >> 8, rd_kafka_version() >> 8)
      << "headers of " << std::hex << RD_KAFKA_VERSION << ", library " << rd_kafka_version_str();
  EXPECT_STREQ(samsa::librdkafka_version(), rd_kafka_version_str());
}
