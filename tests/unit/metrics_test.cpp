// Metrics: the names, labels and values of /metrics for known events, and Prometheus' own
// checker (promtool, from Debian's prometheus package) on the result.
#include "ops/metrics.hpp"
#include "samsa/version.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>

namespace samsa::ops {
namespace {

Event event(EventType type, std::vector<TopicPartitionOffset> offsets) {
  Event e{type, "g", std::move(offsets), 0, {}};
  e.at = std::chrono::system_clock::now();
  return e;
}

// The value of the sample `name{labels}` in `text` ("" when absent). Labels as printed.
std::string sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  return "";
}

struct Fed : ::testing::Test {
  StatusBoard board{std::chrono::seconds(60)};
  Metrics metrics;
  void apply(const Event& e) {
    metrics.apply(e);
    board.apply(e, std::chrono::steady_clock::now());
  }
  std::string scrape() {
    Metrics::Scrape s;
    s.state = "running";
    s.ready = true;
    return metrics.scrape(board, s);
  }
  void SetUp() override {
    apply(event(EventType::partitions_assigned, {{"orders", 0, -1001}, {"orders", 1, -1001}}));
    Event batch = event(EventType::batch_consumed, {{"orders", 0, 0}});
    batch.count = 10;
    batch.last_offset = 9;
    batch.bytes = 1000;
    batch.duration = std::chrono::milliseconds(20);
    apply(batch);
    Event committed = event(EventType::offsets_committed, {{"orders", 0, 10}});
    committed.duration = std::chrono::milliseconds(3);
    apply(committed);
    Event failed = event(EventType::commit_failed, {{"orders", 1, 4}});
    failed.error = "Broker: Not coordinator";
    apply(failed);
    Event marks = event(EventType::watermarks, {{"orders", 0, 25}, {"orders", 1, 4}});
    marks.committed = {10, -1};
    apply(marks);
    Event paused = event(EventType::partition_paused, {{"orders", 1, 4}});
    paused.reason = "error";
    apply(paused);
    apply(event(EventType::retry, {{"orders", 1, 4}}));
    Event dlq = event(EventType::dead_letter, {{"orders", 1, 4}});
    dlq.reason = "orders_dlq";
    apply(dlq);
    Event hook = event(EventType::hook_failed, {{"orders", 1, 4}});
    hook.hook = "consume";
    apply(hook);
  }
};

TEST_F(Fed, CountersGaugesAndHistogramsHaveTheirValues) {
  const std::string text = scrape();
  EXPECT_EQ(sample(text, R"(samsa_messages_consumed_total{group="g",partition="0",topic="orders"})"), "10");
  EXPECT_EQ(sample(text, R"(samsa_consumed_bytes_total{group="g",partition="0",topic="orders"})"), "1000");
  EXPECT_EQ(sample(text, R"(samsa_commits_total{group="g"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_commit_failures_total{group="g"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_commit_latency_seconds_count{group="g"})"), "2");
  EXPECT_EQ(sample(text, R"(samsa_consume_duration_seconds_sum{group="g",topic="orders"})"), "0.02");
  EXPECT_EQ(sample(text, R"(samsa_consume_duration_seconds_bucket{group="g",topic="orders",le="0.025"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_consume_duration_seconds_bucket{group="g",topic="orders",le="0.01"})"), "0");
  EXPECT_EQ(sample(text, R"(samsa_rebalances_total{group="g",kind="assigned"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_partition_pauses_total{group="g",partition="1",reason="error",topic="orders"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_retries_total{group="g",partition="1",topic="orders"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_dead_letters_total{group="g",outcome="dispatched",partition="1",topic="orders"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_hook_failures_total{group="g",hook="consume",topic="orders"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_committed_offset{group="g",topic="orders",partition="0"})"), "10");
  EXPECT_EQ(sample(text, R"(samsa_high_watermark{group="g",topic="orders",partition="0"})"), "25");
  EXPECT_EQ(sample(text, R"(samsa_consumer_lag{group="g",topic="orders",partition="0"})"), "15");
  EXPECT_EQ(sample(text, R"(samsa_consumer_lag{group="g",topic="orders",partition="1"})"), "")
      << "no committed offset: the lag is unknown, not 0";
  EXPECT_EQ(sample(text, R"(samsa_partition_paused{group="g",topic="orders",partition="1"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_assigned_partitions{group="g"})"), "2");
  EXPECT_EQ(sample(text, R"(samsa_state{state="running"})"), "1");
  EXPECT_EQ(sample(text, R"(samsa_health_ready)"), "1");
}

TEST_F(Fed, ARevokedPartitionHasNoGauges) {
  apply(event(EventType::partitions_revoked, {{"orders", 0, -1}}));
  const std::string text = scrape();
  EXPECT_EQ(sample(text, R"(samsa_committed_offset{group="g",topic="orders",partition="0"})"), "");
  EXPECT_EQ(sample(text, R"(samsa_assigned_partitions{group="g"})"), "1");
  // Counters stay: they are totals since start.
  EXPECT_EQ(sample(text, R"(samsa_messages_consumed_total{group="g",partition="0",topic="orders"})"), "10");
}

TEST(Metrics, AGroupsCountersExistAtZeroBeforeTheirFirstEvent) {
  // A rate() alert on commit failures must see the series before the first failure.
  Metrics metrics;
  StatusBoard board{std::chrono::seconds(60)};
  Event assigned{EventType::partitions_assigned, "quiet", {{"orders", 0, -1001}}, 1, {}};
  board.apply(assigned, std::chrono::steady_clock::now());  // the board knows the group; no metric event yet
  Metrics::Scrape s;
  s.state = "running";
  const std::string text = metrics.scrape(board, s);
  EXPECT_EQ(sample(text, R"(samsa_commit_failures_total{group="quiet"})"), "0");
  EXPECT_EQ(sample(text, R"(samsa_commits_total{group="quiet"})"), "0");
  EXPECT_EQ(sample(text, R"(samsa_rebalances_total{group="quiet",kind="lost"})"), "0");
}

TEST(Metrics, TheProducersSeriesExistAtZeroBeforeItIsMadeThenReadItsCounts) {
  Metrics metrics;
  StatusBoard board{std::chrono::seconds(60)};
  Metrics::Scrape s;
  s.state = "running";
  std::string text = metrics.scrape(board, s);  // no producer yet
  EXPECT_EQ(sample(text, "samsa_messages_produced_total"), "0") << text;
  EXPECT_EQ(sample(text, "samsa_produce_failures_total"), "0");
  EXPECT_EQ(sample(text, "samsa_producer_queued_messages"), "0");
  EXPECT_NE(text.find("# TYPE samsa_messages_produced_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE samsa_produce_failures_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE samsa_producer_queued_messages gauge"), std::string::npos);
  s.producer = {12, 3, 5};
  text = metrics.scrape(board, s);
  EXPECT_EQ(sample(text, "samsa_messages_produced_total"), "12");
  EXPECT_EQ(sample(text, "samsa_produce_failures_total"), "3");
  EXPECT_EQ(sample(text, "samsa_producer_queued_messages"), "5");
}

TEST_F(Fed, BuildInfoAndTheProcessesOwnFigures) {
  const std::string text = scrape();
  EXPECT_EQ(sample(text, std::string("samsa_build_info{librdkafka=\"") + samsa::librdkafka_version() +
                             "\",version=\"" + samsa::kVersion + "\"}"),
            "1")
      << text.substr(0, 400);
  EXPECT_GT(std::stod(sample(text, "process_resident_memory_bytes")), 1e6);
  EXPECT_GT(std::stod(sample(text, "process_open_fds")), 2);
  EXPECT_GE(std::stod(sample(text, "process_cpu_seconds_total")), 0.0);
}

TEST_F(Fed, PromtoolAcceptsTheExposition) {
  const std::string path = ::testing::TempDir() + "samsa_metrics.txt";
  std::ofstream(path) << scrape();
  // promtool comes with Debian's prometheus package (scripts/install-deps installs it).
  const int rc = std::system(("promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str());
  std::ifstream out(path + ".out");
  const std::string said((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  ASSERT_EQ(rc, 0) << "promtool check metrics failed (is promtool installed? scripts/install-deps): " << said;
}

}  // namespace
}  // namespace samsa::ops
