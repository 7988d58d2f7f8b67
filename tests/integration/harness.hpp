#pragma once
// What the integration tests share: the broker under test, unique names, an app running
// on a background thread, a recording consumer, and reading offsets back from the broker.
//
// The broker: real Apache Kafka when SAMSA_TEST_BROKERS is set (make test starts one with
// scripts/kafka-local), else an embedded broker started once per test binary. Every test
// gets its own topic and consumer group, so tests never see each other's data.
//
// A secure listener: SAMSA_TEST_KAFKA_PROPERTIES="security.protocol=SSL;ssl.ca.location=F"
// (librdkafka properties, KEY=VALUE separated by ';') reaches every client the tests make:
// the apps' settings.kafka (fast_kafka), the admin functions (Broker::cluster), the apps'
// command lines (test_kafka_args). make test's secure step sets it (scripts/run-tests secure).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "samsa/samsa.hpp"
#include "samsa/testing/embedded_broker.hpp"

namespace samsa::test {

using namespace std::chrono_literals;

class Broker {
 public:
  static Broker& get();
  const std::string& bootstrap() const { return bootstrap_; }
  /// The broker with the properties of SAMSA_TEST_KAFKA_PROPERTIES: what every admin call
  /// of the tests takes, so that it reaches a TLS or SASL listener as the apps do.
  admin::Cluster cluster() const { return {bootstrap_, properties_}; }
  /// SAMSA_TEST_KAFKA_PROPERTIES, parsed (empty when unset).
  const std::map<std::string, std::string>& properties() const { return properties_; }
  bool embedded() const { return embedded_ != nullptr; }
  testing::EmbeddedBroker& mock() { return *embedded_; }
  void create_topic(const std::string& topic, int partitions);

 private:
  Broker();
  std::unique_ptr<testing::EmbeddedBroker> embedded_;
  std::string bootstrap_;
  std::map<std::string, std::string> properties_;
};

/// The test properties as an app's command-line arguments: "--set", "kafka.KEY=VALUE", ...
std::vector<std::string> test_kafka_args();

/// "<prefix>-<test name>-<random>": unique per test and per run.
std::string unique_name(const std::string& prefix);

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 60s);

/// The group protocol the tests run under: $SAMSA_TEST_GROUP_PROTOCOL (classic or consumer).
GroupProtocol test_group_protocol();

/// librdkafka settings for fast tests: short sessions, frequent auto-commits; and the
/// properties of SAMSA_TEST_KAFKA_PROPERTIES.
std::map<std::string, std::string> fast_kafka();

/// The committed offset of group/topic/partition read back from the broker (-1: none).
std::int64_t committed(const std::string& group, const std::string& topic, int partition = 0);

/// The offset metadata committed with it (empty: none).
std::string committed_metadata(const std::string& group, const std::string& topic, int partition = 0);

/// Produces `count` JSON events {"id": first..} round robin over `partitions` partitions.
void produce(const std::string& topic, std::int64_t first, std::int64_t count, int partitions = 1);

/// A message read back from a topic, copied.
struct ReadMessage {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;
  std::string payload;
  std::map<std::string, std::string> headers;  // the last value of each name
};
/// Reads `count` messages of `topic` (all partitions, from the beginning) with a consumer
/// group of its own, waiting up to `timeout`; returns what it read by then (and a little
/// longer, so that an extra message shows).
/// `read_committed`: as a read_committed reader (isolation.level), which sees no message of
/// an aborted or still open transaction; else read_uncommitted, which sees them all.
std::vector<ReadMessage> read_messages(const std::string& topic, std::size_t count,
                                       std::chrono::milliseconds timeout = 60s, bool read_committed = false);

/// What consumers saw, shared by every instance of a test's consumers.
struct Probe {
  struct Delivery {
    std::int32_t partition;
    std::int64_t offset;
  };
  mutable std::mutex mu;
  std::vector<Delivery> deliveries;           // every consume() message, in order
  std::vector<std::size_t> batch_sizes;       // size of each consume() call
  std::map<std::string, int> hooks;           // hook name -> calls
  std::atomic<int> consumed{0};

  void record_hook(const std::string& name) {
    std::lock_guard lock(mu);
    ++hooks[name];
  }
  int hook_calls(const std::string& name) const {
    std::lock_guard lock(mu);
    auto it = hooks.find(name);
    return it == hooks.end() ? 0 : it->second;
  }
  std::vector<std::int64_t> offsets(std::int32_t partition) const;
  std::size_t count_deliveries() const {
    std::lock_guard lock(mu);
    return deliveries.size();
  }
};

