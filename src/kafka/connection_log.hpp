#pragma once
// Which of a librdkafka client's error callbacks to log, and what the client last knew of
// its brokers (for /health/ready). librdkafka reports one connection failure several ways:
// its FAIL log line and an error callback with the same text (rd_kafka_broker_set_error
// sends both for a failure at LOG_ERR or worse), then _ALL_BROKERS_DOWN, which librdkafka
// 2.14 raises again at each re-bootstrap (every ~50 ms while no broker answers: seen 272
// lines in 14 s). Samsa therefore drops those FAIL log lines (is_error_callback_log_line)
// and logs an error callback only when it is news: the first _ALL_BROKERS_DOWN since a
// broker last answered (again each kRepeatAfter while none answers), and each other error once per text (without librdkafka's
// "(after Nms in state X, N identical error(s) suppressed)" suffix) until a broker answers
// again or kRepeatAfter passed (a problem that lasts is logged again, with its text, that
// often). Each client (a consumer group's consumer, the app's producer) has its own.
// Thread-safe.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "kafka/status.hpp"
#include "samsa/logger.hpp"

namespace samsa::kafka {

class ConnectionLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::minutes kRepeatAfter{10};

  /// An error callback's error at `now`: true when it is news, to be logged.
  bool note_error(const Status& error, Clock::time_point now);
  /// A broker answered (a message fetched, a commit confirmed, a delivery): the brokers are
  /// up again, every error is news again. Returns since when they were all down (epoch when
  /// they were not).
  Clock::time_point note_answer();

  struct State {
    /// Since when no broker answers (epoch while one does, or none was tried yet).
    Clock::time_point down_since{};
    /// The last error other than _ALL_BROKERS_DOWN since a broker last answered (e.g.
    /// "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused"),
    /// without librdkafka's suffix; empty when none.
    std::string last_error;
  };
  State state() const;

 private:
  mutable std::mutex mu_;
  State state_;
  // When _ALL_BROKERS_DOWN was last logged.
  Clock::time_point down_logged_{};
  // Logged since the last answer: (code number, text) -> when.
  std::map<std::pair<int, std::string>, Clock::time_point> logged_;
};

/// `text` without librdkafka's variable suffix " (after 0ms in state CONNECT[, N identical
/// error(s) suppressed])", so that one failure repeated reads as one.
std::string without_state_suffix(std::string_view text);

/// True for a librdkafka log line (facility, Samsa's level) that librdkafka also hands to
/// the error callback with the same text: a FAIL line at error level or worse.
bool is_error_callback_log_line(std::string_view facility, LogLevel level);

}  // namespace samsa::kafka
