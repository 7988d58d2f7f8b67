#include "samsa/logger.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "samsa/errors.hpp"

namespace samsa {
namespace {

// Samsa's levels in spdlog's terms and back. trace reads as debug, critical as error; off
// stays off (the spdlog logger's own level then drops even errors).
spdlog::level::level_enum to_spdlog(LogLevel level) {
  static constexpr spdlog::level::level_enum map[] = {
      spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};
  return map[static_cast<int>(level)];
}

LogLevel from_spdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return LogLevel::debug;
    case spdlog::level::info: return LogLevel::info;
    case spdlog::level::warn: return LogLevel::warn;
    default: return LogLevel::error;
  }
}

// The level the environment asks for, `fallback` when it asks for none (or names no level).
// SPDLOG_LEVEL goes through spdlog::cfg::load_env_levels(): spdlog's own syntax ("debug",
// "off,samsa=info") applied to spdlog's registry, where a logger named "samsa" (a null sink
// registered once for this) reads it back. SAMSA_LOG_LEVEL is one level name, parsed by
// spdlog, and wins: it is the more specific of the two.
// `bad` is set to SAMSA_LOG_LEVEL's value when it names no level.
spdlog::level::level_enum level_from_environment(spdlog::level::level_enum fallback, std::string& bad) {
  spdlog::level::level_enum level = fallback;
  if (const char* env = std::getenv("SPDLOG_LEVEL"); env && *env) {
    static std::mutex mu;
    std::lock_guard lock(mu);
    std::shared_ptr<spdlog::logger> probe = spdlog::get("samsa");
    if (!probe) {
      probe = std::make_shared<spdlog::logger>("samsa", std::make_shared<spdlog::sinks::null_sink_mt>());
      try {
        spdlog::register_logger(probe);
      } catch (const spdlog::spdlog_ex&) {
        probe = spdlog::get("samsa");  // registered meanwhile by another thread of the user's
      }
    }
    if (probe) {
      probe->set_level(fallback);
      spdlog::cfg::load_env_levels();
      level = probe->level();
    }
  }
  if (const char* env = std::getenv("SAMSA_LOG_LEVEL"); env && *env) {
    const std::string name = env;
    const spdlog::level::level_enum parsed = spdlog::level::from_str(name);
    if (parsed != spdlog::level::off || name == "off")
      level = parsed;
    else
      bad = name;  // spdlog's rule: an unknown name is ignored (the caller says so)
  }
  return level;
}

// One JSON string, never throwing: invalid UTF-8 becomes U+FFFD.
std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class SpdLogger final : public Logger {
 public:
  SpdLogger(spdlog::sink_ptr sink, LogLevel level, LogFormat format) : format_(format) {
    logger_ = std::make_shared<spdlog::logger>("samsa", std::move(sink));
    if (format == LogFormat::json) {
      // spdlog writes the timestamp (UTC), the level and the thread; write_fields the rest.
      logger_->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,%v})",
                           spdlog::pattern_time_type::utc);
    } else {
      logger_->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%t] %v");
    }
    std::string bad;
    const auto effective = level_from_environment(to_spdlog(level), bad);
    logger_->set_level(effective);
    level_ = from_spdlog(effective);
    if (!bad.empty())
      write(LogLevel::warn, "SAMSA_LOG_LEVEL='" + bad + "' names no level (trace, debug, info, warn, error, "
                            "critical, off); ignored");
  }

  void write(LogLevel level, std::string_view message) override { write_fields(level, message, {}); }

  void write_fields(LogLevel level, std::string_view message, const LogFields& fields) override {
    if (format_ == LogFormat::text) {
      logger_->log(to_spdlog(level), message);
    } else {
      std::string body = "\"message\":" + json_string(message);
      if (!fields.group.empty()) body += ",\"group\":" + json_string(fields.group);
      if (!fields.topic.empty()) body += ",\"topic\":" + json_string(fields.topic);
      if (fields.partition >= 0) body += ",\"partition\":" + std::to_string(fields.partition);
      if (fields.offset >= 0) body += ",\"offset\":" + std::to_string(fields.offset);
      logger_->log(to_spdlog(level), body);
    }
    if (level >= LogLevel::warn) logger_->flush();
  }

  LogLevel level() const override { return level_; }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  LogFormat format_;
  LogLevel level_;
};

}  // namespace

std::shared_ptr<Logger> make_default_logger(LogLevel level, LogFormat format) {
  return std::make_shared<SpdLogger>(std::make_shared<spdlog::sinks::stderr_sink_mt>(), level, format);
}

std::shared_ptr<Logger> make_stream_logger(std::ostream& out, LogLevel level, LogFormat format) {
  return std::make_shared<SpdLogger>(std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true), level,
                                     format);
}

LogFormat parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  throw SettingsError("log format '" + std::string(name) + "': expected text or json");
}

}  // namespace samsa
