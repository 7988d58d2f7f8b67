#pragma once
// A Logger that adds its consumer group to every line (LogFields::group) and forwards to
// the app's logger. Each Listener owns one, so every line of a group's listener, committer,
// pausing and partitions carries the group in the JSON log without each call site naming it.
//
// Thread-safety: as the wrapped logger's (it holds no state of its own but the name).
#include <string>
#include <string_view>

#include "samsa/logger.hpp"

namespace samsa::runtime {

class GroupLogger final : public Logger {
 public:
  /// `inner` outlives this logger.
  GroupLogger(Logger& inner, std::string group) : inner_(inner), group_(std::move(group)) {}

  void write(LogLevel level, std::string_view message) override {
    inner_.write_fields(level, message, LogFields{.group = group_});
  }
  void write_fields(LogLevel level, std::string_view message, const LogFields& fields) override {
    LogFields f = fields;
    if (f.group.empty()) f.group = group_;
    inner_.write_fields(level, message, f);
  }
  LogLevel level() const override { return inner_.level(); }

 private:
  Logger& inner_;
  const std::string group_;
};

}  // namespace samsa::runtime
