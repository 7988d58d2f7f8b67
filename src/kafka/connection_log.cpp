#include "kafka/connection_log.hpp"

namespace samsa::kafka {

bool ConnectionLog::note_error(const Status& error, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (error.code() == Status::Code::all_brokers_down) {
    // Once per outage, and again each kRepeatAfter while it lasts (or while no answer was
    // seen to end it: an idle client hears from no broker even when they are back).
    if (state_.down_since != Clock::time_point{} && now - down_logged_ < kRepeatAfter) return false;
    if (state_.down_since == Clock::time_point{}) state_.down_since = now;
    down_logged_ = now;
    return true;
  }
  std::string text = without_state_suffix(error.text());
  state_.last_error = text;
  // Bounded: a client reporting ever new texts (each with an address, say) still logs them.
  if (logged_.size() >= 100) logged_.clear();
  auto [it, added] = logged_.try_emplace({error.number(), std::move(text)}, now);
  if (added) return true;
  if (now - it->second < kRepeatAfter) return false;
  it->second = now;
  return true;
}

ConnectionLog::Clock::time_point ConnectionLog::note_answer() {
  std::lock_guard lock(mu_);
  const auto since = state_.down_since;
  state_ = {};
  logged_.clear();
  return since;
}

ConnectionLog::State ConnectionLog::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::string without_state_suffix(std::string_view text) {
  const auto at = text.rfind(" (after ");
  if (at != std::string_view::npos && text.find(" in state ", at) != std::string_view::npos &&
      text.ends_with(")"))
    text = text.substr(0, at);
  return std::string(text);
}

bool is_error_callback_log_line(std::string_view facility, LogLevel level) {
  return facility == "FAIL" && level >= LogLevel::error;
}

}  // namespace samsa::kafka
