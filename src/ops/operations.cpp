#include "ops/operations.hpp"

#include <spdlog/fmt/fmt.h>

#include "samsa/version.hpp"

namespace samsa::ops {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string iso(SystemClock::time_point t) {
  if (t == SystemClock::time_point{}) return {};
  const auto ms = std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

nlohmann::json offset_or_null(std::int64_t v) { return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string describe(const std::vector<TopicPartitionOffset>& parts) {
  std::string out;
  for (const auto& p : parts) out += fmt::format("{}{}/{}", out.empty() ? "" : " ", p.topic, p.partition);
  return out.empty() ? "nothing" : out;
}

// The group as its coordinator last described it: "members" null (never an empty list)
// with "members_error" saying why while the members are unknown.
void add_members(nlohmann::json& group, const GroupStatus& g) {
  group["members_read_at"] = iso(g.described_at);
  if (!g.members_known()) {
    group["group_state"] = nullptr;
    group["members"] = nullptr;
    group["members_error"] = g.described_at == SystemClock::time_point{} ? "not read yet" : g.members_error;
    return;
  }
  group["group_state"] = g.group_state;
  group["members_error"] = "";
  nlohmann::json members = nlohmann::json::array();
  for (const GroupMember& m : g.members) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& [topic, partition] : m.assignment) parts.push_back({{"topic", topic}, {"partition", partition}});
    members.push_back({{"member_id", m.member_id}, {"client_id", m.client_id}, {"host", m.host}, {"partitions", parts}});
  }
  group["members"] = std::move(members);
}

HttpResponse json_response(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump(2) + "\n"};
}

}  // namespace

Operations::Operations(const Settings& settings, Logger& logger, Monitor& monitor)
    : settings_(settings), logger_(logger), monitor_(monitor), board_(settings.stuck_partition_after) {
  monitor.subscribe([this](const Event& e) {
    metrics_.apply(e);
    for (const Warning& w : board_.apply(e, Clock::now())) logger_.warn(w.message);
  });
}

Operations::~Operations() { stop(); }

void Operations::start(Listeners listeners, ProducerCounts producer) {
  {
    std::lock_guard lock(mu_);
    listeners_ = std::move(listeners);
    producer_ = std::move(producer);
    state_ = "starting";
    started_ = Clock::now();
  }
  limits_.stuck_job_after = settings_.stuck_job_after;
  limits_.stuck_rebalance_after = settings_.stuck_rebalance_after;
  // A loop turn may wait for a revocation (revoke_timeout) and a commit (30 s at most).
  limits_.loop_stalled_after = settings_.revoke_timeout + milliseconds(60000);
  const HttpLimits limits{settings_.http_threads,
                          std::chrono::ceil<std::chrono::seconds>(settings_.http_timeout),
                          settings_.http_max_connections};
  server_ = std::make_unique<HttpServer>(settings_.metrics_host, settings_.metrics_port,
                                         [this](const std::string& path) { return respond(path); }, limits);
  logger_.info(fmt::format("operations: http://{}:{}/ (/metrics, /health/live, /health/ready, /status.json)",
                           settings_.metrics_host, server_->port()));
  stop_ = false;
  detector_ = std::thread([this] { detect(); });
}

void Operations::set_state(const char* state) {
  std::lock_guard lock(mu_);
  state_ = state;
}

void Operations::stop() {
  stop_ = true;
  if (detector_.joinable()) detector_.join();
  server_.reset();
  std::lock_guard lock(mu_);
  listeners_ = nullptr;
  producer_ = nullptr;
  state_ = "stopped";
}

std::vector<ListenerState> Operations::listeners() {
  std::lock_guard lock(mu_);
  return listeners_ ? listeners_() : std::vector<ListenerState>{};
}

void Operations::detect() {
  while (!stop_.load()) {
    for (int i = 0; i < 10 && !stop_.load(); ++i) std::this_thread::sleep_for(milliseconds(100));
    const auto now = Clock::now();
    for (const Warning& w : board_.check(now)) logger_.warn(w.message);
    for (const auto& g : listeners()) {
      const bool stuck = rebalance_stuck(g, now, limits_);
      if (!stuck) {
        stuck_rebalances_.erase(g.group);
        continue;
      }
      if (!stuck_rebalances_.insert(g.group).second) continue;
      Warning w{SystemClock::now(), "stuck_rebalance", g.group, {}, -1,
                fmt::format("consumer group {}: {} for {} ms (stuck_rebalance_after {} ms): no broker answers, or "
                            "the group cannot complete its rebalance; /health/ready fails until it has an assignment",
                            g.group, g.joined ? "no assignment since a revocation" : "not joined",
                            std::chrono::duration_cast<milliseconds>(now - g.rebalancing_since).count(),
                            limits_.stuck_rebalance_after.count())};
      board_.report(w);
      logger_.warn(w.message);
    }
  }
}

