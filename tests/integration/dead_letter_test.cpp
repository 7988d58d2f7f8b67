// Dead letters, retries, the producer and the consumer's pause/seek, on a broker: what is
// dispatched is read back from the dead-letter topic, committed offsets from the group
// coordinator.
#include <cstdint>
#include <set>
#include <stdexcept>

#include "harness.hpp"

namespace samsa::test {
namespace {

// Message by message with automatic marking: the partition's first unmarked message is
// the one that throws.
struct PoisonApp : TestApp {
  std::mutex mu;
  std::map<std::int64_t, std::vector<int>> attempts;  // offset -> attempt() of each delivery
  PoisonApp(const std::string& topic, const std::string& group, std::set<std::int64_t> poison)
      : TestApp(topic, group, [this, poison](RecordingConsumer& c) {
          const Message& m = c.messages().first();
          {
            std::lock_guard lock(mu);
            attempts[m.offset()].push_back(c.attempt());
          }
          if (poison.count(m.offset())) throw std::domain_error("cannot handle event " + std::to_string(m.offset()));
        }) {
    app.settings().batch_fetching = false;
    app.settings().pause_timeout = 50ms;
    app.settings().pause_max_timeout = 50ms;
  }
  std::vector<int> of(std::int64_t offset) {
    std::lock_guard lock(mu);
    return attempts[offset];
  }
};

class DeadLetterQueue : public BrokerTest {};

TEST_F(DeadLetterQueue, APoisonMessageGoesToTheDeadLetterTopicAfterMaxRetriesAndThePartitionGoesOn) {
  const std::string dlq = topic + "_dlq";
  Broker::get().create_topic(topic, 1);
  Broker::get().create_topic(dlq, 1);
  produce(topic, 0, 10);
  PoisonApp t(topic, group, {4});
  t.topic_route().dead_letter_queue({.topic = dlq, .max_retries = 2});
  {
    Running running(t.app);
    ASSERT_TRUE(eventually([&] { return committed(group, topic) == 10; })) << "committed " << committed(group, topic);
    EXPECT_EQ(running.stop(), kExitOk);
  }
  EXPECT_EQ(t.of(4), (std::vector<int>{1, 2, 3})) << "the first delivery and max_retries retries";
  for (std::int64_t o = 0; o < 10; ++o) {
    if (o != 4) {
      EXPECT_EQ(t.of(o), (std::vector<int>{1})) << "offset " << o << ": once, nothing else retried";
    }
  }
  const auto dead = read_messages(dlq, 1);
  ASSERT_EQ(dead.size(), 1u) << "exactly the poison message";
  EXPECT_EQ(dead[0].payload.find("\"id\":4"), 1u) << dead[0].payload;
  EXPECT_EQ(dead[0].headers.at("original_topic"), topic);
  EXPECT_EQ(dead[0].headers.at("original_partition"), "0");
  EXPECT_EQ(dead[0].headers.at("original_offset"), "4");
  EXPECT_EQ(dead[0].headers.at("original_consumer_group"), group);
  EXPECT_EQ(dead[0].headers.at("original_attempts"), "3");
  EXPECT_EQ(dead[0].headers.at("error_class"), "std::domain_error");
  EXPECT_EQ(dead[0].headers.at("error_message"), "cannot handle event 4");
  EXPECT_GT(std::stoll(dead[0].headers.at("original_timestamp")), 0);
}

TEST_F(DeadLetterQueue, WhileTheDeadLetterTopicIsAwayNothingIsMarkedAndThePartitionWaitsThenGoesOn) {
  const std::string dlq = topic + "_dlq";
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 6);
  PoisonApp t(topic, group, {2});
  t.topic_route().dead_letter_queue({.topic = dlq, .max_retries = 0});
  // Real Kafka: the dead-letter topic does not exist and may not be created by the
  // producer, so each dispatch fails after 1.5 s until the test creates it. The embedded
  // broker creates any topic a producer names: its first two Produce requests are refused
  // instead (TOPIC_AUTHORIZATION_FAILED, a permanent error).
  const bool embedded = Broker::get().embedded();
  if (embedded) {
    Broker::get().create_topic(dlq, 1);
    Broker::get().mock().push_request_errors(0 /* Produce */, {29, 29});
  }
  t.app.settings().set("producer.kafka.allow.auto.create.topics", "false");
  t.app.settings().set("producer.kafka.message.timeout.ms", "1500");
  auto logger = std::make_shared<CapturingLogger>();
  t.app.logger(logger);
  Running running(t.app);
  ASSERT_TRUE(eventually([&] { return logger->grep("could not go to dead-letter topic").size() >= 2; }))
      << "the dispatch failed twice";
  EXPECT_LE(committed(group, topic), 2) << "nothing at or past the poison message is committed";
  EXPECT_TRUE(t.of(3).empty()) << "the partition does not go past it";
  if (!embedded) Broker::get().create_topic(dlq, 1);
  ASSERT_TRUE(eventually([&] { return committed(group, topic) == 6; })) << "once the topic exists, it goes on";
  EXPECT_EQ(running.stop(), kExitOk);
  EXPECT_GE(t.of(2).size(), 3u) << "it kept retrying meanwhile";
  const auto dead = read_messages(dlq, 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].headers.at("original_offset"), "2");
  for (std::int64_t o : {3, 4, 5}) EXPECT_EQ(t.of(o), (std::vector<int>{1})) << o;
}

