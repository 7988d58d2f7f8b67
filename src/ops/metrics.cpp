#include "ops/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <unordered_map>

#include "samsa/version.hpp"

namespace samsa::ops {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;
using prometheus::ClientMetric;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Histogram;
using prometheus::MetricFamily;
using prometheus::MetricType;

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// Latencies from 1 ms to 60 s, about 2.5x apart.
const Histogram::BucketBoundaries& latency_buckets() {
  static const Histogram::BucketBoundaries b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
  return b;
}

// A gauge family built at scrape time.
struct GaugeFamily {
  MetricFamily family;
  GaugeFamily(std::string name, std::string help) {
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = MetricType::Gauge;
  }
  void add(std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    family.metric.push_back(std::move(m));
  }
};

}  // namespace

struct Metrics::Families {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Family<Counter>& polls = BuildCounter().Name("samsa_polls_total").Help("Polls of the consumer group's librdkafka consumer").Register(*registry);
  Family<Counter>& messages = BuildCounter().Name("samsa_messages_consumed_total").Help("Messages handed to consume() that it returned from without error").Register(*registry);
  Family<Counter>& bytes = BuildCounter().Name("samsa_consumed_bytes_total").Help("Payload bytes of the messages counted in samsa_messages_consumed_total").Register(*registry);
  Family<Counter>& batches = BuildCounter().Name("samsa_batches_consumed_total").Help("Batches consume() returned from without error").Register(*registry);
  Family<Histogram>& consume_seconds = BuildHistogram().Name("samsa_consume_duration_seconds").Help("How long after_fetch() and consume() took per batch").Register(*registry);
  Family<Counter>& commits = BuildCounter().Name("samsa_commits_total").Help("Commits the broker confirmed").Register(*registry);
  Family<Counter>& commit_failures = BuildCounter().Name("samsa_commit_failures_total").Help("Commits that failed (what was marked stays marked and is committed later)").Register(*registry);
  Family<Histogram>& commit_seconds = BuildHistogram().Name("samsa_commit_latency_seconds").Help("From a commit request of Samsa's (synchronous, at revocation and shutdown, commit_offsets) to the broker's answer; librdkafka's own auto-commits are not timed").Register(*registry);
  Family<Counter>& rebalances = BuildCounter().Name("samsa_rebalances_total").Help("Rebalance callbacks, by kind (assigned, revoked, lost)").Register(*registry);
  Family<Histogram>& rebalance_seconds = BuildHistogram().Name("samsa_rebalance_callback_duration_seconds").Help("Time spent in a rebalance callback (a revocation waits for its jobs and commits)").Register(*registry);
  Family<Counter>& pauses = BuildCounter().Name("samsa_partition_pauses_total").Help("Pauses of a partition, by reason (back-pressure, error, consumer)").Register(*registry);
  Family<Counter>& retries = BuildCounter().Name("samsa_retries_total").Help("Retries after a failure (each pause and rewind after a hook threw)").Register(*registry);
  Family<Counter>& hook_failures = BuildCounter().Name("samsa_hook_failures_total").Help("Exceptions thrown by a consumer's hook, by hook").Register(*registry);
  Family<Counter>& dead_letters = BuildCounter().Name("samsa_dead_letters_total").Help("Messages given up after max_retries, by outcome (dispatched, skipped)").Register(*registry);
  Family<Counter>& errors = BuildCounter().Name("samsa_errors_total").Help("Errors of the consumer group's client, by librdkafka error name").Register(*registry);
  // batch_consumed comes once per batch: its series are looked up by (group, topic,
  // partition) here instead of through four label maps each time. Monitor thread only.
  struct Consumed {
    Counter* messages;
    Counter* bytes;
    Counter* batches;
    Histogram* seconds;
  };
  std::unordered_map<std::string, Consumed> consumed;
  Family<Counter>& statistics = BuildCounter().Name("samsa_librdkafka_statistics_total").Help("librdkafka statistics documents received (kafka.statistics.interval.ms)").Register(*registry);
};

Metrics::Metrics() : f_(std::make_unique<Families>()) {}
Metrics::~Metrics() = default;

