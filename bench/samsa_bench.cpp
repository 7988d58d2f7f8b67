// samsa-bench: consumes N messages from the start of a topic with a fresh group, in one of
// Samsa's marking modes or with the raw librdkafka loop, and reports the rate.
//
//   samsa-bench --brokers B --topic T --mode MODE --messages N [--concurrency C]
//               [--set KEY=VALUE]... [--group G] [--print-batches] [--batch-sleep-ms MS]
//               [--max-seconds S] [--latency] [--ready-file F]
//   samsa-bench --librdkafka-version
//
// Modes: raw (plain librdkafka loop in C with Samsa's librdkafka settings, storing nothing:
// the ceiling), raw-autostore (the same loop with librdkafka's default per-message store),
// raw-nowait (the raw loop polling with timeout 0 first, waiting only on an empty queue),
// raw-batch (the raw loop draining with rd_kafka_consume_batch_queue: the honest ceiling),
// raw-handoff (raw-batch split over two threads: one drains, a second reads and destroys each
// batch: the floor of any design where the polling thread does not consume),
// auto-batch (automatic marking per batch), auto-batch-defaults (automatic marking per batch
// with every Samsa default: max_messages, max_wait_time and concurrency too, unless
// --concurrency or --set gives one),
// auto-message (batch_fetching off: marked after each message), manual-each (manual
// mark_as_consumed of every message), sync-every-1000 (mark_as_consumed_sync every 1,000),
// sync-each-batch (mark_as_consumed_sync of each batch's last message, as Kafka's
// VerifiableConsumer and examples/verifiable_consumer do), io-bound (automatic marking per
// batch, consume() sleeps 1 ms per message: work that waits on I/O, which only concurrency
// over partitions speeds up).
// The other throughput modes run with max_messages 1000 and concurrency 1 (--concurrency);
// io-bound keeps every Samsa default but concurrency; --set overrides any of them in every mode.
// Every mode reads every payload byte (bench_checksum, raw_consumer.h); the JSON line
// reports the checksum and, for Samsa, the effective settings.
// --set applies a Samsa setting (Settings::set: kafka.* properties, group_protocol, ...);
// the raw modes take only kafka.* properties, set on the raw loop's configuration.
// --print-batches prints, for every batch, the records_consumed JSON line of Kafka's
// VerifiableConsumer (timestamp in ms, count, partition, offsets), and partitions_assigned
// and partitions_revoked lines: bench/run.py measures the pause of a rebalance from them.
// --batch-sleep-ms makes a slow consumer (Samsa modes): each consume() sleeps that long, so
// librdkafka's fetch queue stays full and its idle fetch-decision cost can be measured.
// --max-seconds (Samsa modes) stops at the first batch that ends that long after the
// assignment, even before the N-th message: the rate is then of the messages consumed so far.
// --latency records each message's latency (the wall clock when the consumer code gets it minus
// its CreateTime, rd_kafka_message_timestamp: see bench_wall_ms) and reports the count, p50,
// p99 and max in ms. --ready-file creates that file at the group's first assignment (bench/run.py
// starts a producer once a consumer waits on an empty topic).
// The last line is `MODE N messages in S s: R msg/s`; the line before it is a JSON object
// with the same figures plus CPU seconds, peak RSS, the commits made, the librdkafka version
// and the idle gaps between deliveries after the first one (the longest, and the sum of
// those of at least 10 ms), and the seconds from the process's start to the first assignment
// and to the first message the consumer code got. Both Samsa and the raw loop are timed from the group's first
// assignment to the N-th message.
#include <CLI/CLI.hpp>
#include <samsa/samsa.hpp>
#include <sys/resource.h>

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "raw_consumer.h"

