// Proves the installed package works for users: headers, link, and a valid app; and that
// samsa::testing links and runs (an embedded broker, a topic created on it and read back; the
// testing kit consuming two messages and committing them).
#include <samsa/samsa.hpp>
#include <samsa/testing/consumer_test.hpp>
#include <samsa/testing/embedded_broker.hpp>

#include <iostream>

namespace {
struct EventsConsumer : samsa::Consumer {
  void consume() override {
    for (const auto& m : messages()) mark_as_consumed(m);
  }
};
}  // namespace

int main() {
  samsa::App app;
  app.setup([](samsa::Settings& s) { s.kafka["bootstrap.servers"] = "127.0.0.1:9092"; });
  app.routes([](samsa::Routes& r) { r.consumer_group("events").topic("user_events").consumer<EventsConsumer>(); });
  app.validate();
  std::cout << "package_consumer: samsa " << samsa::kVersion << " on librdkafka "
            << samsa::librdkafka_version() << ", routes valid\n";

  samsa::testing::EmbeddedBroker broker;
  broker.create_topic("user_events", 3);
  const int partitions = samsa::admin::partition_count(broker.bootstrap_servers(), "user_events");
  std::cout << "package_consumer: embedded broker at " << broker.bootstrap_servers()
            << ", user_events has " << partitions << " partitions\n";
  samsa::testing::ConsumerTest test;
  test.routes([](samsa::Routes& r) { r.consumer_group("events").topic("user_events").consumer<EventsConsumer>(); });
  test.produce("user_events", "one");
  test.produce("user_events", "two");
  test.consume();
  const int code = test.stop();
  std::cout << "package_consumer: ConsumerTest committed " << test.committed("user_events") << ", exit code " << code
            << "\n";
  return partitions == 3 && code == samsa::kExitOk && test.committed("user_events") == 2 ? 0 : 1;
}
