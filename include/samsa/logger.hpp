#pragma once
// The logger Samsa writes to, replaceable by the user (App::logger). The default writes
// through spdlog to stderr with a timestamp, the level and the thread.
//
// Thread-safety: write() is called from the listener, worker and signal threads at once;
// an implementation must be thread-safe.
#include <memory>
#include <string_view>

namespace samsa {

enum class LogLevel { debug, info, warn, error };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void write(LogLevel level, std::string_view message) = 0;
  /// Messages below this level are not formatted at all.
  virtual LogLevel level() const { return LogLevel::info; }

  void debug(std::string_view m) { if (level() <= LogLevel::debug) write(LogLevel::debug, m); }
  void info(std::string_view m) { if (level() <= LogLevel::info) write(LogLevel::info, m); }
  void warn(std::string_view m) { if (level() <= LogLevel::warn) write(LogLevel::warn, m); }
  void error(std::string_view m) { write(LogLevel::error, m); }
};

/// The default logger (spdlog, stderr). `level` can be changed with the SAMSA_LOG_LEVEL
/// environment variable (debug, info, warn, error).
std::shared_ptr<Logger> make_default_logger(LogLevel level = LogLevel::info);

}  // namespace samsa
