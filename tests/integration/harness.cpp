#include "harness.hpp"

#include <cstdlib>
#include <random>

namespace samsa::test {

Broker& Broker::get() {
  static Broker broker;
  return broker;
}

namespace {

// "k=v;k=v" -> {k: v}. A malformed entry stops the tests: a property silently dropped would
// run them against the wrong listener.
std::map<std::string, std::string> parse_properties(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(';', start), text.size());
    const std::string item = text.substr(start, end - start);
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::runtime_error("SAMSA_TEST_KAFKA_PROPERTIES: '" + item + "' is not KEY=VALUE");
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

Broker::Broker() {
  if (const char* env = std::getenv("SAMSA_TEST_KAFKA_PROPERTIES"); env && *env) properties_ = parse_properties(env);
  if (const char* env = std::getenv("SAMSA_TEST_BROKERS"); env && *env) {
    bootstrap_ = env;
  } else if (const char* req = std::getenv("SAMSA_REQUIRE_REAL_KAFKA");
             (req && *req == '1') || test_group_protocol() == GroupProtocol::consumer) {
    throw std::runtime_error(
        "these tests need real Kafka and SAMSA_TEST_BROKERS is not set: run them with "
        "`make test-kafka` (it starts one with scripts/kafka-local)");
  } else {
    if (!properties_.empty())
      throw std::runtime_error("SAMSA_TEST_KAFKA_PROPERTIES is set but SAMSA_TEST_BROKERS is not: the embedded "
                               "broker speaks PLAINTEXT only");
    embedded_ = std::make_unique<testing::EmbeddedBroker>(1);
    bootstrap_ = embedded_->bootstrap_servers();
  }
}

void Broker::create_topic(const std::string& topic, int partitions) {
  if (embedded_)
    embedded_->create_topic(topic, partitions);
  else
    admin::create_topics(cluster(), {{topic, partitions, 1}});
}

std::vector<std::string> test_kafka_args() {
  std::vector<std::string> out;
  for (const auto& [key, value] : Broker::get().properties()) {
    out.push_back("--set");
    out.push_back("kafka." + key + "=" + value);
  }
  return out;
}

std::string unique_name(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  std::string name = prefix;
  if (auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += "-";
    name += info->name();
  }
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  return name + "-" + std::to_string(rng() % 1000000000);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

GroupProtocol test_group_protocol() {
  const char* env = std::getenv("SAMSA_TEST_GROUP_PROTOCOL");
  return env && std::string_view(env) == "consumer" ? GroupProtocol::consumer : GroupProtocol::classic;
}

std::map<std::string, std::string> fast_kafka() {
  std::map<std::string, std::string> props = Broker::get().properties();
  props["bootstrap.servers"] = Broker::get().bootstrap();
  props["auto.commit.interval.ms"] = "200";
  props["fetch.wait.max.ms"] = "50";
  // A 1 s metadata refresh on real Kafka only, where a topic created after the app
  // subscribed must be seen soon (BadInput.AMissingTopicIsReportedAndConsumedOnceItExists).
  // The embedded broker creates every topic a client names, and there a periodic refresh
  // can keep a group from forming: librdkafka (2.0.2 and 2.14.2 alike) makes the group
  // leader join again when a periodic refresh is answered while it waits for its assignor's
  // metadata (between the JoinGroup answer and SyncGroup), and the mock answers the first
  // JoinGroup 3 s after it and every later one 5 s after it (session.timeout.ms - 1 s):
  // whole seconds, in step with a 1 s refresh started with the client. On a loaded machine
  // the refresh answer came second often enough to join again four times running, and
  // Offsets.TickLetsAQuietPartitionFlushItsBuffer saw no assignment in 20 s. librdkafka's
  // default (5 min) does not refresh within a test.
  if (!Broker::get().embedded()) props["topic.metadata.refresh.interval.ms"] = "1000";
  // Under KIP-848 the broker owns the session and the heartbeats (scripts/kafka-local sets
  // short ones); librdkafka refuses these two.
  if (test_group_protocol() == GroupProtocol::classic) {
    props["session.timeout.ms"] = "6000";
    props["heartbeat.interval.ms"] = "500";
  }
  return props;
}

std::int64_t committed(const std::string& group, const std::string& topic, int partition) {
  return admin::committed_offset(Broker::get().cluster(), group, topic, partition);
}

std::string committed_metadata(const std::string& group, const std::string& topic, int partition) {
  for (const auto& row : admin::group_offsets(Broker::get().cluster(), group, {topic}))
    if (row.partition == partition) return row.metadata;
  throw std::runtime_error("no partition " + std::to_string(partition) + " in " + topic);
}

void produce(const std::string& topic, std::int64_t first, std::int64_t count, int partitions) {
  admin::produce_events(Broker::get().cluster(), topic, first, count, partitions);
}

std::vector<ReadMessage> read_messages(const std::string& topic, std::size_t count, std::chrono::milliseconds timeout,
                                       bool read_committed) {
  std::mutex mu;
  std::vector<ReadMessage> out;
  TestApp reader(topic, unique_name("reader"), [&](RecordingConsumer& c) {
    std::lock_guard lock(mu);
    for (const auto& m : c.messages()) {
      ReadMessage r{m.partition(), m.offset(), m.has_key() ? std::optional<std::string>(m.key()) : std::nullopt,
                    std::string(m.raw_payload()), {}};
      for (const auto& h : m.headers()) r.headers[std::string(h.name)] = std::string(h.value.value_or(""));
      out.push_back(std::move(r));
    }
  });
  reader.app.logger(std::make_shared<CapturingLogger>());
  reader.group_route().kafka("isolation.level", read_committed ? "read_committed" : "read_uncommitted");
  {
    Running running(reader.app);
    eventually([&] {
      std::lock_guard lock(mu);
      return out.size() >= count;
    }, timeout);
    std::this_thread::sleep_for(500ms);  // an extra message would show
    running.stop();
  }
  std::lock_guard lock(mu);
  return out;
}

std::vector<std::int64_t> Probe::offsets(std::int32_t partition) const {
  std::lock_guard lock(mu);
  std::vector<std::int64_t> out;
  for (const auto& d : deliveries)
    if (d.partition == partition) out.push_back(d.offset);
  return out;
}

void RecordingConsumer::consume() {
  {
    std::lock_guard lock(probe_.mu);
    probe_.batch_sizes.push_back(messages().size());
    for (const auto& m : messages()) probe_.deliveries.push_back({m.partition(), m.offset()});
  }
  if (consume_) consume_(*this);
  probe_.consumed += static_cast<int>(messages().size());
}

Running::Running(App& app, ServeOptions options) : app_(app) {
  thread_ = std::thread([this, options] {
    try {
      code_ = app_.serve(options);
    } catch (const std::exception& e) {
      error_ = e.what();
      code_ = -2;
    }
    done_ = true;
  });
  // serve() validates and builds the consumers before it can be stopped.
  eventually([&] { return app_.running() || done_.load(); }, 10s);
}

Running::~Running() {
  if (thread_.joinable()) stop();
}

int Running::stop() {
  app_.stop();
  if (thread_.joinable()) thread_.join();
  if (!error_.empty()) ADD_FAILURE() << "serve() threw: " << error_;
  return code_;
}

std::optional<int> Running::wait(std::chrono::milliseconds timeout) {
  if (!eventually([&] { return done_.load(); }, timeout)) return std::nullopt;
  thread_.join();
  return code_;
}

TestApp::TestApp(std::string t, std::string g, RecordingConsumer::Behaviour consume,
                 RecordingConsumer::Behaviour before_stop, RecordingConsumer::Behaviour tick)
    : topic(std::move(t)), group(std::move(g)) {
  app.setup([](Settings& s) {
    s.kafka = fast_kafka();
    s.group_protocol = test_group_protocol();
    s.max_wait_time = 200ms;
    s.shutdown_timeout = 30s;
    s.tick_interval = 200ms;
    s.concurrency = 2;
    s.pause_timeout = 100ms;
    s.pause_max_timeout = 400ms;
  });
  group_route().topic(topic).consumer([this, consume, before_stop, tick] {
    auto c = std::make_unique<RecordingConsumer>(probe, consume, before_stop, tick);
    c->hooks = &hooks;
    return std::unique_ptr<Consumer>(std::move(c));
  });
}

}  // namespace samsa::test
