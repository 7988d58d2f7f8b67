// Bad input: each gets a clear error or a documented path, never a crash and never a
// skipped or silently committed message. (The poison message is in lifecycle_test.)
#include "harness.hpp"

namespace samsa::test {
namespace {

using BadInput = BrokerTest;

// Collects log lines, to check what an operator would read.
class CapturingLogger : public Logger {
 public:
  void write(LogLevel level, std::string_view message) override {
    std::lock_guard lock(mu_);
    lines_.emplace_back(level, std::string(message));
  }
  bool contains(LogLevel at_least, const std::string& text) const {
    std::lock_guard lock(mu_);
    for (const auto& [level, line] : lines_)
      if (level >= at_least && line.find(text) != std::string::npos) return true;
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

TEST_F(BadInput, AnEmptyPayloadIsDeliveredAsAnEmptyViewAndItsJsonIsAClearError) {
  Broker::get().create_topic(topic, 1);
  admin::produce(Broker::get().cluster(), topic, {{std::nullopt, "", 0}, {std::string("k"), "{\"id\":1}", 0}});
  std::atomic<bool> empty_seen{false};
  std::string json_error;
  std::mutex mu;
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    for (const auto& m : c.messages())
      if (m.offset() == 0) {
        empty_seen = m.raw_payload().empty() && !m.has_key();
        try {
          (void)m.payload();
        } catch (const DeserializationError& e) {
          std::lock_guard lock(mu);
          json_error = e.what();
        }
      }
  });
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 2; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_TRUE(empty_seen);
  EXPECT_NE(json_error.find("payload is empty"), std::string::npos) << json_error;
  EXPECT_EQ(committed(group, topic), 2);
}

TEST_F(BadInput, AHugePayloadIsDeliveredWhole) {
  Broker::get().create_topic(topic, 1);
  const std::string huge(900 * 1024, 'x');
  admin::produce(Broker::get().cluster(), topic, {{std::nullopt, huge, 0}});
  std::atomic<std::size_t> size{0};
  TestApp t(topic, group, [&](RecordingConsumer& c) { size = c.messages().first().raw_payload().size(); });
  Running run(t.app);
  ASSERT_TRUE(eventually([&] { return t.probe.consumed >= 1; }));
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_EQ(size.load(), huge.size());
  EXPECT_EQ(committed(group, topic), 1);
}

TEST_F(BadInput, AMissingTopicIsReportedAndConsumedOnceItExists) {
  if (Broker::get().embedded())
    GTEST_SKIP() << "the embedded broker auto-creates every topic a client names";
  auto logger = std::make_shared<CapturingLogger>();
  TestApp t(topic, group);
  t.app.logger(logger);
  Running run(t.app);
  EXPECT_TRUE(eventually([&] { return logger->contains(LogLevel::warn, "does not exist"); }, 20s))
      << "the operator is told the topic is missing";
  EXPECT_TRUE(logger->contains(LogLevel::warn, "`samsa_integration_tests topics create`"))
      << "the hint names this program's own command";
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 5);
  EXPECT_TRUE(eventually([&] { return committed(group, topic) == 5; }, 60s)) << committed(group, topic);
  EXPECT_EQ(run.stop(), kExitOk);
}

TEST_F(BadInput, ABrokerThatDoesNotAnswerIsReportedAndTheAppStillStopsCleanly) {
  auto logger = std::make_shared<CapturingLogger>();
  TestApp t(topic, group);
  t.app.logger(logger);
  t.app.settings().kafka["bootstrap.servers"] = "127.0.0.1:1";
  t.app.settings().shutdown_timeout = 20s;
  Running run(t.app);
  EXPECT_TRUE(eventually([&] { return logger->contains(LogLevel::error, "127.0.0.1:1"); }, 20s))
      << "the unreachable address is named in an error";
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(run.stop(), kExitOk);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
  EXPECT_EQ(t.probe.consumed, 0);
}

}  // namespace
}  // namespace samsa::test
