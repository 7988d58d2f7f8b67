#pragma once
// The time an admin function was given, shared by every request it makes.
#include <algorithm>
#include <chrono>
#include <climits>
#include <string>

namespace samsa::admin::detail {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(std::chrono::milliseconds budget)
      : budget_(std::max(budget, std::chrono::milliseconds(0))), end_(Clock::now() + budget_) {}

  /// What is left of it; 0 once it passed.
  std::chrono::milliseconds remaining() const {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(end_ - Clock::now()),
                    std::chrono::milliseconds(0));
  }
  /// The same, in whole milliseconds that fit an int.
  int remaining_ms() const { return static_cast<int>(std::min<long long>(remaining().count(), INT_MAX)); }
  bool expired() const { return Clock::now() >= end_; }
  /// The budget for messages: "30 s", "1500 ms".
  std::string budget_text() const {
    auto ms = budget_.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
  }

 private:
  std::chrono::milliseconds budget_;
  Clock::time_point end_;
};

}  // namespace samsa::admin::detail