TEST_F(DeadLetterQueue, WithoutDispatchThePoisonMessageIsSkippedAfterMaxRetries) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 5);
  PoisonApp t(topic, group, {1, 3});
  t.topic_route().dead_letter_queue({.topic = "", .max_retries = 1, .dispatch = false});
  auto logger = std::make_shared<CapturingLogger>();
  t.app.logger(logger);
  {
    Running running(t.app);
    ASSERT_TRUE(eventually([&] { return committed(group, topic) == 5; }));
    EXPECT_EQ(running.stop(), kExitOk);
  }
  EXPECT_EQ(t.of(1), (std::vector<int>{1, 2}));
  EXPECT_EQ(t.of(3), (std::vector<int>{1, 2}));
  EXPECT_EQ(logger->grep("skipped without dispatch").size(), 2u);
}

class ProducerTest : public BrokerTest {};

TEST_F(ProducerTest, ProducesWithKeysAndHeadersAndReportsEachDelivery) {
  Broker::get().create_topic(topic, 2);
  TestApp t(topic, group);
  Producer& producer = t.app.producer();
  const DeliveryReport first = producer.produce_sync(topic, "k1", "one", {{"trace", "abc"}});
  EXPECT_TRUE(first.ok()) << first.error;
  EXPECT_EQ(first.topic, topic);
  EXPECT_GE(first.offset, 0);
  std::vector<std::future<DeliveryReport>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(producer.produce(topic, std::to_string(i), "v" + std::to_string(i)));
  std::atomic<int> called{0};
  producer.produce({topic, std::nullopt, std::nullopt, {}, 1}, [&](const DeliveryReport& r) {
    if (r.ok() && r.partition == 1) ++called;
  });
  for (auto& f : futures) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(producer.flush(10s), 0u);
  EXPECT_EQ(called, 1) << "the callback ran for the tombstone on partition 1";
  const auto read = read_messages(topic, 22);
  ASSERT_EQ(read.size(), 22u);
  int with_header = 0, tombstones = 0;
  for (const auto& m : read) {
    if (m.key == "k1" && m.payload == "one" && m.headers.count("trace") && m.headers.at("trace") == "abc") ++with_header;
    if (!m.key && m.payload.empty()) ++tombstones;
  }
  EXPECT_EQ(with_header, 1);
  EXPECT_EQ(tombstones, 1);
}

TEST_F(ProducerTest, AMessageThatCannotBeDeliveredIsReportedAndThrownBySync) {
  Broker::get().create_topic(topic, 1);
  TestApp t(topic, group);
  t.app.settings().set("producer.kafka.message.timeout.ms", "1500");
  Producer& producer = t.app.producer();
  const DeliveryReport r = producer.produce({topic, "k", "v", {}, 7}).get();  // no partition 7
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("UNKNOWN_PARTITION"), std::string::npos) << r.error;
  try {
    producer.produce_sync({topic, "k", "v", {}, 7});
    ADD_FAILURE() << "produce_sync threw nothing";
  } catch (const ProduceError& e) {
    EXPECT_NE(std::string(e.what()).find(topic), std::string::npos) << e.what();
  }
}

class ConsumerControl : public BrokerTest {};

TEST_F(ConsumerControl, ASeekForwardSkipsAndThePauseRedeliversAfterItsDuration) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 30);
  std::atomic<bool> sought{false}, paused{false};
  std::atomic<int> refused{0};
  std::mutex mu;
  std::chrono::steady_clock::time_point paused_at{}, back_at{};
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    const std::int64_t first = c.messages().first().offset();
    if (!sought.exchange(true)) {
      ASSERT_TRUE(c.seek(std::int64_t{20}));                     // skip ahead: 0..19 are not wanted
      if (!c.mark_as_consumed(c.messages().first())) ++refused;  // before the new position
      return;
    }
    if (first >= 20 && !paused.exchange(true)) {
      std::lock_guard lock(mu);
      paused_at = std::chrono::steady_clock::now();
      ASSERT_TRUE(c.pause(std::int64_t{25}, 1s));
      c.mark_as_consumed(std::int64_t{24});  // what it handled before the pause stays marked
      return;
    }
    for (const auto& m : c.messages())
      if (m.offset() == 25) {
        std::lock_guard lock(mu);
        if (back_at == std::chrono::steady_clock::time_point{}) back_at = std::chrono::steady_clock::now();
      }
  });
  t.app.settings().max_messages = 30;
  {
    Running running(t.app);
    ASSERT_TRUE(eventually([&] { return committed(group, topic) == 30; })) << committed(group, topic);
    EXPECT_EQ(running.stop(), kExitOk);
  }
  EXPECT_EQ(refused, 1);
  std::set<std::int64_t> after_seek;
  const auto got = t.probe.offsets(0);
  for (std::size_t i = 0; i < got.size(); ++i)
    if (i >= 30 || got[i] >= 20) after_seek.insert(got[i]);
  for (std::int64_t o = 20; o < 30; ++o) EXPECT_TRUE(after_seek.count(o)) << o;
  std::lock_guard lock(mu);
  ASSERT_NE(back_at, std::chrono::steady_clock::time_point{});
  EXPECT_GE(back_at - paused_at, 1s) << "offset 25 came back only after the pause";
}

}  // namespace
}  // namespace samsa::test
