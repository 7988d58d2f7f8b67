// status_page_app: the app tests/ops/status_page_test.py shows on the status page. One
// consumer group, `status_page`, with a partition in each state the page draws:
//  - orders: marks every message it handles; a payload containing "poison" throws, without
//    a dead-letter queue, so its partition keeps retrying (paused with back-off) and the
//    page shows its failure count and last error while the others go on;
//  - audit: a payload containing "hold" pauses its partition at that message for ten
//    minutes (Consumer::pause), so the page shows a consumer pause and its lag growing.
// Each consumer marks message by message, so that the committed offset the test expects
// is exactly the offset of the poison or hold message (nothing after it is marked).
//
// SAMSA_STATUS_PAGE_SUFFIX, when set, is appended to the group and topic names: a run on a
// shared real Kafka does not see the offsets or messages of an earlier run.
//
//   status_page_app server --brokers B --metrics-port P
#include <samsa/samsa.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

std::string suffix() {
  const char* s = std::getenv("SAMSA_STATUS_PAGE_SUFFIX");
  return s ? s : "";
}

class OrdersConsumer : public samsa::Consumer {
 public:
  void consume() override {
    for (const auto& message : messages()) {
      if (message.raw_payload().find("poison") != std::string_view::npos)
        throw std::runtime_error("poison order at offset " + std::to_string(message.offset()) +
                                 ": cannot be priced");
      mark_as_consumed(message);
    }
  }
};

class AuditConsumer : public samsa::Consumer {
 public:
  void consume() override {
    for (const auto& message : messages()) {
      if (message.raw_payload().find("hold") != std::string_view::npos) {
        // Longer than any test: the partition stays paused until the app stops.
        pause(message.offset(), std::chrono::minutes(10));
        return;
      }
      mark_as_consumed(message);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  samsa::App app;
  app.setup([](samsa::Settings& config) { config.client_id = "status-page-demo"; });
  app.routes([](samsa::Routes& routes) {
    routes.consumer_group("status_page" + suffix(), [](samsa::ConsumerGroupRoute& group) {
      group.topic("orders" + suffix()).consumer<OrdersConsumer>().partitions(3);
      group.topic("audit" + suffix()).consumer<AuditConsumer>().partitions(3);
    });
  });
  return app.run(argc, argv);
}