namespace {

using Clock = std::chrono::steady_clock;

const Clock::time_point started = Clock::now();  // the process's start, near enough

struct Shared {
  long target = 0;
  std::atomic<long> seen{0};
  std::atomic<long> bytes{0};
  std::atomic<std::uint64_t> checksum{0};
  long counted = 0, counted_bytes = 0;  // seen and bytes when the run ended (written once)
  double max_seconds = 0;
  std::atomic<long> commits{0};
  std::atomic<Clock::rep> first{0}, last{0};
  std::atomic<Clock::rep> first_message{0};
  bool latency = false;  // --latency: each message's latency into latencies_ms
  std::vector<double> latencies_ms;  // (under gap_mu)
  std::string ready_file;
  samsa::App* app = nullptr;
  std::string mode;
  bool io_bound = false;  // mode io-bound: 1 ms sleep per message
  bool print_batches = false;
  int batch_sleep_ms = 0;
  std::mutex gap_mu;  // the idle gaps between batches (consume() calls may overlap with C > 1)
  Clock::time_point last_end{};
  double max_gap_s = 0, idle_s = 0;
} shared;

// --ready-file: created at the first assignment.
void mark_ready() {
  static std::once_flag once;
  if (!shared.ready_file.empty()) std::call_once(once, [] { std::ofstream(shared.ready_file) << "assigned\n"; });
}

// Seconds from the process's start to a steady-clock time (0: never).
double since_start(Clock::rep at) {
  return at == 0 ? 0 : std::chrono::duration<double>(Clock::duration(at) - started.time_since_epoch()).count();
}

// ,"assigned_s":..,"first_message_s":.. from steady-clock times.
std::string timing_json(Clock::rep assigned, Clock::rep first_message) {
  char buf[100];
  std::snprintf(buf, sizeof buf, ",\"assigned_s\":%.3f,\"first_message_s\":%.3f", since_start(assigned),
                since_start(first_message));
  return buf;
}

// ,"latency_ms":{"count":N,"p50":..,"p99":..,"max":..} of the latencies (none: empty).
std::string latency_json(std::vector<double> v) {
  if (v.empty()) return "";
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) { return v[static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1]; };
  char buf[200];
  std::snprintf(buf, sizeof buf, ",\"latency_ms\":{\"count\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}", v.size(),
                at(0.50), at(0.99), v.back());
  return buf;
}

long long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One JSON line of Kafka's VerifiableConsumer format (topic names are plain: no escaping).
void emit_line(const std::string& line) {
  static std::mutex out_mu;
  std::lock_guard lock(out_mu);
  std::printf("{\"timestamp\":%lld,%s}\n", wall_ms(), line.c_str());
  std::fflush(stdout);
}

std::string partition_list(const std::vector<samsa::TopicPartitionOffset>& list) {
  std::string out;
  for (const auto& tp : list)
    out += (out.empty() ? "" : ",") + std::string("{\"topic\":\"") + tp.topic + "\",\"partition\":" +
           std::to_string(tp.partition) + "}";
  return "[" + out + "]";
}

