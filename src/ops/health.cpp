#include "ops/health.hpp"

#include <spdlog/fmt/fmt.h>

namespace samsa::ops {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

long long ms(std::chrono::steady_clock::duration d) { return duration_cast<milliseconds>(d).count(); }

// The reasons `g` is not live; empty when it is.
std::vector<std::string> not_live(const ListenerState& g, std::chrono::steady_clock::time_point now,
                                  const HealthLimits& limits) {
  std::vector<std::string> why;
  if (g.finished && !g.stopping) why.push_back("the listener stopped by itself (a fatal Kafka error; see the log)");
  if (g.started && !g.finished && !g.stopping && g.last_loop.time_since_epoch().count() != 0 &&
      now - g.last_loop > limits.loop_stalled_after)
    why.push_back(fmt::format("the listener loop has not turned for {} ms (loop_stalled_after {} ms): it is stuck "
                              "in a rebalance callback or a commit",
                              ms(now - g.last_loop), limits.loop_stalled_after.count()));
  if (g.longest_job > limits.stuck_job_after)
    why.push_back(fmt::format("a job has run for {} ms (stuck_job_after {} ms)", g.longest_job.count(),
                              limits.stuck_job_after.count()));
  return why;
}

nlohmann::json group_json(const ListenerState& g, bool ok, const std::vector<std::string>& reasons) {
  return {{"group", g.group}, {"ok", ok}, {"reasons", reasons}, {"partitions", g.partitions},
          {"joined", g.joined}, {"longest_job_ms", g.longest_job.count()}};
}

HealthReport finish(nlohmann::json groups, bool ok) {
  return {ok, {{"status", ok ? "ok" : "failing"}, {"groups", std::move(groups)}}};
}

}  // namespace

std::string joining_detail(const ListenerState& g, std::chrono::steady_clock::time_point now) {
  std::string out;
  if (g.brokers_down_since.time_since_epoch().count() != 0)
    out = fmt::format("cannot reach the brokers: {} (for {} s)",
                      g.broker_error.empty() ? std::string("no broker answers") : g.broker_error,
                      duration_cast<std::chrono::seconds>(now - g.brokers_down_since).count());
  for (const auto& t : g.missing_topics)
    out += fmt::format("{}topic '{}' does not exist", out.empty() ? "" : "; ", t);
  return out;
}

bool rebalance_stuck(const ListenerState& g, std::chrono::steady_clock::time_point now, const HealthLimits& limits) {
  return g.started && !g.stopping && g.rebalancing_since.time_since_epoch().count() != 0 &&
         now - g.rebalancing_since > limits.stuck_rebalance_after;
}

HealthReport liveness(const std::vector<ListenerState>& groups, std::chrono::steady_clock::time_point now,
                      const HealthLimits& limits) {
  bool all = true;
  auto out = nlohmann::json::array();
  for (const auto& g : groups) {
    const auto why = not_live(g, now, limits);
    all &= why.empty();
    out.push_back(group_json(g, why.empty(), why));
  }
  return finish(std::move(out), all);
}

HealthReport readiness(const std::vector<ListenerState>& groups, std::chrono::steady_clock::time_point now,
                       const HealthLimits& limits, bool stopping) {
  bool all = !stopping;
  auto out = nlohmann::json::array();
  for (const auto& g : groups) {
    std::vector<std::string> why = not_live(g, now, limits);
    if (stopping || g.stopping) why.push_back("shutting down");
    if (!g.started) why.push_back("not started");
    const std::string detail = g.joined ? std::string() : joining_detail(g, now);
    if (rebalance_stuck(g, now, limits))
      why.push_back(fmt::format("{} for {} ms (stuck_rebalance_after {} ms): {}",
                                g.joined ? "no assignment since a revocation" : "not joined",
                                ms(now - g.rebalancing_since), limits.stuck_rebalance_after.count(),
                                detail.empty() ? "no broker answers, or the group cannot complete its rebalance"
                                               : detail));
    else if (!g.joined)
      why.push_back(detail.empty() ? std::string("joining the group") : "joining the group: " + detail);
    all &= why.empty();
    auto j = group_json(g, why.empty(), why);
    if (why.empty() && g.partitions == 0) j["idle"] = "no partitions assigned (the group has more members than partitions)";
    out.push_back(std::move(j));
  }
  auto r = finish(std::move(out), all);
  if (stopping) r.body["reason"] = "shutting down";
  return r;
}

}  // namespace samsa::ops