void Metrics::apply(const Event& e) {
  const std::string& g = e.consumer_group;
  auto tp = [&](const TopicPartitionOffset& o) {
    return prometheus::Labels{{"group", g}, {"topic", o.topic}, {"partition", std::to_string(o.partition)}};
  };
  // A commit's latency, when known (librdkafka's own auto-commits are not timed: negative).
  auto observe_commit_latency = [&] {
    if (e.duration.count() >= 0) f_->commit_seconds.Add({{"group", g}}, latency_buckets()).Observe(seconds(e.duration));
  };
  switch (e.type) {
    case EventType::poll:
      f_->polls.Add({{"group", g}}).Increment(static_cast<double>(e.polls));
      break;
    case EventType::batch_consumed:
      for (const auto& o : e.offsets) {
        std::string key = g;
        key += '\0';
        key += o.topic;
        key += '\0';
        key += std::to_string(o.partition);
        auto it = f_->consumed.find(key);
        if (it == f_->consumed.end()) {
          Families::Consumed c{&f_->messages.Add(tp(o)), &f_->bytes.Add(tp(o)),
                               &f_->batches.Add({{"group", g}, {"topic", o.topic}}),
                               &f_->consume_seconds.Add({{"group", g}, {"topic", o.topic}}, latency_buckets())};
          it = f_->consumed.emplace(std::move(key), c).first;
        }
        it->second.messages->Increment(static_cast<double>(e.count));
        it->second.bytes->Increment(static_cast<double>(e.bytes));
        it->second.batches->Increment();
        it->second.seconds->Observe(seconds(e.duration));
      }
      break;
    case EventType::offsets_committed:
      if (e.offsets.empty()) break;  // librdkafka repeating a commit: not one of ours
      f_->commits.Add({{"group", g}}).Increment();
      observe_commit_latency();
      break;
    case EventType::commit_failed:
      f_->commit_failures.Add({{"group", g}}).Increment();
      observe_commit_latency();
      break;
    case EventType::partitions_assigned:
    case EventType::partitions_revoked:
    case EventType::partitions_lost: {
      const char* kind = e.type == EventType::partitions_assigned ? "assigned"
                         : e.type == EventType::partitions_lost   ? "lost"
                                                                  : "revoked";
      f_->rebalances.Add({{"group", g}, {"kind", kind}}).Increment();
      f_->rebalance_seconds.Add({{"group", g}}, latency_buckets()).Observe(seconds(e.duration));
      break;
    }
    case EventType::partition_paused:
      for (const auto& o : e.offsets) {
        auto labels = tp(o);
        labels["reason"] = e.reason;
        f_->pauses.Add(labels).Increment();
      }
      break;
    case EventType::retry:
      for (const auto& o : e.offsets) f_->retries.Add(tp(o)).Increment();
      break;
    case EventType::hook_failed:
      for (const auto& o : e.offsets) f_->hook_failures.Add({{"group", g}, {"topic", o.topic}, {"hook", e.hook}}).Increment();
      break;
    case EventType::dead_letter:
      for (const auto& o : e.offsets) {
        auto labels = tp(o);
        labels["outcome"] = e.reason.empty() ? "skipped" : "dispatched";
        f_->dead_letters.Add(labels).Increment();
      }
      break;
    case EventType::error:
      f_->errors.Add({{"group", g}, {"error", e.reason}}).Increment();
      break;
    case EventType::statistics:
      f_->statistics.Add({{"group", g}}).Increment();
      break;
    default:
      break;
  }
}

namespace {

// The process's own figures, from /proc/self (the names Prometheus's other clients use):
// CPU seconds, resident memory, open file descriptors. Absent where /proc cannot say.
void add_process_metrics(std::vector<MetricFamily>& families) {
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(text.substr(paren + 2));
    std::vector<std::string> f((std::istream_iterator<std::string>(fields)), std::istream_iterator<std::string>());
    // From the state (field 3): utime and stime are fields 14 and 15, rss (pages) 24.
    if (f.size() > 21) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      MetricFamily cpu{"process_cpu_seconds_total", "User and system CPU seconds of the process", MetricType::Counter, {}};
      ClientMetric m;
      m.counter.value = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      cpu.metric.push_back(m);
      families.push_back(std::move(cpu));
      GaugeFamily rss("process_resident_memory_bytes", "Resident memory of the process");
      rss.add({}, std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE)));
      families.push_back(std::move(rss.family));
    }
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++fds;
  if (!ec) {
    GaugeFamily open("process_open_fds", "Open file descriptors of the process");
    open.add({}, fds);
    families.push_back(std::move(open.family));
  }
}

}  // namespace

