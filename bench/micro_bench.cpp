// Micro-benchmarks of Samsa's hot path (Google Benchmark): marking, building a batch,
// payload access, JSON parsing. In-process, no broker: the listener runs on the fake client
// of the unit tests (tests/support), never started.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "fake_consumer_client.hpp"
#include "runtime/consumer_access.hpp"
#include "runtime/listener.hpp"
#include "runtime/message_access.hpp"
#include "runtime/partition.hpp"
#include "runtime/worker_pool.hpp"

namespace {

class NullLogger : public samsa::Logger {
 public:
  void write(samsa::LogLevel, std::string_view) override {}
  samsa::LogLevel level() const override { return samsa::LogLevel::error; }
};

class MarkingConsumer : public samsa::Consumer {
 public:
  void consume() override {}
  using Consumer::mark_as_consumed;
};

// A listener and one partition of topic "events", with hand-made messages. A mark
// must name a delivered offset (OffsetTracker::check_mark), so the fixture first hands the
// partition a batch, as the listener does, covering offsets 0 to kDelivered.
struct Fixture {
  static constexpr std::int64_t kDelivered = std::int64_t{1} << 40;
  samsa::Settings settings;
  samsa::Routes routes;
  NullLogger logger;
  samsa::Monitor monitor;
  samsa::runtime::WorkerPool pool{1};
  std::unique_ptr<samsa::runtime::Listener> listener;
  std::unique_ptr<samsa::runtime::Partition> partition;
  std::string payload = R"({"id":123456,"created_at_ms":1795812305166,"user":"u-42","type":"click"})";
  using Record = samsa::test::FakeConsumerClient::Record;
  std::vector<Record> records;
  std::vector<samsa::kafka::Fetched> raw;

  explicit Fixture(std::size_t messages = 1000) {
    settings.kafka["bootstrap.servers"] = "127.0.0.1:1";
    settings.kafka["log_level"] = "0";
    settings.automatically_mark_as_consumed = false;  // the delivery below marks nothing
    auto& group = routes.consumer_group("bench");
    group.topic("events").consumer<MarkingConsumer>();
    auto client = std::make_unique<samsa::test::FakeConsumerClient>();
    client->assign({{"events", 0, -1001}});  // so that the partition's stores are taken
    listener = std::make_unique<samsa::runtime::Listener>(settings, group, std::move(client), pool, logger, monitor);
    partition = std::make_unique<samsa::runtime::Partition>(*listener, *group.find("events"),
                                                            samsa::effective(settings, group), 0);
    // records[0..messages) for the cases; the last two are the delivered batch (0, kDelivered).
    records.resize(messages + 2);
    for (std::size_t i = 0; i < records.size(); ++i) {
      records[i].topic = "events";
      records[i].offset = static_cast<std::int64_t>(i);
      records[i].payload = payload;
    }
    records[messages].offset = 0;
    records[messages + 1].offset = kDelivered;
    for (std::size_t i = 0; i < messages; ++i) raw.push_back(samsa::test::FakeConsumerClient::borrowed(records[i]));
    for (std::size_t i = messages; i < records.size(); ++i)
      partition->enqueue(samsa::test::FakeConsumerClient::borrowed(records[i]));
    partition->take_batch(2, SIZE_MAX);
    partition->run_batch();
  }
  void set_offset(std::size_t i, std::int64_t offset) {
    records[i].offset = offset;
    raw[i] = samsa::test::FakeConsumerClient::borrowed(records[i]);
  }
  MarkingConsumer& consumer() { return static_cast<MarkingConsumer&>(partition->consumer()); }
};

// A route's default deserializer (JSON), for the Message views below.
const samsa::AnyDeserializer d = samsa::AnyDeserializer::of<nlohmann::json>(samsa::json_deserializer);

void BM_MarkAsConsumed(benchmark::State& state) {
  Fixture f(1);
  samsa::Message m;
  samsa::detail::MessageAccess::fill(m, f.raw[0], &f.partition->topic(), &d);
  std::int64_t offset = 0;
  for (auto _ : state) {
    f.set_offset(0, offset++);
    samsa::detail::MessageAccess::fill(m, f.raw[0], &f.partition->topic(), &d);
    benchmark::DoNotOptimize(f.consumer().mark_as_consumed(m));
  }
}
BENCHMARK(BM_MarkAsConsumed);

void BM_MarkAsConsumedOnly(benchmark::State& state) {
  // The mark alone, on a message built once (offsets then repeat: a no-op mark).
  Fixture f(1);
  samsa::Message m;
  samsa::detail::MessageAccess::fill(m, f.raw[0], &f.partition->topic(), &d);
  for (auto _ : state) benchmark::DoNotOptimize(f.consumer().mark_as_consumed(m));
}
BENCHMARK(BM_MarkAsConsumedOnly);

void BM_BuildBatchOf1000(benchmark::State& state) {
  Fixture f(1000);
  std::vector<samsa::Message> views(1000);
  for (auto _ : state) {
    for (std::size_t i = 0; i < f.raw.size(); ++i)
      samsa::detail::MessageAccess::fill(views[i], f.raw[i], &f.partition->topic(), &d);
    benchmark::DoNotOptimize(views.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_BuildBatchOf1000);

void BM_PayloadAccess(benchmark::State& state) {
  Fixture f(1000);
  std::vector<samsa::Message> views(1000);
  for (std::size_t i = 0; i < f.raw.size(); ++i)
    samsa::detail::MessageAccess::fill(views[i], f.raw[i], &f.partition->topic(), &d);
  const samsa::Messages batch(views.data(), views.size());
  for (auto _ : state) {
    std::size_t bytes = 0;
    for (const auto& m : batch) bytes += m.raw_payload().size() + static_cast<std::size_t>(m.offset());
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_PayloadAccess);

void BM_JsonPayloadOfAnEvent(benchmark::State& state) {
  Fixture f(1);
  for (auto _ : state) {
    samsa::Message m;
    samsa::detail::MessageAccess::fill(m, f.raw[0], &f.partition->topic(), &d);
    benchmark::DoNotOptimize(m.payload().at("id").get<std::int64_t>());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.payload.size()));
}
BENCHMARK(BM_JsonPayloadOfAnEvent);

}  // namespace

BENCHMARK_MAIN();
