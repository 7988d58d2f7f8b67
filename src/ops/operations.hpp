#pragma once
// Operations: the operations surface of a serving app. It subscribes a StatusBoard and the
// Metrics to the monitor, runs the detectors every second (warnings go to the log), and
// serves over HTTP:
//   /metrics        Prometheus text format
//   /health/live    200 or 503, JSON body saying why (ops/health.hpp)
//   /health/ready   200 or 503, likewise
//   /status.json    everything the status page shows
//   /               the status page (one HTML document, no external assets)
//
// Lifetime: built by App before its first serve() with metrics_port set (it subscribes to
// the monitor, which must happen before events flow) and kept until the App goes;
// start()/stop() bracket each serve(). Threads: the monitor's (events), its detector
// thread, civetweb's (requests).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ops/health.hpp"
#include "ops/http_server.hpp"
#include "ops/metrics.hpp"
#include "ops/status_board.hpp"
#include "samsa/instrumentation.hpp"
#include "samsa/logger.hpp"
#include "samsa/settings.hpp"

namespace samsa::ops {

class Operations {
 public:
  using Listeners = std::function<std::vector<ListenerState>()>;
  /// What the app's producer did so far (zeros when there is none yet).
  using ProducerCounts = std::function<Metrics::Scrape::Producer()>;

  Operations(const Settings& settings, Logger& logger, Monitor& monitor);
  ~Operations();

  /// serve() starts: takes the health limits from the settings, listens on
  /// metrics_host:metrics_port (throws SettingsError when it cannot) and starts the
  /// detectors. `listeners` reads the groups' state, `producer` the app's producer's counts
  /// (for /metrics); both valid until stop(). (The stuck-partition bound is the one of the
  /// first serve(): the board is built once.)
  void start(Listeners listeners, ProducerCounts producer = {});
  /// "running", "stopping" (shown by /metrics and the page).
  void set_state(const char* state);
  /// serve() ends: stops the HTTP server and the detectors.
  void stop();
  int port() const { return server_ ? server_->port() : 0; }

  /// The body of each endpoint (public for the tests).
  HttpResponse respond(const std::string& path);

 private:
  nlohmann::json status_json();
  std::vector<ListenerState> listeners();
  void detect();

  const Settings& settings_;
  Logger& logger_;
  const Monitor& monitor_;
  StatusBoard board_;
  Metrics metrics_;
  HealthLimits limits_;
  std::mutex mu_;  // listeners_, state_
  Listeners listeners_;
  ProducerCounts producer_;
  std::string state_ = "stopped";
  std::chrono::steady_clock::time_point started_{};
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> stop_{false};
  std::thread detector_;
  std::set<std::string> stuck_rebalances_;  // detector thread: groups warned about
};

/// The status page's HTML (ops/status_page.cpp).
const std::string& status_page_html();

}  // namespace samsa::ops
