#pragma once
// The logger Samsa writes to, replaceable by the user (App::logger). The default writes
// through spdlog to stderr, as text (timestamp, level, thread, message) or as one JSON
// object per line (LogFormat::json).
//
// Thread-safety: write() and write_fields() are called from the listener, worker, signal
// and operations threads at once; an implementation must be thread-safe.
// Exceptions: a logger must not throw (a throw from write() escapes into the runtime's
// error path of whatever was being logged).
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string_view>

namespace samsa {

enum class LogLevel { debug, info, warn, error };

/// How the default logger writes a line.
///  - text: `2026-12-03 07:50:00.123 warn  [4711] consumer group g: ...`
///  - json: `{"ts":"2026-12-03T07:50:00.123Z","level":"warning","thread":4711,"message":"...",
///    "group":"g","topic":"t","partition":0,"offset":5}`: ts in UTC, level in spdlog's
///    words (debug, info, warning, error), the four last only when known.
enum class LogFormat { text, json };

/// What a log line is about, where Samsa knows it. Empty / -1: not known (not written).
/// The message text names them too, so a logger that ignores the fields loses nothing.
/// The views are valid for the call only.
struct LogFields {
  std::string_view group{};
  std::string_view topic{};
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void write(LogLevel level, std::string_view message) = 0;
  /// A line with what it is about. The default forwards to write(level, message), so a
  /// logger written before fields existed keeps working; the JSON logger writes them.
  virtual void write_fields(LogLevel level, std::string_view message, const LogFields& fields) {
    (void)fields;
    write(level, message);
  }
  /// Messages below this level are not formatted at all.
  virtual LogLevel level() const { return LogLevel::info; }

  void debug(std::string_view m) { if (level() <= LogLevel::debug) write(LogLevel::debug, m); }
  void info(std::string_view m) { if (level() <= LogLevel::info) write(LogLevel::info, m); }
  void warn(std::string_view m) { if (level() <= LogLevel::warn) write(LogLevel::warn, m); }
  void error(std::string_view m) { write(LogLevel::error, m); }
  void debug(const LogFields& f, std::string_view m) { if (level() <= LogLevel::debug) write_fields(LogLevel::debug, m, f); }
  void info(const LogFields& f, std::string_view m) { if (level() <= LogLevel::info) write_fields(LogLevel::info, m, f); }
  void warn(const LogFields& f, std::string_view m) { if (level() <= LogLevel::warn) write_fields(LogLevel::warn, m, f); }
  void error(const LogFields& f, std::string_view m) { write_fields(LogLevel::error, m, f); }
};

/// The default logger (spdlog, stderr), writing from `level` up.
///
/// The level can be changed from the environment, through spdlog's own level syntax:
///  - SAMSA_LOG_LEVEL: one level (trace, debug, info, warn, error, critical, off), or
///    spdlog's list form ("warn,samsa=debug"); the logger's name is "samsa".
///  - SPDLOG_LEVEL: spdlog's standard variable, same syntax; read by
///    spdlog::cfg::load_env_levels(), so it also sets the user's own spdlog loggers.
/// When both are set, SAMSA_LOG_LEVEL wins for Samsa's logger (it is the more specific);
/// either wins over `level`. An unknown level name is ignored (spdlog's rule): `level` stays.
/// trace is written as debug; critical as error; off writes nothing at all.
std::shared_ptr<Logger> make_default_logger(LogLevel level = LogLevel::info,
                                            LogFormat format = LogFormat::text);

/// The same, writing to `out` instead of stderr (tests, embedding). `out` must outlive the
/// logger; writes to it are serialised by the logger.
std::shared_ptr<Logger> make_stream_logger(std::ostream& out, LogLevel level = LogLevel::info,
                                           LogFormat format = LogFormat::text);

/// "text" or "json"; throws SettingsError naming the accepted values otherwise.
LogFormat parse_log_format(std::string_view name);

}  // namespace samsa