std::string Metrics::scrape(const StatusBoard& board, const Scrape& now) const {
  // Every group's counters exist from the first scrape, at 0: an alert on rate() of a
  // failure counter must see it before its first failure.
  for (const auto& g : board.groups()) {
    const prometheus::Labels group{{"group", g.name}};
    f_->polls.Add(group);
    f_->commits.Add(group);
    f_->commit_failures.Add(group);
    for (const char* kind : {"assigned", "revoked", "lost"}) f_->rebalances.Add({{"group", g.name}, {"kind", kind}});
  }
  std::vector<MetricFamily> families = f_->registry->Collect();

  GaugeFamily build("samsa_build_info", "Samsa's version and the librdkafka it runs on (always 1)");
  build.add({{"librdkafka", librdkafka_version()}, {"version", kVersion}}, 1);
  families.push_back(std::move(build.family));
  add_process_metrics(families);

  GaugeFamily up("samsa_up", "1 while the app serves");
  up.add({}, 1);
  GaugeFamily state("samsa_state", "The app's state: 1 for the current one");
  for (const char* s : {"starting", "running", "stopping", "stopped"}) state.add({{"state", s}}, now.state == s ? 1 : 0);
  GaugeFamily uptime("samsa_uptime_seconds", "Seconds since serve() started");
  uptime.add({}, now.uptime_seconds);
  GaugeFamily live("samsa_health_live", "1 when /health/live answers 200");
  live.add({}, now.live ? 1 : 0);
  GaugeFamily ready("samsa_health_ready", "1 when /health/ready answers 200");
  ready.add({}, now.ready ? 1 : 0);
  MetricFamily dropped{"samsa_monitor_events_dropped_total", "Events the monitor's queue had no room for (metrics may be low)", MetricType::Counter, {}};
  {
    ClientMetric m;
    m.counter.value = static_cast<double>(now.events_dropped);
    dropped.metric.push_back(m);
  }
  // Counters read from the producer (it counts on its own thread), hence built here.
  MetricFamily produced{"samsa_messages_produced_total", "Messages the app's producer (App::producer(), dead-letter dispatches included) got the broker's acknowledgement for", MetricType::Counter, {}};
  MetricFamily produce_failures{"samsa_produce_failures_total", "Messages the app's producer reported as not delivered (their delivery callback got an error)", MetricType::Counter, {}};
  for (auto [family, n] : {std::pair{&produced, now.producer.delivered}, std::pair{&produce_failures, now.producer.failed}}) {
    ClientMetric m;
    m.counter.value = static_cast<double>(n);
    family->metric.push_back(m);
  }
  GaugeFamily producer_queue("samsa_producer_queued_messages", "Messages produced by the app's producer and not yet delivered or failed");
  producer_queue.add({}, static_cast<double>(now.producer.in_flight));
  MetricFamily warnings{"samsa_warnings_total", "Detector warnings raised, by kind", MetricType::Counter, {}};
  for (const auto& [kind, n] : board.warning_counts()) {
    ClientMetric m;
    m.label = {{"kind", kind}};
    m.counter.value = static_cast<double>(n);
    warnings.metric.push_back(m);
  }

  GaugeFamily assigned("samsa_assigned_partitions", "Partitions assigned to this process, per consumer group");
  GaugeFamily consumed("samsa_consumed_offset", "The offset after the last batch consumed");
  GaugeFamily marked("samsa_marked_offset", "The last marked offset handed to librdkafka (next to consume)");
  GaugeFamily committed("samsa_committed_offset", "The committed offset the broker confirmed (next to consume)");
  GaugeFamily high("samsa_high_watermark", "The partition's log-end offset, read from the broker every lag_interval");
  GaugeFamily lag("samsa_consumer_lag", "Messages between the committed offset and the high watermark, both from the broker");
  GaugeFamily paused("samsa_partition_paused", "1 while the partition is paused (back-pressure, error back-off, or the consumer's pause)");
  GaugeFamily attempt("samsa_partition_failures", "Consecutive failures of the partition's hooks (0 after a success)");
  GaugeFamily stuck("samsa_partition_stuck", "1 while the partition has messages waiting and handled none for stuck_partition_after");
  GaugeFamily growing("samsa_partition_paused_lag_growing", "1 while a paused partition's lag grew at 3 readings since its pause");
  for (const auto& g : board.groups()) {
    double n = 0;
    for (const auto& [key, p] : g.partitions) {
      if (!p.assigned) continue;
      ++n;
      const std::vector<ClientMetric::Label> l = {{"group", g.name}, {"topic", p.topic}, {"partition", std::to_string(p.partition)}};
      if (p.consumed >= 0) consumed.add(l, static_cast<double>(p.consumed));
      if (p.marked >= 0) marked.add(l, static_cast<double>(p.marked));
      if (p.committed >= 0) committed.add(l, static_cast<double>(p.committed));
      if (p.high_watermark >= 0) high.add(l, static_cast<double>(p.high_watermark));
      if (p.lag() >= 0) lag.add(l, static_cast<double>(p.lag()));
      paused.add(l, p.paused ? 1 : 0);
      attempt.add(l, p.attempt);
      stuck.add(l, p.stuck ? 1 : 0);
      growing.add(l, p.lag_growing ? 1 : 0);
    }
    assigned.add({{"group", g.name}}, n);
  }
  for (auto* f : {&up, &state, &uptime, &live, &ready, &producer_queue, &assigned, &consumed, &marked, &committed, &high, &lag, &paused,
                  &attempt, &stuck, &growing})
    families.push_back(std::move(f->family));
  families.push_back(std::move(dropped));
  families.push_back(std::move(produced));
  families.push_back(std::move(produce_failures));
  families.push_back(std::move(warnings));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace samsa::ops
