#include "samsa/settings.hpp"

#include <gtest/gtest.h>

#include "samsa/errors.hpp"

using namespace std::chrono_literals;
using samsa::Settings;
using samsa::SettingsError;

TEST(Settings, DefaultsAreKarafkas) {
  Settings s;
  EXPECT_TRUE(s.automatically_mark_as_consumed);
  EXPECT_TRUE(s.batch_fetching);
  EXPECT_EQ(s.initial_offset, samsa::InitialOffset::earliest);
  EXPECT_TRUE(s.problems().empty());
}

TEST(Settings, SetByNameParsesEachType) {
  Settings s;
  s.set("automatically_mark_as_consumed", "false");
  s.set("max_messages", "500");
  s.set("max_wait_time", "250ms");
  s.set("shutdown_timeout", "5s");
  s.set("pause_max_timeout", "2m");
  s.set("initial_offset", "latest");
  s.set("kafka.fetch.wait.max.ms", "100");
  EXPECT_FALSE(s.automatically_mark_as_consumed);
  EXPECT_EQ(s.max_messages, 500);
  EXPECT_EQ(s.max_wait_time, 250ms);
  EXPECT_EQ(s.shutdown_timeout, 5000ms);
  EXPECT_EQ(s.pause_max_timeout, 120000ms);
  EXPECT_EQ(s.initial_offset, samsa::InitialOffset::latest);
  EXPECT_EQ(s.kafka.at("fetch.wait.max.ms"), "100");
}

TEST(Settings, AnUnknownNameIsRejectedWithASuggestion) {
  Settings s;
  try {
    s.set("max_mesages", "5");
    FAIL() << "accepted an unknown setting";
  } catch (const SettingsError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("'max_mesages'"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'max_messages'"), std::string::npos) << what;
  }
}

TEST(Settings, AValueOfTheWrongTypeNamesTheKeyAndTheReason) {
  Settings s;
  EXPECT_THROW(s.set("batch_fetching", "sometimes"), SettingsError);
  EXPECT_THROW(s.set("concurrency", "two"), SettingsError);
  EXPECT_THROW(s.set("max_wait_time", "5 hours"), SettingsError);
  try {
    s.set("concurrency", "two");
  } catch (const SettingsError& e) {
    EXPECT_NE(std::string(e.what()).find("'concurrency': expected an integer, got 'two'"), std::string::npos)
        << e.what();
  }
}

TEST(Settings, ValidateListsEveryProblem) {
  Settings s;
  s.concurrency = 0;
  s.max_messages = 0;
  s.rebalance_protocol = "sticky";
  s.kafka["enable.auto.offset.store"] = "true";
  auto p = s.problems();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_THROW(s.validate(), SettingsError);
}

TEST(Settings, ExponentialBackoffDoublesUpToTheMaximum) {
  samsa::TopicSettings t;
  t.pause_timeout = 100ms;
  t.pause_max_timeout = 500ms;
  EXPECT_EQ(t.pause_for_attempt(1), 100ms);
  EXPECT_EQ(t.pause_for_attempt(2), 200ms);
  EXPECT_EQ(t.pause_for_attempt(3), 400ms);
  EXPECT_EQ(t.pause_for_attempt(4), 500ms);
  t.pause_with_exponential_backoff = false;
  EXPECT_EQ(t.pause_for_attempt(4), 100ms);
}
