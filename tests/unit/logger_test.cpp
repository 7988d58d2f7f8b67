// The default logger: JSON lines with the fields Samsa knows, levels from the environment
// through spdlog, and the per-group logger that adds the group.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/group_logger.hpp"
#include "samsa/errors.hpp"
#include "scoped_env.hpp"
#include "samsa/logger.hpp"

using samsa::LogFields;
using samsa::LogFormat;
using samsa::LogLevel;

using samsa::testing_support::ScopedEnv;

namespace {


// True when `text` has the shape of `shape`: 'D' a digit, '+' one or more digits, any other
// character itself. (No std::regex: GCC 12 warns inside it under the sanitizers' -O2.)
bool has_shape(std::string_view text, std::string_view shape) {
  std::size_t i = 0;
  for (char c : shape) {
    if (c == 'D' || c == '+') {
      if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
      ++i;
      while (c == '+' && i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      if (i >= text.size() || text[i] != c) return false;
      ++i;
    }
  }
  return i == text.size();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// No level from the environment of whoever runs the tests.
struct LoggerTest : testing::Test {
  ScopedEnv samsa_level{"SAMSA_LOG_LEVEL", nullptr};
  ScopedEnv spdlog_level{"SPDLOG_LEVEL", nullptr};
};

}  // namespace

TEST_F(LoggerTest, JsonWritesOneObjectPerLineWithTheFieldsItKnows) {
  std::ostringstream out;
  auto log = samsa::make_stream_logger(out, LogLevel::info, LogFormat::json);
  log->warn(LogFields{.group = "g", .topic = "orders", .partition = 3, .offset = 42}, "paused\nfor 1000 ms");
  log->info("no fields");
  log->debug("below the level");
  const auto got = lines(out.str());
  ASSERT_EQ(got.size(), 2u) << out.str();

  const auto first = nlohmann::json::parse(got[0]);
  EXPECT_EQ(first["message"], "paused\nfor 1000 ms") << "a newline stays inside the one line";
  EXPECT_EQ(first["level"], "warning");
  EXPECT_EQ(first["group"], "g");
  EXPECT_EQ(first["topic"], "orders");
  EXPECT_EQ(first["partition"], 3);
  EXPECT_EQ(first["offset"], 42);
  EXPECT_TRUE(first["thread"].is_number());
  EXPECT_TRUE(has_shape(first["ts"].get<std::string>(), "DDDD-DD-DDTDD:DD:DD.DDDZ"))
      << first["ts"];

  const auto second = nlohmann::json::parse(got[1]);
  EXPECT_EQ(second["message"], "no fields");
  EXPECT_EQ(second["level"], "info");
  for (const char* absent : {"group", "topic", "partition", "offset"})
    EXPECT_FALSE(second.contains(absent)) << absent << " is written only when known";
}

TEST_F(LoggerTest, JsonNeverThrowsOnBytesThatAreNotUtf8) {
  std::ostringstream out;
  auto log = samsa::make_stream_logger(out, LogLevel::info, LogFormat::json);
  EXPECT_NO_THROW(log->error(LogFields{.topic = "t\xff"}, std::string("bad \xc3\x28 bytes \"quoted\"")));
  const auto got = lines(out.str());
  ASSERT_EQ(got.size(), 1u);
  const auto line = nlohmann::json::parse(got[0]);  // valid JSON: the bad bytes became U+FFFD
  EXPECT_NE(line["message"].get<std::string>().find("\"quoted\""), std::string::npos);
}

TEST_F(LoggerTest, TextKeepsItsFormatAndIgnoresTheFields) {
  std::ostringstream out;
  auto log = samsa::make_stream_logger(out, LogLevel::info, LogFormat::text);
  log->warn(LogFields{.group = "g", .topic = "orders", .partition = 3, .offset = 42}, "orders/3: paused");
  const auto got = lines(out.str());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(has_shape(got[0], "DDDD-DD-DD DD:DD:DD.DDD warning [+] orders/3: paused"))
      << got[0];
}

TEST_F(LoggerTest, SamsaLogLevelSetsTheLevelThroughSpdlogsNames) {
  ScopedEnv env("SAMSA_LOG_LEVEL", "error");
  std::ostringstream out;
  auto log = samsa::make_stream_logger(out, LogLevel::info, LogFormat::json);
  EXPECT_EQ(log->level(), LogLevel::error);
  log->warn("dropped");
  log->error("kept");
  ASSERT_EQ(lines(out.str()).size(), 1u) << out.str();
  EXPECT_EQ(nlohmann::json::parse(lines(out.str())[0])["message"], "kept");
}

TEST_F(LoggerTest, SpdlogLevelIsReadBySpdlogForTheLoggerNamedSamsa) {
  {
    ScopedEnv env("SPDLOG_LEVEL", "off,samsa=debug");
    EXPECT_EQ(samsa::make_stream_logger(std::cout, LogLevel::info)->level(), LogLevel::debug);
  }
  {
    ScopedEnv env("SPDLOG_LEVEL", "warn");
    EXPECT_EQ(samsa::make_stream_logger(std::cout, LogLevel::info)->level(), LogLevel::warn);
  }
}

TEST_F(LoggerTest, SamsaLogLevelWinsOverSpdlogLevel) {
  ScopedEnv a("SPDLOG_LEVEL", "error");
  ScopedEnv b("SAMSA_LOG_LEVEL", "debug");
  EXPECT_EQ(samsa::make_stream_logger(std::cout, LogLevel::info)->level(), LogLevel::debug);
}

TEST_F(LoggerTest, OffWritesNothingNotEvenErrors) {
  ScopedEnv env("SAMSA_LOG_LEVEL", "off");
  std::ostringstream out;
  auto log = samsa::make_stream_logger(out, LogLevel::info);
  log->error("silenced");
  EXPECT_EQ(out.str(), "");
}

TEST_F(LoggerTest, AnUnknownLevelNameIsIgnoredAndSaidSo) {
  ScopedEnv env("SAMSA_LOG_LEVEL", "verbose");
  std::ostringstream out;
  auto log = samsa::make_stream_logger(out, LogLevel::info);
  EXPECT_EQ(log->level(), LogLevel::info) << "the level asked for in code stays";
  EXPECT_NE(out.str().find("SAMSA_LOG_LEVEL='verbose' names no level"), std::string::npos) << out.str();
}

TEST_F(LoggerTest, TheGroupLoggerAddsItsGroupToEveryLine) {
  std::ostringstream out;
  auto inner = samsa::make_stream_logger(out, LogLevel::info, LogFormat::json);
  samsa::runtime::GroupLogger log(*inner, "orders-group");
  log.info("plain");
  log.warn(LogFields{.topic = "t", .partition = 1, .offset = 7}, "with fields");
  log.warn(LogFields{.group = "other"}, "a group of its own is kept");
  const auto got = lines(out.str());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(got[0])["group"], "orders-group");
  const auto second = nlohmann::json::parse(got[1]);
  EXPECT_EQ(second["group"], "orders-group");
  EXPECT_EQ(second["offset"], 7);
  EXPECT_EQ(nlohmann::json::parse(got[2])["group"], "other");
}

TEST_F(LoggerTest, APartitionsLoggerAddsItsTopicAndPartitionToTheGroup) {
  // What Consumer::logger() writes through: the consumer's own lines carry where they are.
  std::ostringstream out;
  auto inner = samsa::make_stream_logger(out, LogLevel::info, LogFormat::json);
  samsa::runtime::GroupLogger group(*inner, "orders-group");
  samsa::runtime::GroupLogger partition(group, "orders-group", "orders", 3);
  partition.info("imported 100 events");
  partition.warn(LogFields{.topic = "audit", .partition = 0}, "a line about another partition keeps its own");
  const auto got = lines(out.str());
  ASSERT_EQ(got.size(), 2u);
  const auto first = nlohmann::json::parse(got[0]);
  EXPECT_EQ(first["group"], "orders-group");
  EXPECT_EQ(first["topic"], "orders");
  EXPECT_EQ(first["partition"], 3);
  const auto second = nlohmann::json::parse(got[1]);
  EXPECT_EQ(second["topic"], "audit");
  EXPECT_EQ(second["partition"], 0);
}

TEST_F(LoggerTest, ALoggerThatOnlyWritesMessagesGetsTheFieldedLinesToo) {
  struct Plain : samsa::Logger {
    std::vector<std::string> got;
    void write(LogLevel, std::string_view m) override { got.emplace_back(m); }
  } plain;
  plain.warn(LogFields{.topic = "t", .partition = 0}, "t/0: paused");
  ASSERT_EQ(plain.got.size(), 1u);
  EXPECT_EQ(plain.got[0], "t/0: paused");
}

TEST_F(LoggerTest, LogFormatNamesTheAcceptedValues) {
  EXPECT_EQ(samsa::parse_log_format("json"), LogFormat::json);
  EXPECT_EQ(samsa::parse_log_format("text"), LogFormat::text);
  try {
    samsa::parse_log_format("yaml");
    FAIL();
  } catch (const samsa::SettingsError& e) {
    EXPECT_NE(std::string(e.what()).find("expected text or json"), std::string::npos);
  }
}