class BenchConsumer : public samsa::Consumer {
 public:
  void consume() override {
    const auto start = Clock::now();
    Clock::rep never = 0;
    shared.first_message.compare_exchange_strong(never, start.time_since_epoch().count());
    {
      std::lock_guard lock(shared.gap_mu);
      const double gap = std::chrono::duration<double>(start - shared.last_end).count();
      if (shared.last_end != Clock::time_point{} && gap >= 0.010) {
        shared.idle_s += gap;
        shared.max_gap_s = std::max(shared.max_gap_s, gap);
      }
    }
    const auto& batch = messages();
    if (shared.print_batches)
      emit_line("\"name\":\"records_consumed\",\"count\":" + std::to_string(batch.size()) +
                ",\"partitions\":[{\"topic\":\"" + topic() + "\",\"partition\":" + std::to_string(partition()) +
                ",\"count\":" + std::to_string(batch.size()) + ",\"minOffset\":" +
                std::to_string(batch.first().offset()) + ",\"maxOffset\":" + std::to_string(batch.last().offset()) +
                "}]");
    long bytes = 0;
    std::uint64_t sum = 0;
    for (const auto& m : batch) {
      if (shared.latency) {
        latencies_.push_back(bench_wall_ms() -
                             std::chrono::duration<double, std::milli>(m.timestamp().time_since_epoch()).count());
      }
      const auto payload = m.raw_payload();
      bytes += static_cast<long>(payload.size());
      sum = bench_checksum(sum, payload.data(), payload.size());
      if (shared.io_bound) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (shared.mode == "manual-each") {
        mark_as_consumed(m);
      } else if (shared.mode == "sync-every-1000" && (++since_sync_ % 1000) == 0) {
        mark_as_consumed_sync(m);
      }
    }
    if (shared.mode == "sync-each-batch") mark_as_consumed_sync(batch.last());
    if (shared.batch_sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(shared.batch_sleep_ms));
    const auto end = Clock::now();
    {
      std::lock_guard lock(shared.gap_mu);
      shared.last_end = std::max(shared.last_end, end);
      shared.latencies_ms.insert(shared.latencies_ms.end(), latencies_.begin(), latencies_.end());
    }
    latencies_.clear();
    const auto now = end.time_since_epoch().count();
    shared.checksum += sum;
    const long total_bytes = shared.bytes += bytes;
    const long total = shared.seen += static_cast<long>(batch.size());
    const auto first = shared.first.load();
    const bool timed_out = shared.max_seconds > 0 && first != 0 &&
                           std::chrono::duration<double>(Clock::duration(now - first)).count() >= shared.max_seconds;
    if (total >= shared.target || timed_out) {
      Clock::rep last = 0;
      if (shared.last.compare_exchange_strong(last, now)) {
        shared.counted = total;
        shared.counted_bytes = total_bytes;
        shared.app->stop();
      }
    }
  }

 private:
  long since_sync_ = 0;
  std::vector<double> latencies_;  // this batch's, added to shared.latencies_ms at its end
};

