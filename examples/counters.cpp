// counters: the mixing example of Karafka's offset management page. Automatic marking
// stays on (the last message of each batch is marked when consume() returns), and the
// consumer also marks every 10th
// message by hand, so a failure in the middle of a big batch does not re-deliver the
// part that was already counted.
//
//   counters server --brokers 127.0.0.1:9092
#include <samsa/samsa.hpp>

#include <atomic>

namespace {

std::atomic<long> total{0};

class CountersConsumer : public samsa::Consumer {
 public:
  void consume() override {
    std::size_t index = 0;
    for (const auto& message : messages()) {
      // Some business logic here.
      ++total;
      // Commit every 10 messages processed.
      if (index % 10 == 0) mark_as_consumed(message);
      ++index;
    }
  }

  void tick() override {
    logger().info(topic() + "/" + std::to_string(partition()) + ": " + std::to_string(total.load()) +
                  " messages counted in this process");
  }
};

}  // namespace

int main(int argc, char** argv) {
  samsa::App app;
  app.setup([](samsa::Settings& config) { config.client_id = "counters"; });
  app.routes([](samsa::Routes& routes) {
    routes.consumer_group("counters").topic("user_events").consumer<CountersConsumer>();
  });
  return app.run(argc, argv);
}
