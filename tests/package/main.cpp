// Proves the installed package works for users: headers, link, and a valid app.
#include <samsa/samsa.hpp>

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
  return 0;
}
