// Which librdkafka a build of Samsa runs on (detail::librdkafka_refusal, behind
// check_librdkafka), and what --version prints.
#include <gtest/gtest.h>

#include <string>

#include "samsa/version.hpp"
#include "version_rule.hpp"

namespace samsa {
namespace {

constexpr int v2_0_2 = 0x020002ff;
constexpr int v2_14_1 = 0x020e01ff;
constexpr int v2_14_2 = 0x020e02ff;
constexpr int v2_15_0 = 0x020f00ff;
constexpr int v3_0_0 = 0x030000ff;
constexpr int v1_9_2 = 0x010902ff;
const std::string kSystem = "/usr/lib/x86_64-linux-gnu/librdkafka.so.1";

using detail::librdkafka_refusal;

TEST(LibrdkafkaVersion, TheOneBuiltAgainstRuns) {
  EXPECT_EQ(librdkafka_refusal(v2_14_2, v2_14_2, kSystem), "");
  EXPECT_EQ(librdkafka_refusal(v2_0_2, v2_0_2, kSystem), "");
  // A pre-release of the same version: only the pre-release tag differs.
  EXPECT_EQ(librdkafka_refusal(v2_14_2, 0x020e0201, kSystem), "");
}

TEST(LibrdkafkaVersion, ANewerOneOfTheSameMajorVersionRuns) {
  EXPECT_EQ(librdkafka_refusal(v2_0_2, v2_14_2, kSystem), "");
  EXPECT_EQ(librdkafka_refusal(v2_14_1, v2_14_2, kSystem), "");
  EXPECT_EQ(librdkafka_refusal(v2_14_2, v2_15_0, kSystem), "");
}

TEST(LibrdkafkaVersion, AnOlderOneIsRefusedNamingBothTheFileAndTheLikelyCause) {
  const auto why = librdkafka_refusal(v2_14_2, v2_0_2, kSystem);
  EXPECT_NE(why.find("librdkafka 2.0.2 is loaded (from " + kSystem + "), older than the librdkafka 2.14.2 Samsa "
                     "was built against"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("LD_LIBRARY_PATH"), std::string::npos) << why;
  EXPECT_NE(why.find("rpath"), std::string::npos) << why;
  // An older revision too.
  EXPECT_NE(librdkafka_refusal(v2_14_2, v2_14_1, kSystem).find("2.14.1 is loaded"), std::string::npos);
}

TEST(LibrdkafkaVersion, AnotherMajorVersionIsRefusedNewerOrOlder) {
  EXPECT_NE(librdkafka_refusal(v2_14_2, v3_0_0, kSystem).find("3.0.0 is loaded (from " + kSystem +
                                                               "), of another major version than the librdkafka "
                                                               "2.14.2"),
            std::string::npos);
  EXPECT_NE(librdkafka_refusal(v2_0_2, v1_9_2, kSystem).find("of another major version"), std::string::npos);
}

TEST(LibrdkafkaVersion, WithoutAFileTheMessageSaysNone) {
  const auto why = librdkafka_refusal(v2_14_2, v2_0_2, "");
  EXPECT_NE(why.find("librdkafka 2.0.2 is loaded, older than"), std::string::npos) << why;
}

TEST(LibrdkafkaVersion, ThisProcessRunsOnTheOneItWasBuiltAgainst) {
  EXPECT_NO_THROW(check_librdkafka());
  const auto report = version_report();
  EXPECT_EQ(report.rfind("samsa " + std::string(kVersion) + " on librdkafka " + librdkafka_version() + "\n", 0), 0u)
      << report;
  EXPECT_NE(report.find("(built against "), std::string::npos) << report;
  EXPECT_NE(report.find("librdkafka.so.1"), std::string::npos) << report;
  EXPECT_NE(report.find("\nlicense Apache-2.0"), std::string::npos) << report;
}

}  // namespace
}  // namespace samsa
