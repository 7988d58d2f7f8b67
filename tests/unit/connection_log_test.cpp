// Which of a client's error callbacks Samsa logs (kafka/connection_log.hpp): one line per
// change of the connection's state, not one per librdkafka repetition.
#include "kafka/connection_log.hpp"

#include <gtest/gtest.h>

namespace samsa::kafka {
namespace {

using namespace std::chrono_literals;
using Clock = ConnectionLog::Clock;
using Code = Status::Code;

Status all_down(const std::string& text = "1/1 brokers are down") {
  return Status(Code::all_brokers_down, "_ALL_BROKERS_DOWN", text, Status::Traits{.unreachable = true}, -187);
}
Status transport(const std::string& text) {
  return Status(Code::other, "_TRANSPORT", text, Status::Traits{.unreachable = true}, -195);
}

TEST(ConnectionLog, AllBrokersDownIsNewsOncePerOutage) {
  ConnectionLog log;
  const auto t0 = Clock::now();
  EXPECT_TRUE(log.note_error(all_down(), t0));
  // librdkafka 2.14 repeats it at each re-bootstrap, about every 50 ms.
  for (int i = 1; i < 300; ++i) EXPECT_FALSE(log.note_error(all_down(), t0 + i * 50ms)) << i;
  EXPECT_FALSE(log.note_error(all_down("0/1 brokers are down"), t0 + 20s));
  EXPECT_EQ(log.state().down_since, t0);
  EXPECT_EQ(log.note_answer(), t0);
  EXPECT_EQ(log.state().down_since, Clock::time_point{});
  EXPECT_TRUE(log.note_error(all_down(), t0 + 30s)) << "a new outage is news";
}

TEST(ConnectionLog, AnOutageThatLastsIsNewsAgainEachRepeatInterval) {
  // An idle client hears from no broker even after they are back (nothing calls
  // note_answer), so the next outage would never be logged without the repeat.
  ConnectionLog log;
  const auto t0 = Clock::now();
  EXPECT_TRUE(log.note_error(all_down(), t0));
  EXPECT_FALSE(log.note_error(all_down(), t0 + ConnectionLog::kRepeatAfter - 1s));
  EXPECT_TRUE(log.note_error(all_down(), t0 + ConnectionLog::kRepeatAfter));
  EXPECT_FALSE(log.note_error(all_down(), t0 + ConnectionLog::kRepeatAfter + 1s));
  EXPECT_EQ(log.state().down_since, t0) << "the outage began at its first report";
}

TEST(ConnectionLog, AnErrorIsNewsOncePerTextWithoutLibrdkafkasSuffixUntilABrokerAnswers) {
  ConnectionLog log;
  const auto t0 = Clock::now();
  const std::string refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused";
  EXPECT_TRUE(log.note_error(transport(refused + " (after 0ms in state CONNECT)"), t0));
  EXPECT_FALSE(log.note_error(
      transport(refused + " (after 0ms in state CONNECT, 1 identical error(s) suppressed)"), t0 + 50ms));
  EXPECT_EQ(log.state().last_error, refused);
  EXPECT_TRUE(log.note_error(transport("other:9092/bootstrap: Failed to resolve 'other:9092'"), t0 + 1s))
      << "another text is news";
  EXPECT_EQ(log.state().last_error, "other:9092/bootstrap: Failed to resolve 'other:9092'");
  // A lasting problem is logged again now and then.
  EXPECT_FALSE(log.note_error(transport(refused), t0 + ConnectionLog::kRepeatAfter - 1s));
  EXPECT_TRUE(log.note_error(transport(refused), t0 + ConnectionLog::kRepeatAfter));
  log.note_answer();
  EXPECT_EQ(log.state().last_error, "");
  EXPECT_TRUE(log.note_error(transport(refused), t0 + ConnectionLog::kRepeatAfter + 1s));
}

TEST(ConnectionLog, TheSuffixIsOnlyLibrdkafkasStateSuffix) {
  EXPECT_EQ(without_state_suffix("b:1/1: Disconnected (after 1234ms in state UP)"), "b:1/1: Disconnected");
  EXPECT_EQ(without_state_suffix("b: Connect failed (after 0ms in state CONNECT, 3 identical error(s) suppressed)"),
            "b: Connect failed");
  EXPECT_EQ(without_state_suffix("no suffix (after all)"), "no suffix (after all)");
  EXPECT_EQ(without_state_suffix(""), "");
}

TEST(ConnectionLog, LibrdkafkasFailLinesAtErrorLevelAreTheErrorCallbacks) {
  EXPECT_TRUE(is_error_callback_log_line("FAIL", LogLevel::error));
  EXPECT_FALSE(is_error_callback_log_line("FAIL", LogLevel::info)) << "a disconnect at LOG_INFO only logs";
  EXPECT_FALSE(is_error_callback_log_line("CONFWARN", LogLevel::warn));
  EXPECT_FALSE(is_error_callback_log_line("FAIL", LogLevel::warn));
}

}  // namespace
}  // namespace samsa::kafka
