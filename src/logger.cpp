#include "samsa/logger.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

namespace samsa {
namespace {

class SpdLogger final : public Logger {
 public:
  explicit SpdLogger(LogLevel level) : level_(level) {
    logger_ = std::make_shared<spdlog::logger>(
        "samsa", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger_->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%t] %v");
    logger_->set_level(spdlog::level::debug);
  }
  void write(LogLevel level, std::string_view message) override {
    static constexpr spdlog::level::level_enum map[] = {
        spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};
    logger_->log(map[static_cast<int>(level)], message);
    if (level >= LogLevel::warn) logger_->flush();
  }
  LogLevel level() const override { return level_; }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  LogLevel level_;
};

}  // namespace

std::shared_ptr<Logger> make_default_logger(LogLevel level) {
  if (const char* env = std::getenv("SAMSA_LOG_LEVEL")) {
    std::string v = env;
    if (v == "debug") level = LogLevel::debug;
    else if (v == "info") level = LogLevel::info;
    else if (v == "warn") level = LogLevel::warn;
    else if (v == "error") level = LogLevel::error;
  }
  return std::make_shared<SpdLogger>(level);
}

}  // namespace samsa
