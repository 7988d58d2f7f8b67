// Proves the installed package works for users: headers, link, and a valid app; and that
// samsa::testing links and runs (an embedded broker, a topic created on it and read back).
#include <samsa/samsa.hpp>
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
  return partitions == 3 ? 0 : 1;
}