/// A consumer that records into a Probe and runs the test's behaviour. Its marking methods
/// are public so behaviours can call them.
class RecordingConsumer : public Consumer {
 public:
  using Behaviour = std::function<void(RecordingConsumer&)>;
  RecordingConsumer(Probe& probe, Behaviour consume, Behaviour before_stop = {}, Behaviour tick = {})
      : probe_(probe), consume_(std::move(consume)), before_stop_(std::move(before_stop)), tick_(std::move(tick)) {}

  void consume() override;
  void initialized() override { hook("initialized"); }
  void after_fetch() override { hook("after_fetch"); }
  void before_poll() override { hook("before_poll"); }
  void after_poll() override { hook("after_poll"); }
  void revoked() override { hook("revoked"); }
  void before_stop() override {
    hook("before_stop");
    if (before_stop_) before_stop_(*this);
  }
  void tick() override {
    hook("tick");
    if (tick_) tick_(*this);
  }

  using Consumer::attempt;
  using Consumer::commit_offsets;
  using Consumer::commit_offsets_sync;
  using Consumer::pause;
  using Consumer::pause_consecutive;
  using Consumer::resume;
  using Consumer::retrying;
  using Consumer::seek;
  using Consumer::committed_offset_metadata;
  using Consumer::mark_as_consumed;
  using Consumer::mark_as_consumed_sync;
  using Consumer::messages;
  using Consumer::owned;
  using Consumer::partition;
  using Consumer::topic;
  using Consumer::transaction;

  /// Per-instance state for behaviours (e.g. a buffer of offsets).
  std::vector<std::int64_t> buffer;
  int failures = 0;
  bool ready = false;

  /// Behaviours for the other hooks by name ("initialized", "after_poll", ...), shared by
  /// every instance; set before serve().
  const std::map<std::string, Behaviour>* hooks = nullptr;

 private:
  void hook(const char* name) {
    probe_.record_hook(name);
    if (hooks)
      if (auto it = hooks->find(name); it != hooks->end()) it->second(*this);
  }
  Probe& probe_;
  Behaviour consume_, before_stop_, tick_;
};

/// A logger that keeps every line (and writes nothing), for tests of what is logged.
class CapturingLogger : public Logger {
 public:
  void write(LogLevel, std::string_view message) override {
    std::lock_guard lock(mu_);
    lines_.emplace_back(message);
  }
  LogLevel level() const override { return LogLevel::info; }
  /// Lines containing `text`.
  std::vector<std::string> grep(const std::string& text) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& l : lines_)
      if (l.find(text) != std::string::npos) out.push_back(l);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

/// Records the hook_failed events of an app: hook name -> count.
struct HookFailures {
  mutable std::mutex mu;
  std::map<std::string, int> count;
  std::vector<std::string> errors;
  void subscribe(App& app) {
    app.monitor().subscribe_inline([this](const Event& e) {
      if (e.type != EventType::hook_failed) return;
      std::lock_guard lock(mu);
      ++count[e.hook];
      errors.push_back(e.error);
    });
  }
  int of(const std::string& hook) const {
    std::lock_guard lock(mu);
    auto it = count.find(hook);
    return it == count.end() ? 0 : it->second;
  }
};

/// A test with its own topic and consumer group.
class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    topic = unique_name("t");
    group = unique_name("g");
  }
  std::string topic, group;
};

/// Runs app.serve() on a thread; stop() asks for a graceful shutdown and returns the
/// exit code. The destructor stops a still-running app.
class Running {
 public:
  explicit Running(App& app, ServeOptions options = {});
  ~Running();
  int stop();
  /// Waits for serve() to return by itself (e.g. after a fatal error); returns its code.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  App& app_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  int code_ = -1;
  std::string error_;
};

/// An app with fast test settings, one group `group` with `topic` routed to a
/// RecordingConsumer.
struct TestApp {
  // Declared before the app: ~App waits for jobs still running, which use the probe.
  Probe probe;
  std::string topic, group;
  App app;
  TestApp(std::string topic, std::string group, RecordingConsumer::Behaviour consume = {},
          RecordingConsumer::Behaviour before_stop = {}, RecordingConsumer::Behaviour tick = {});
  /// Behaviours for the hooks without a constructor argument (see RecordingConsumer::hooks).
  std::map<std::string, RecordingConsumer::Behaviour> hooks;
  ConsumerGroupRoute& group_route() { return app.routes().consumer_group(group); }
  TopicRoute& topic_route() { return group_route().topic(topic); }
};

}  // namespace samsa::test
