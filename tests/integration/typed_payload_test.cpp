// Typed payloads on a broker: a route with deserializer<T>, consumers that read
// payload<T>(), a payload the deserializer refuses taking the consume error path to the
// dead-letter topic; consumers made by a factory with their dependencies. Committed offsets
// are read back from the group coordinator, dead letters from their topic.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace samsa::test {
namespace {

// A decoded order: move-only, as a protobuf message held by pointer or a unique resource.
struct Order {
  std::int64_t id = -1;
  std::unique_ptr<std::string> customer;
};

// "order:<id>:<customer>" -> Order; anything else is refused as a DeserializationError.
Order parse_order(const Message& m) {
  const std::string_view raw = m.raw_payload();
  const auto colon = raw.find(':', 6);
  if (!raw.starts_with("order:") || colon == std::string_view::npos)
    throw DeserializationError(m.topic(), m.partition(), m.offset(), "not an order: no 'order:<id>:<customer>'");
  return Order{std::stoll(std::string(raw.substr(6, colon - 6))), std::make_unique<std::string>(raw.substr(colon + 1))};
}

std::vector<admin::Record> orders(std::int64_t first, std::int64_t count) {
  std::vector<admin::Record> out;
  for (std::int64_t id = first; id < first + count; ++id)
    out.push_back({std::nullopt, "order:" + std::to_string(id) + ":customer" + std::to_string(id % 3), 0});
  return out;
}

using TypedPayload = BrokerTest;

TEST_F(TypedPayload, ARefusedPayloadIsDeadLetteredWithItsDeserializationErrorAndTheGoodOnesAreConsumedTyped) {
  const std::string dlq = topic + "_dlq";
  Broker::get().create_topic(topic, 1);
  Broker::get().create_topic(dlq, 1);
  // In one request, so that the refused payload is in the middle of the batch consume() gets.
  std::vector<admin::Record> records = orders(0, 4);
  records.push_back({std::string("k"), "\x08\x96\x01 not an order", 0});  // offset 4
  for (auto& r : orders(5, 5)) records.push_back(std::move(r));
  admin::produce(Broker::get().bootstrap(), topic, records);

  std::mutex mu;
  std::vector<std::int64_t> handled;  // ids read with payload<Order>(), in order
  std::vector<int> poison_attempts;   // attempt() of each delivery of offset 4
  TestApp t(topic, group, [&](RecordingConsumer& c) {
    for (const Message& m : c.messages()) {
      if (m.offset() == 4) {
        std::lock_guard lock(mu);
        poison_attempts.push_back(c.attempt());
      }
      const Order& order = m.payload<Order>();  // throws for offset 4
      EXPECT_EQ(*order.customer, "customer" + std::to_string(order.id % 3));
      {
        std::lock_guard lock(mu);
        handled.push_back(order.id);
      }
      c.mark_as_consumed(m);  // so that the refused one is the first unmarked message
    }
  });
  t.topic_route().deserializer<Order>(parse_order).dead_letter_queue({.topic = dlq, .max_retries = 2});
  {
    Running running(t.app);
    ASSERT_TRUE(eventually([&] { return committed(group, topic) == 10; })) << "committed " << committed(group, topic);
    EXPECT_EQ(running.stop(), kExitOk);
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(handled, (std::vector<std::int64_t>{0, 1, 2, 3, 5, 6, 7, 8, 9}))
      << "every good order once, in order, none after the refused one before it was dead-lettered";
  EXPECT_EQ(poison_attempts, (std::vector<int>{1, 2, 3})) << "the first delivery and max_retries retries";

  const auto dead = read_messages(dlq, 1);
  ASSERT_EQ(dead.size(), 1u) << "exactly the refused message";
  EXPECT_EQ(dead[0].payload, "\x08\x96\x01 not an order");
  EXPECT_EQ(dead[0].key, std::optional<std::string>("k"));
  EXPECT_EQ(dead[0].headers.at("original_offset"), "4");
  EXPECT_EQ(dead[0].headers.at("original_attempts"), "3");
  EXPECT_EQ(dead[0].headers.at("error_class"), "samsa::DeserializationError");
  const std::string& error = dead[0].headers.at("error_message");
  EXPECT_NE(error.find("cannot deserialize the message at " + topic + "/0@4: not an order"), std::string::npos) << error;
}

TEST_F(TypedPayload, AskingForAnotherTypeFailsTheBatchAndNothingIsMarked) {
  Broker::get().create_topic(topic, 1);
  admin::produce(Broker::get().bootstrap(), topic, orders(0, 3));
  HookFailures failures;
  TestApp t(topic, group, [](RecordingConsumer& c) { (void)c.messages().first().payload(); });  // JSON, not Order
  t.topic_route().deserializer<Order>(parse_order);
  failures.subscribe(t.app);
  Running running(t.app);
  ASSERT_TRUE(eventually([&] { return failures.of("consume") >= 2; })) << "retried after the back-off";
  EXPECT_EQ(running.stop(), kExitOk);
  EXPECT_EQ(committed(group, topic), -1) << "nothing marked";
  std::lock_guard lock(failures.mu);
  EXPECT_NE(failures.errors.front().find("payload() on a message of topic '" + topic +
                                         "', whose route decodes payloads to samsa::test::(anonymous namespace)::Order"),
            std::string::npos)
      << failures.errors.front();
}

// A consumer with a dependency it cannot default-construct: made by the route's factory.
class SinkConsumer : public Consumer {
 public:
  explicit SinkConsumer(std::shared_ptr<std::atomic<std::int64_t>> sum) : sum_(std::move(sum)) {}
  void consume() override {
    for (const Message& m : messages()) *sum_ += m.payload<Order>().id;
  }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> sum_;
};

TEST_F(TypedPayload, AConsumerFactoryBuildsEachPartitionsConsumerWithItsDependencies) {
  Broker::get().create_topic(topic, 2);
  std::vector<admin::Record> records = orders(0, 20);
  for (std::size_t i = 0; i < records.size(); ++i) records[i].partition = static_cast<std::int32_t>(i % 2);
  admin::produce(Broker::get().bootstrap(), topic, records);
  auto sum = std::make_shared<std::atomic<std::int64_t>>(0);
  std::atomic<int> made{0};
  TestApp t(topic, group);
  t.topic_route()
      .consumer([sum, &made] {
        ++made;
        return std::make_unique<SinkConsumer>(sum);
      })
      .deserializer<Order>(parse_order);
  {
    Running running(t.app);
    ASSERT_TRUE(eventually([&] { return committed(group, topic, 0) == 10 && committed(group, topic, 1) == 10; }));
    EXPECT_EQ(running.stop(), kExitOk);
  }
  EXPECT_EQ(sum->load(), 190) << "0 + 1 + ... + 19, each order once";
  EXPECT_GE(made, 2) << "one consumer per assigned partition";
}

TEST_F(TypedPayload, AFactoryThatReturnsNoConsumerStopsTheAppWithAnError) {
  Broker::get().create_topic(topic, 1);
  admin::produce(Broker::get().bootstrap(), topic, orders(0, 1));
  auto logger = std::make_shared<CapturingLogger>();
  TestApp t(topic, group);
  t.app.logger(logger);
  t.topic_route().consumer([] { return std::unique_ptr<Consumer>(); });
  Running running(t.app);
  EXPECT_EQ(running.wait(60s), std::optional<int>(kExitFatal));
  EXPECT_FALSE(logger->grep("the consumer factory of topic '" + topic + "' returned no consumer").empty());
  EXPECT_EQ(committed(group, topic), -1);
}

}  // namespace
}  // namespace samsa::test
