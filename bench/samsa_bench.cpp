// samsa-bench: consumes N messages from the start of a topic with a fresh group, in one of
// Samsa's marking modes or with the raw librdkafka loop, and reports the rate.
//
//   samsa-bench --brokers B --topic T --mode MODE --messages N [--concurrency C]
//
// Modes: raw (plain librdkafka loop in C with Samsa's librdkafka settings, storing nothing:
// the ceiling), raw-autostore (the same loop with librdkafka's default per-message store),
// auto-batch (automatic marking per batch),
// auto-message (batch_fetching off: marked after each message), manual-each (manual
// mark_as_consumed of every message), sync-every-1000 (mark_as_consumed_sync every 1,000).
// The last line is `MODE N messages in S s: R msg/s`; the line before it is a JSON object
// with the same figures plus CPU seconds, peak RSS and the commits made. Both Samsa and the
// raw loop are timed from the group's first assignment to the N-th message.
#include <CLI/CLI.hpp>
#include <samsa/samsa.hpp>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "raw_consumer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  long target = 0;
  std::atomic<long> seen{0};
  std::atomic<long> bytes{0};
  std::atomic<long> commits{0};
  std::atomic<Clock::rep> first{0}, last{0};
  samsa::App* app = nullptr;
  std::string mode;
} shared;

class BenchConsumer : public samsa::Consumer {
 public:
  void consume() override {
    const auto& batch = messages();
    long bytes = 0;
    for (const auto& m : batch) {
      bytes += static_cast<long>(m.raw_payload().size());
      if (shared.mode == "manual-each") {
        mark_as_consumed(m);
      } else if (shared.mode == "sync-every-1000" && (++since_sync_ % 1000) == 0) {
        mark_as_consumed_sync(m);
      }
    }
    const auto now = Clock::now().time_since_epoch().count();
    shared.bytes += bytes;
    const long total = shared.seen += static_cast<long>(batch.size());
    if (total >= shared.target) {
      Clock::rep last = 0;
      if (shared.last.compare_exchange_strong(last, now)) shared.app->stop();
    }
  }

 private:
  long since_sync_ = 0;
};

void report(const std::string& mode, long n, double seconds, long bytes, long commits) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  const double rate = seconds > 0 ? static_cast<double>(n) / seconds : 0;
  std::printf("{\"mode\":\"%s\",\"messages\":%ld,\"seconds\":%.4f,\"msg_per_s\":%.0f,\"mb_per_s\":%.2f,"
              "\"cpu_s\":%.3f,\"peak_rss_kb\":%ld,\"commits\":%ld}\n",
              mode.c_str(), n, seconds, rate, seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0,
              cpu, ru.ru_maxrss, commits);
  std::printf("%s %ld messages in %.3f s: %.0f msg/s\n", mode.c_str(), n, seconds, rate);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Consume N messages with Samsa or the raw librdkafka loop and report the rate"};
  std::string brokers, topic, mode;
  long messages = 0;
  int concurrency = 1;
  cli.add_option("--brokers", brokers, "Bootstrap servers")->required();
  cli.add_option("--topic", topic, "Topic, consumed from the start")->required();
  cli.add_option("--mode", mode, "raw, auto-batch, auto-message, manual-each, sync-every-1000")
      ->required()
      ->check(CLI::IsMember({"raw", "raw-autostore", "auto-batch", "auto-message", "manual-each", "sync-every-1000"}));
  cli.add_option("--messages", messages, "How many messages to consume")->required()->check(CLI::PositiveNumber);
  cli.add_option("--concurrency", concurrency, "Samsa worker threads")->check(CLI::PositiveNumber);
  CLI11_PARSE(cli, argc, argv);

  const std::string group = "bench-" + mode + "-" + std::to_string(std::random_device{}());
  if (mode == "raw" || mode == "raw-autostore") {
    double seconds = 0;
    long bytes = 0;
    if (raw_consume(brokers.c_str(), topic.c_str(), group.c_str(), messages, mode == "raw-autostore", &seconds,
                    &bytes) != 0)
      return 1;
    report(mode, messages, seconds, bytes, 0);
    return 0;
  }

  samsa::App app;
  shared.app = &app;
  shared.mode = mode;
  shared.target = messages;
  app.logger(samsa::make_default_logger(samsa::LogLevel::warn));
  app.setup([&](samsa::Settings& config) {
    config.client_id = "samsa-bench";
    config.kafka["bootstrap.servers"] = brokers;
    config.concurrency = concurrency;
    config.automatically_mark_as_consumed = mode == "auto-batch" || mode == "auto-message";
    config.batch_fetching = mode != "auto-message";
    config.max_messages = 1000;
  });
  app.routes([&](samsa::Routes& routes) { routes.consumer_group(group).topic(topic).consumer<BenchConsumer>(); });
  app.monitor().subscribe([](const samsa::Event& e) {
    if (e.type == samsa::EventType::offsets_committed && e.error.empty()) ++shared.commits;
    // Timed from the first assignment, as the raw loop is.
    Clock::rep zero = 0;
    if (e.type == samsa::EventType::partitions_assigned)
      shared.first.compare_exchange_strong(zero, Clock::now().time_since_epoch().count());
  });
  const int code = app.serve({.handle_signals = true});
  const double seconds = std::chrono::duration<double>(Clock::duration(shared.last - shared.first)).count();
  report(mode, shared.seen, seconds, shared.bytes, shared.commits);
  return code;
}
