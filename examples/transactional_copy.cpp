// transactional_copy: copies a topic to another exactly once, with Kafka transactions.
//
// Each message of --from goes to --to with its key, payload and headers, plus two headers:
// source_partition and source_offset. consume() produces a batch's copies and marks the
// batch in one Kafka transaction (Consumer::transaction with a samsa::KafkaTransaction):
// the copies become visible to read_committed readers exactly when consumer group `copy`
// commits the batch's offsets. So through SIGKILLs of this process, broker restarts and
// rebalances, a read_committed reader of --to sees every input message exactly once; a
// read_uncommitted one may also see the copies of aborted transactions.
//
// Each running copy needs its own --transactional-id (default: transactional_copy-<host>),
// kept across its restarts: a restarted process then ends at once what its predecessor
// left open. Two running with the same one fence each other (logged), never duplicate.
//
//   transactional_copy server --brokers 127.0.0.1:9092 --from IN --to OUT [--transactional-id ID]
//                             [--dead-letter-topic DLQ [--max-retries 3]] [--at-least-once]
//
// --at-least-once copies the same way without transactions, for comparison (make
// bench-exactly-once): App::producer(), each batch's copies awaited before the batch is
// marked; a SIGKILL then repeats the copies made since the last commit.
//
// An input message whose payload is the text "poison" cannot be copied: consume() copies
// the messages before it and throws. With --dead-letter-topic, Samsa sends it there after
// --max-retries retries, in one transaction with its offset, and the partition goes on.
#include <samsa/samsa.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Options {
  std::string from = "copy_in";
  std::string to = "copy_out";
  std::string transactional_id;
  std::string dead_letter_topic;
  int max_retries = 3;
  bool at_least_once = false;
} options;

samsa::App* app_ptr = nullptr;  // for --at-least-once's producer

class CopyConsumer : public samsa::Consumer {
 public:
  void consume() override {
    const samsa::Messages& batch = messages();
    std::size_t good = 0;
    while (good < batch.size() && batch[good].raw_payload() != "poison") ++good;
    if (good > 0 && options.at_least_once) {
      // Every copy acknowledged before the batch is marked (automatically, when consume()
      // returns): a crash in between copies it again, never loses it.
      std::vector<std::future<samsa::DeliveryReport>> sent;
      for (std::size_t i = 0; i < good; ++i) copy(batch[i], [&](const samsa::OutgoingMessage& out) {
        sent.push_back(app_ptr->producer().produce(out));
      });
      for (auto& f : sent)
        if (const auto r = f.get(); !r.ok()) throw samsa::ProduceError("copy to " + r.topic + ": " + r.error, -1, true);
      if (good < batch.size()) mark_as_consumed(batch[good - 1]);
    } else if (good > 0) {
      // False: this member no longer owns the partition (a rebalance moved it on); the
      // transaction was aborted and the next owner copies the batch.
      const bool committed = transaction([&](samsa::KafkaTransaction& tx) {
        for (std::size_t i = 0; i < good; ++i)
          copy(batch[i], [&](const samsa::OutgoingMessage& out) { tx.produce(out); });
        mark_as_consumed(batch[good - 1]);
      });
      if (!committed) return;
    }
    if (good < batch.size())
      throw std::runtime_error("poison message at offset " + std::to_string(batch[good].offset()));
  }

 private:
  // Hands `m`'s copy to `send` (its views live until send returns).
  template <class Send>
  void copy(const samsa::Message& m, Send&& send) {
    const std::string partition = std::to_string(m.partition()), offset = std::to_string(m.offset());
    std::vector<samsa::Header> headers = m.headers();
    headers.push_back({"source_partition", partition});
    headers.push_back({"source_offset", offset});
    send(samsa::OutgoingMessage{options.to, m.has_key() ? std::optional<std::string_view>(m.key()) : std::nullopt,
                                m.has_payload() ? std::optional<std::string_view>(m.raw_payload()) : std::nullopt,
                                std::move(headers)});
  }
};

}  // namespace

int main(int argc, char** argv) {
  {
    // The default of --transactional-id, which replaces it when given.
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    options.transactional_id = std::string("transactional_copy-") + host;
  }
  samsa::App app;
  app_ptr = &app;
  // The blocks run after run() parsed the command line: options holds the options' values.
  app.setup([](samsa::Settings& config) {
    config.client_id = "transactional_copy";
    config.transactional_id = options.transactional_id;
  });
  app.routes([](samsa::Routes& routes) {
    routes.consumer_group("copy", [](samsa::ConsumerGroupRoute& group) {
      group.transactional(!options.at_least_once);
      // --at-least-once: automatic marking after each batch's copies were acknowledged.
      auto& in = group.topic(options.from).consumer<CopyConsumer>().partitions(4);
      if (!options.dead_letter_topic.empty())
        in.dead_letter_queue({.topic = options.dead_letter_topic, .max_retries = options.max_retries});
    });
  });
  app.option("--from", options.from, "The topic to copy (default copy_in)");
  app.option("--to", options.to, "The topic the copies go to (default copy_out)");
  app.option("--transactional-id", options.transactional_id,
             "This process's transactional.id prefix: unique per running copy, the same across its restarts "
             "(default transactional_copy-<host>)");
  app.option("--dead-letter-topic", options.dead_letter_topic,
             "Send a message that keeps failing (payload \"poison\") to this topic after --max-retries retries");
  app.option("--max-retries", options.max_retries, "Retries of a failing message before its dead letter");
  app.flag("--at-least-once", options.at_least_once,
           "Copy without transactions (App::producer(), automatic marks): a SIGKILL repeats copies");
  return app.run(argc, argv);
}
