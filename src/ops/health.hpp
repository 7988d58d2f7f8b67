#pragma once
// Liveness and readiness of a serving app, from the state of its consumer groups' listeners:
// a pure function of that state and the time (no I/O), for /health/live and /health/ready.
//
// Live (restart me if not): every listener thread that is not stopping turns its loop at
// least every loop_stalled_after, no job has run longer than stuck_job_after, and no
// listener ended by itself (a fatal Kafka error).
// Ready (I do my share): not shutting down, every group joined once (its first
// assignment, maybe empty: legitimately idle when the group has more members than
// partitions), no group without an assignment for longer than stuck_rebalance_after, and
// live. A rebalance shorter than that keeps an app ready: readiness that flapped at every
// rebalance would stall rolling deployments for no gain.
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace samsa::ops {

/// One consumer group's listener, as runtime::Listener::health() reports it.
struct ListenerState {
  std::string group;
  bool started = false, joined = false, stopping = false, finished = false;
  std::chrono::steady_clock::time_point last_loop{};
  std::chrono::steady_clock::time_point rebalancing_since{};  ///< epoch: has an assignment
  std::chrono::milliseconds longest_job{0};
  std::size_t partitions = 0;
  /// What the group's consumer knows of why it may not join (kafka::ConnectionLog): since
  /// when no broker answers (epoch while one does), its last connection error, and the
  /// subscribed topics the broker said do not exist.
  std::chrono::steady_clock::time_point brokers_down_since{};
  std::string broker_error;
  std::vector<std::string> missing_topics;
};

struct HealthLimits {
  std::chrono::milliseconds loop_stalled_after{90000};
  std::chrono::milliseconds stuck_job_after{300000};
  std::chrono::milliseconds stuck_rebalance_after{60000};
};

struct HealthReport {
  bool ok = true;
  /// {"status": "ok"|"failing", "groups": [{"group", "ok", "reasons": [...], ...}]}
  nlohmann::json body;
};

HealthReport liveness(const std::vector<ListenerState>& groups, std::chrono::steady_clock::time_point now,
                      const HealthLimits& limits);
/// `stopping`: the app's shutdown started.
HealthReport readiness(const std::vector<ListenerState>& groups, std::chrono::steady_clock::time_point now,
                       const HealthLimits& limits, bool stopping);
/// Why a group that has not joined (yet) may not: "cannot reach the brokers: ERROR (for
/// 12 s)", "topic 'T' does not exist", joined by "; "; empty when nothing is known.
std::string joining_detail(const ListenerState& g, std::chrono::steady_clock::time_point now);
/// The group's rebalance has lasted longer than stuck_rebalance_after (joining included).
bool rebalance_stuck(const ListenerState& g, std::chrono::steady_clock::time_point now, const HealthLimits& limits);

}  // namespace samsa::ops