// `settings` is a JSON object of the settings the run used; `extra`, more JSON members (each
// starting with a comma).
void report(const std::string& mode, long n, double seconds, long bytes, long commits, double max_gap_s,
            double idle_s, std::uint64_t checksum, const std::string& settings, const std::string& extra) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  const double rate = seconds > 0 ? static_cast<double>(n) / seconds : 0;
  std::printf("{\"mode\":\"%s\",\"messages\":%ld,\"seconds\":%.4f,\"msg_per_s\":%.0f,\"mb_per_s\":%.2f,"
              "\"cpu_s\":%.3f,\"peak_rss_kb\":%ld,\"commits\":%ld,\"librdkafka\":\"%s\",\"max_gap_ms\":%.1f,"
              "\"idle_s\":%.3f,\"checksum\":\"%016llx\",\"settings\":%s%s}\n",
              mode.c_str(), n, seconds, rate, seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0,
              cpu, ru.ru_maxrss, commits, rd_kafka_version_str(), max_gap_s * 1000, idle_s,
              static_cast<unsigned long long>(checksum), settings.c_str(), extra.c_str());
  std::printf("%s %ld messages in %.3f s: %.0f msg/s\n", mode.c_str(), n, seconds, rate);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Consume N messages with Samsa or the raw librdkafka loop and report the rate"};
  std::string brokers, topic, mode, group;
  std::vector<std::string> sets;
  long messages = 0;
  int concurrency = 1;
  bool version = false;
  bool defaults_flag = false;
  cli.add_flag("--librdkafka-version", version, "Print the librdkafka version this binary runs on and exit");
  cli.add_option("--brokers", brokers, "Bootstrap servers");
  cli.add_option("--topic", topic, "Topic, consumed from the start");
  cli.add_option("--mode", mode, "raw, raw-autostore, raw-nowait, raw-batch, raw-handoff, auto-batch, auto-batch-defaults, "
                                 "auto-message, manual-each, sync-every-1000, sync-each-batch, io-bound")
      ->check(CLI::IsMember({"raw", "raw-autostore", "raw-nowait", "raw-batch", "raw-handoff", "auto-batch", "auto-batch-defaults",
                             "auto-message", "manual-each", "sync-every-1000", "sync-each-batch", "io-bound"}));
  cli.add_option("--messages", messages, "How many messages to consume")->check(CLI::PositiveNumber);
  auto* concurrency_option = cli.add_option("--concurrency", concurrency, "Samsa worker threads (default: 1; "
                                                                         "auto-batch-defaults: Samsa's)")
                                 ->check(CLI::PositiveNumber);
  cli.add_flag("--defaults", defaults_flag,
               "Samsa modes: every Samsa default (max_messages, max_wait_time, concurrency, ...) but what the "
               "mode itself sets (its marking) and --set, --concurrency give (auto-batch-defaults is auto-batch "
               "--defaults)");
  cli.add_option("--set", sets, "A setting KEY=VALUE (repeatable): Samsa's, or kafka.PROPERTY for librdkafka");
  cli.add_option("--group", group, "Consumer group (default: a new one per run)");
  cli.add_flag("--print-batches", shared.print_batches, "Print a records_consumed JSON line per batch");
  cli.add_option("--batch-sleep-ms", shared.batch_sleep_ms, "Sleep this long in each consume() (a slow consumer)")
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--max-seconds", shared.max_seconds, "Samsa modes: stop after this long even before N messages")
      ->check(CLI::NonNegativeNumber);
  cli.add_flag("--latency", shared.latency, "Record each message's latency (now minus its CreateTime)");
  cli.add_option("--ready-file", shared.ready_file, "Create this file at the first assignment");
  CLI11_PARSE(cli, argc, argv);
  if (version) {
    std::printf("%s\n", rd_kafka_version_str());
    return 0;
  }
  if (brokers.empty() || topic.empty() || mode.empty() || messages <= 0) {
    std::fprintf(stderr, "samsa-bench: --brokers, --topic, --mode and --messages are required\n");
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> settings;
  for (const auto& kv : sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "samsa-bench: --set '%s': expected KEY=VALUE\n", kv.c_str());
      return 2;
    }
    settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }

  if (group.empty()) group = "bench-" + mode + "-" + std::to_string(std::random_device{}());
  if (mode.rfind("raw", 0) == 0) {
    std::vector<const char*> props;
    std::string props_json;
    for (const auto& [key, value] : settings) {
      if (key.rfind("kafka.", 0) != 0) {
        std::fprintf(stderr, "samsa-bench: --set %s: the raw loop takes only kafka.* properties\n", key.c_str());
        return 2;
      }
      props.push_back(key.c_str() + 6);
      props.push_back(value.c_str());
      props_json += (props_json.empty() ? "\"" : ",\"") + key + "\":\"" + value + "\"";
    }
    props.push_back(nullptr);
    raw_result r{};
    std::vector<double> latencies(shared.latency ? static_cast<std::size_t>(messages) : 0);
    raw_options opts{props.data(), shared.latency ? latencies.data() : nullptr, mark_ready};
    const int flags = mode == "raw-autostore" ? RAW_AUTOSTORE
                      : mode == "raw-nowait"    ? RAW_NOWAIT_FIRST
                      : mode == "raw-batch"     ? RAW_BATCH
                      : mode == "raw-handoff"   ? RAW_HANDOFF
                                                : 0;
    if (raw_consume(brokers.c_str(), topic.c_str(), group.c_str(), messages, flags, &opts, &r) != 0) return 1;
    latencies.resize(static_cast<std::size_t>(r.latencies));
    // raw_consumer.c's CLOCK_MONOTONIC seconds as steady-clock ticks (the same clock).
    const auto ticks = [](double s) {
      return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)).count();
    };
    report(mode, messages, r.seconds, r.bytes, 0, r.max_gap_s, r.idle_s, r.checksum, "{" + props_json + "}",
           timing_json(ticks(r.assigned_at), ticks(r.first_message_at)) + latency_json(latencies));
    return 0;
  }

  samsa::App app;
  shared.app = &app;
  shared.io_bound = mode == "io-bound";
  shared.target = messages;
  // Every Samsa default but what is given.
  const bool defaults = mode == "auto-batch-defaults" || defaults_flag;
  if (mode == "auto-batch-defaults") mode = "auto-batch";
  shared.mode = mode;
  const bool concurrency_given = concurrency_option->count() > 0;
  app.logger(samsa::make_default_logger(samsa::LogLevel::warn));
  std::string used;  // the settings the run used, as a JSON object
  app.setup([&](samsa::Settings& config) {
    config.client_id = "samsa-bench";
    config.kafka["bootstrap.servers"] = brokers;
    if (!defaults || concurrency_given) config.concurrency = concurrency;
    config.automatically_mark_as_consumed = mode == "auto-batch" || mode == "auto-message" || mode == "io-bound";
    config.batch_fetching = mode != "auto-message";
    if (mode != "io-bound" && !defaults) config.max_messages = 1000;
    for (const auto& [key, value] : settings) config.set(key, value);
    used = "{\"concurrency\":" + std::to_string(config.concurrency) +
           ",\"max_messages\":" + std::to_string(config.max_messages) +
           ",\"max_wait_time_ms\":" + std::to_string(config.max_wait_time.count()) +
           ",\"batch_fetching\":" + (config.batch_fetching ? "true" : "false") +
           ",\"automatically_mark_as_consumed\":" + (config.automatically_mark_as_consumed ? "true" : "false") +
           ",\"queue_max_messages\":" + std::to_string(config.queue_max_messages) +
           ",\"max_buffered_bytes\":" + std::to_string(config.max_buffered_bytes) +
           ",\"queue_min_time_ms\":" + std::to_string(config.queue_min_time.count()) + ",\"set\":[";
    for (std::size_t i = 0; i < sets.size(); ++i) used += (i ? ",\"" : "\"") + sets[i] + "\"";
    used += "]}";
  });
  app.routes([&](samsa::Routes& routes) { routes.consumer_group(group).topic(topic).consumer<BenchConsumer>(); });
  app.monitor().subscribe_inline([](const samsa::Event& e) {
    if (e.type == samsa::EventType::offsets_committed && e.error.empty()) ++shared.commits;
    // Timed from the first assignment, as the raw loop is.
    Clock::rep zero = 0;
    if (e.type == samsa::EventType::partitions_assigned) {
      shared.first.compare_exchange_strong(zero, Clock::now().time_since_epoch().count());
      mark_ready();
    }
    if (shared.print_batches && (e.type == samsa::EventType::partitions_assigned ||
                                 e.type == samsa::EventType::partitions_revoked))
      emit_line(std::string("\"name\":\"") +
                (e.type == samsa::EventType::partitions_assigned ? "partitions_assigned" : "partitions_revoked") +
                "\",\"partitions\":" + partition_list(e.offsets));
  });
  samsa::ServeOptions options;  // (designated initializers warn on g++ 12 with -Wextra)
  options.handle_signals = true;
  const int code = app.serve(options);
  // Stopped (SIGTERM) before the N-th message: no rate.
  const double seconds =
      shared.last == 0 ? 0 : std::chrono::duration<double>(Clock::duration(shared.last - shared.first)).count();
  const bool ended = shared.last != 0;
  report(mode, ended ? shared.counted : shared.seen.load(), seconds, ended ? shared.counted_bytes : shared.bytes.load(),
         shared.commits, shared.max_gap_s, shared.idle_s, shared.checksum, used,
         timing_json(shared.first.load(), shared.first_message.load()) + latency_json(shared.latencies_ms));
  return code;
}