nlohmann::json Operations::status_json() {
  const auto now = Clock::now();
  const auto states = listeners();
  std::string state;
  double uptime;
  {
    std::lock_guard lock(mu_);
    state = state_;
    uptime = std::chrono::duration<double>(now - started_).count();
  }
  const bool stopping = board_.stopping();
  nlohmann::json out = {
      {"app",
       {{"client_id", settings_.client_id},
        {"samsa_version", kVersion},
        {"librdkafka_version", librdkafka_version()},
        {"state", state},
        {"uptime_seconds", uptime},
        {"live", liveness(states, now, limits_).ok},
        {"ready", readiness(states, now, limits_, stopping).ok},
        {"events_dropped", monitor_.dropped()}}},
      {"groups", nlohmann::json::array()},
      {"warnings", nlohmann::json::array()},
  };
  for (const auto& g : board_.groups()) {
    nlohmann::json group = {{"name", g.name}, {"member", settings_.client_id}, {"rebalance_count", g.rebalance_count},
                            {"last_error", g.last_error}, {"last_error_at", iso(g.last_error_at)},
                            {"partitions", nlohmann::json::array()}, {"rebalances", nlohmann::json::array()}};
    for (const auto& s : states)
      if (s.group == g.name) group["joined"] = s.joined;
    add_members(group, g);
    for (const auto& [key, p] : g.partitions) {
      if (!p.assigned) continue;
      group["partitions"].push_back({{"topic", p.topic},
                                     {"partition", p.partition},
                                     {"owner", settings_.client_id + " (this process)"},
                                     {"consumed", offset_or_null(p.consumed)},
                                     {"marked", offset_or_null(p.marked)},
                                     {"committed", offset_or_null(p.committed)},
                                     {"high_watermark", offset_or_null(p.high_watermark)},
                                     {"lag", offset_or_null(p.lag())},
                                     {"paused", p.paused},
                                     {"pause_reason", p.pause_reason},
                                     {"failures", p.attempt},
                                     {"last_error", p.last_error},
                                     {"last_error_at", iso(p.last_error_at)},
                                     {"messages", p.messages},
                                     {"bytes", p.bytes},
                                     {"stuck", p.stuck},
                                     {"paused_lag_growing", p.lag_growing}});
    }
    for (auto it = g.rebalances.rbegin(); it != g.rebalances.rend(); ++it)
      group["rebalances"].push_back({{"at", iso(it->at)},
                                     {"kind", it->kind},
                                     {"partitions", describe(it->partitions)},
                                     {"duration_ms", std::chrono::duration<double, std::milli>(it->duration).count()}});
    out["groups"].push_back(std::move(group));
  }
  const auto warnings = board_.warnings();
  for (auto it = warnings.rbegin(); it != warnings.rend(); ++it)
    out["warnings"].push_back({{"at", iso(it->at)}, {"kind", it->kind}, {"group", it->group}, {"topic", it->topic},
                               {"partition", it->partition}, {"message", it->message}});
  return out;
}

HttpResponse Operations::respond(const std::string& path) {
  const auto now = Clock::now();
  if (path == "/metrics") {
    const auto states = listeners();
    Metrics::Scrape s;
    {
      std::lock_guard lock(mu_);
      s.state = state_;
      s.uptime_seconds = std::chrono::duration<double>(now - started_).count();
      if (producer_) s.producer = producer_();
    }
    s.live = liveness(states, now, limits_).ok;
    s.ready = readiness(states, now, limits_, board_.stopping()).ok;
    s.events_dropped = monitor_.dropped();
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_.scrape(board_, s)};
  }
  if (path == "/health/live") {
    const HealthReport r = liveness(listeners(), now, limits_);
    return json_response(r.ok ? 200 : 503, r.body);
  }
  if (path == "/health/ready") {
    const HealthReport r = readiness(listeners(), now, limits_, board_.stopping());
    return json_response(r.ok ? 200 : 503, r.body);
  }
  if (path == "/status.json") return json_response(200, status_json());
  if (path == "/" || path == "/index.html") return {200, "text/html; charset=utf-8", status_page_html()};
  return {404, "text/plain; charset=utf-8",
          "not found: " + path + " (try /, /metrics, /health/live, /health/ready, /status.json)\n"};
}

}  // namespace samsa::ops
