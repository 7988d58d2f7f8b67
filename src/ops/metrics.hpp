#pragma once
// Metrics: Samsa's Prometheus metrics. Counters and histograms are fed by the monitor's
// events (apply(), on the monitor's thread); gauges (offsets, lag, pause and detector
// states, health) are read from the status board at each scrape. Built on prometheus-cpp's
// core (its registry, metric types and text format); Samsa's HTTP server serves scrape().
//
// Names follow Prometheus conventions: samsa_ prefix, _total for counters, base units
// (seconds, bytes), labels group, topic, partition. The list is in README "Operations".
// Threads: apply() on one thread at a time; scrape() from any thread (prometheus-cpp's
// metrics are thread-safe, and the board has its own lock).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ops/status_board.hpp"
#include "samsa/instrumentation.hpp"

namespace samsa::ops {

struct HealthReport;

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void apply(const Event& e);

  /// What the gauges read at a scrape, besides the board.
  struct Scrape {
    std::string state;  ///< "starting", "running", "stopping", "stopped"
    bool live = true, ready = false;
    std::uint64_t events_dropped = 0;
    double uptime_seconds = 0;
    /// The app's producer (App::producer(), dead-letter dispatches included) since it was
    /// made; zeros before it is: its series exist at 0 from the first scrape.
    struct Producer {
      std::uint64_t delivered = 0, failed = 0, in_flight = 0;
    } producer;
  };
  /// The text exposition format (text/plain; version=0.0.4) of every metric.
  std::string scrape(const StatusBoard& board, const Scrape& now) const;

 private:
  struct Families;
  std::unique_ptr<Families> f_;
};

}  // namespace samsa::ops
