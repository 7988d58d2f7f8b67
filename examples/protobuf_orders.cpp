// protobuf_orders: typed payloads. Orders arrive on topic `orders` as Protocol Buffers
// (examples/orders.proto, one serialized orders.Order per message). The route decodes each
// with a deserializer of its own into an orders::Order, and the consumer reads it typed
// with payload<orders::Order>(): decoded once, on the consumer's thread, when first read.
//
// A payload that is not an order (protobuf refuses it, or it has no customer or no line)
// makes the deserializer throw samsa::DeserializationError. That is a failure of the
// message like any other: it is delivered again after a back-off, and after --max-retries
// retries it goes to --dead-letter-topic with its error in the headers (error_class
// samsa::DeserializationError); the partition then goes on. Nothing is skipped silently.
//
//   protobuf_orders server --brokers 127.0.0.1:9092 [--dead-letter-topic orders_dlq] [--max-retries 3]
//   protobuf_orders produce --brokers 127.0.0.1:9092 --count 100 [--first 1] [--bad ID]
//
// `produce` writes sample orders (ids --first.., keyed by customer) with the app's producer,
// so the example needs no other protobuf tool to be tried; with --bad, order ID is written
// as bytes that are no order, among the others (to see the dead letter).
#include "examples/orders.pb.h"
#include <CLI/CLI.hpp>
#include <samsa/samsa.hpp>

#include <cstdint>
#include <cstdlib>
#include <future>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kTopic = "orders";

struct Options {
  std::string dead_letter_topic = "orders_dlq";
  int max_retries = 3;
} options;

// The route's deserializer: runs on a worker thread, for several partitions at once (it
// keeps no state). Throws DeserializationError naming the message, which the log and the
// dead letter then show.
orders::Order parse_order(const samsa::Message& m) {
  const auto fail = [&](const std::string& reason) {
    return samsa::DeserializationError(m.topic(), m.partition(), m.offset(), reason);
  };
  if (!m.has_payload()) throw fail("a null payload (a tombstone), not an order");
  orders::Order order;
  const std::string_view raw = m.raw_payload();
  if (!order.ParseFromArray(raw.data(), static_cast<int>(raw.size())))
    throw fail("not a protobuf orders.Order (" + std::to_string(raw.size()) + " bytes)");
  // Any bytes that happen to parse (protobuf keeps unknown fields) are no order yet.
  if (order.customer().empty() || order.lines_size() == 0)
    throw fail("an orders.Order without customer or lines");
  return order;
}

class OrdersConsumer : public samsa::Consumer {
 public:
  void consume() override {
    for (const samsa::Message& m : messages()) {
      const orders::Order& order = m.payload<orders::Order>();  // throws for a bad payload
      std::int64_t cents = 0;
      for (const auto& line : order.lines()) cents += line.quantity() * line.price_cents();
      logger().info("order " + std::to_string(order.id()) + " of " + order.customer() + ": " +
                    std::to_string(order.lines_size()) + " lines, " + std::to_string(cents) + " cents (" +
                    topic() + "/" + std::to_string(partition()) + "@" + std::to_string(m.offset()) + ")");
      // Marked one by one, so that a bad payload is the first unmarked message: the one
      // retried and dead-lettered, not the good orders before it in the batch.
      mark_as_consumed(m);
    }
  }
};

// `produce`: --count sample orders from id --first, each keyed by its customer (so one
// customer's orders stay in order, in one partition), order --bad as a payload that is no
// order. Returns the exit code.
int produce(samsa::App& app, int argc, char** argv) {
  CLI::App cli{"Writes sample orders to " + std::string(kTopic), "protobuf_orders produce"};
  std::string brokers;
  int count = 0, first = 1, bad = -1;
  cli.add_option("--brokers", brokers, "Bootstrap servers (default: $KAFKA_BROKERS)");
  cli.add_option("--count", count, "How many orders")->required();
  cli.add_option("--first", first, "The first order's id");
  cli.add_option("--bad", bad, "The id of the order written as a payload that is no order");
  try {
    cli.parse(argc - 1, argv + 1);  // after `produce`
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  if (!brokers.empty()) app.settings().kafka["bootstrap.servers"] = brokers;  // else KAFKA_BROKERS
  std::vector<std::future<samsa::DeliveryReport>> delivered;
  for (int id = first; id < first + count; ++id) {
    orders::Order order;
    order.set_id(id);
    order.set_customer("customer-" + std::to_string(id % 5));
    for (int k = 0; k <= id % 3; ++k) {
      orders::Order::Line* line = order.add_lines();
      line->set_sku("sku-" + std::to_string((id + k) % 17));
      line->set_quantity(1 + k);
      line->set_price_cents(100 * (1 + (id + k) % 9));
    }
    // 'n' (0x6e) reads as field 13 with wire type 6, which protobuf refuses.
    const std::string payload = id == bad ? "not a protobuf order" : order.SerializeAsString();
    delivered.push_back(app.producer().produce(kTopic, order.customer(), payload));
  }
  int failed = 0;
  for (auto& d : delivered)
    if (const samsa::DeliveryReport r = d.get(); !r.ok()) {
      if (failed++ == 0) std::cerr << "not delivered: " << r.error << "\n";
    }
  std::cout << "produced " << delivered.size() - static_cast<std::size_t>(failed) << " messages to " << kTopic << "\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // The generated code and the protobuf library it links must be of one version.
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  samsa::App app;
  app.setup([](samsa::Settings& config) { config.client_id = "protobuf_orders"; });
  if (argc > 1 && std::string_view(argv[1]) == "produce") return produce(app, argc, argv);

  // Drawn after run() parsed the command line: options are --dead-letter-topic's and --max-retries'.
  app.routes([](samsa::Routes& routes) {
    routes.consumer_group("orders", [](samsa::ConsumerGroupRoute& group) {
      group.topic(kTopic)
          .consumer<OrdersConsumer>()
          .deserializer<orders::Order>(parse_order)
          .dead_letter_queue({.topic = options.dead_letter_topic, .max_retries = options.max_retries})
          .partitions(2);
    });
  });
  app.option("--dead-letter-topic", options.dead_letter_topic,
             "Where an order that keeps failing (a payload that is not an order) goes");
  app.option("--max-retries", options.max_retries, "Retries of a failing order before its dead letter");
  return app.run(argc, argv);
}
