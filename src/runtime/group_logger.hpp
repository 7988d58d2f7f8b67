#pragma once
// A Logger that adds its consumer group (and, for a partition's, its topic and partition)
// to every line that does not name them (LogFields) and forwards to the app's logger. Each
// Listener owns one, so every line of a group's listener, committer, pausing and
// partitions carries the group in the JSON log without each call site naming it; each
// Partition owns one for its consumer's logger(), so a consumer's own lines carry its
// topic and partition too.
//
// Thread-safety: as the wrapped logger's (it holds no state of its own but the names).
#include <cstdint>
#include <string>
#include <string_view>

#include "samsa/logger.hpp"

namespace samsa::runtime {

class GroupLogger final : public Logger {
 public:
  /// `inner` outlives this logger.
  GroupLogger(Logger& inner, std::string group, std::string topic = {}, std::int32_t partition = -1)
      : inner_(inner), group_(std::move(group)), topic_(std::move(topic)), partition_(partition) {}

  void write(LogLevel level, std::string_view message) override { write_fields(level, message, LogFields{}); }
  void write_fields(LogLevel level, std::string_view message, const LogFields& fields) override {
    LogFields f = fields;
    if (f.group.empty()) f.group = group_;
    if (f.topic.empty() && !topic_.empty()) {
      f.topic = topic_;
      f.partition = partition_;
    }
    inner_.write_fields(level, message, f);
  }
  LogLevel level() const override { return inner_.level(); }

 private:
  Logger& inner_;
  const std::string group_;
  const std::string topic_;
  const std::int32_t partition_;
};

}  // namespace samsa::runtime
