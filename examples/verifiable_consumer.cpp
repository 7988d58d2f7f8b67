// verifiable_consumer: Kafka's VerifiableConsumer, built on Samsa.
//
// Prints the JSON lines of Kafka's own checker tool (org.apache.kafka.tools.VerifiableConsumer),
// field for field, so that the invariants of Kafka's system tests can be checked against
// Samsa: commits only for owned partitions and never ahead of the consumed position, no
// gaps or rewinds inside an assignment, no duplicates after a clean bounce.
//
//   verifiable_consumer --bootstrap-server B --topic T --group-id G [--max-messages N]
//                       [--reset-policy earliest|latest] [--enable-autocommit]
//
// Without --enable-autocommit each batch is marked and committed synchronously after it is
// printed (like the Java tool's commitSync); with it, Samsa's automatic marking and
// librdkafka's background commit do the work. Either way every commit Samsa makes, from any
// origin, prints an offsets_committed line, and records_consumed is printed before the
// records' offsets can be committed.
#include <CLI/CLI.hpp>
#include <samsa/samsa.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>

namespace {

std::mutex out_mu;
std::atomic<long> consumed{0};
long max_messages = -1;
bool autocommit = false;
samsa::App* the_app = nullptr;

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using Json = nlohmann::ordered_json;  // keeps the Java tool's field order

void emit(const std::string& name, Json fields = Json::object()) {
  Json line = {{"timestamp", now_ms()}, {"name", name}};
  line.update(fields);
  std::lock_guard lock(out_mu);
  std::cout << line.dump() << std::endl;
}

Json partitions(const std::vector<samsa::TopicPartitionOffset>& list) {
  auto out = Json::array();
  for (const auto& tp : list) out.push_back({{"topic", tp.topic}, {"partition", tp.partition}});
  return out;
}

class VerifiableConsumer : public samsa::Consumer {
 public:
  void consume() override {
    const auto& batch = messages();
    emit("records_consumed", {{"count", batch.size()},
                              {"partitions", Json::array({{{"topic", topic()},
                                                           {"partition", partition()},
                                                           {"count", batch.size()},
                                                           {"minOffset", batch.first().offset()},
                                                           {"maxOffset", batch.last().offset()}}})}});
    if (!autocommit) mark_as_consumed_sync(batch.last());
    // Like the Java tool: whole batches, then stop once the count is reached.
    if (max_messages >= 0 && (consumed += static_cast<long>(batch.size())) >= max_messages) the_app->stop();
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Kafka's VerifiableConsumer on Samsa: JSON lines of consumer events on stdout"};
  std::string brokers, topic, group, reset = "earliest";
  cli.add_option("--bootstrap-server", brokers, "Bootstrap servers")->required();
  cli.add_option("--topic", topic, "Topic to consume")->required();
  cli.add_option("--group-id", group, "Consumer group")->required();
  cli.add_option("--max-messages", max_messages, "Stop after this many messages (default: never)");
  cli.add_option("--reset-policy", reset, "earliest or latest")->check(CLI::IsMember({"earliest", "latest"}));
  cli.add_flag("--enable-autocommit", autocommit, "Commit in the background instead of after each batch");
  // The Java tool's names: an assignor class (the cooperative one means cooperative-sticky,
  // any other eager) or Samsa's own rebalance_protocol values.
  std::string strategy = "eager", group_protocol = "classic", remote_assignor;
  cli.add_option("--assignment-strategy", strategy,
                 "eager, cooperative-sticky, or a Java assignor class name (classic protocol)");
  cli.add_option("--group-protocol", group_protocol, "classic or consumer (KIP-848)")
      ->check(CLI::IsMember({"classic", "consumer"}));
  cli.add_option("--group-remote-assignor", remote_assignor, "uniform or range (consumer protocol)");
  CLI11_PARSE(cli, argc, argv);
  if (strategy.find("CooperativeSticky") != std::string::npos) strategy = "cooperative-sticky";
  else if (strategy.find('.') != std::string::npos || strategy.find("Assignor") != std::string::npos) strategy = "eager";

  samsa::App app;
  the_app = &app;
  app.logger(samsa::make_default_logger(samsa::LogLevel::warn));
  app.setup([&](samsa::Settings& config) {
    config.client_id = "verifiable_consumer";
    config.kafka["bootstrap.servers"] = brokers;
    config.set("initial_offset", reset);
    config.set("group_protocol", group_protocol);
    if (group_protocol == "classic") config.set("rebalance_protocol", strategy);
    if (!remote_assignor.empty()) config.kafka["group.remote.assignor"] = remote_assignor;
    config.automatically_mark_as_consumed = autocommit;
    if (!autocommit) config.kafka["enable.auto.commit"] = "false";
  });
  app.routes([&](samsa::Routes& routes) { routes.consumer_group(group).topic(topic).consumer<VerifiableConsumer>(); });
  app.monitor().subscribe_inline([](const samsa::Event& e) {
    switch (e.type) {
      case samsa::EventType::partitions_assigned:
        emit("partitions_assigned", {{"partitions", partitions(e.offsets)}});
        break;
      case samsa::EventType::partitions_revoked:
      case samsa::EventType::partitions_lost:  // as Kafka's consumer: onPartitionsLost defaults to revoked
        emit("partitions_revoked", {{"partitions", partitions(e.offsets)}});
        break;
      case samsa::EventType::offsets_committed:
      case samsa::EventType::commit_failed: {
        auto offsets = Json::array();
        for (const auto& tp : e.offsets)
          if (tp.offset >= 0) offsets.push_back({{"topic", tp.topic}, {"partition", tp.partition}, {"offset", tp.offset}});
        Json fields = {{"offsets", offsets}, {"success", e.error.empty()}};
        if (!e.error.empty()) fields["error"] = e.error;
        emit("offsets_committed", fields);
        break;
      }
      default:
        break;
    }
  });

  emit("startup_complete");
  int code = 0;
  samsa::ServeOptions options;  // (designated initializers warn on g++ 12 with -Wextra)
  options.handle_signals = true;
  try {
    code = app.serve(options);
  } catch (const samsa::Error& e) {
    std::cerr << "verifiable_consumer: " << e.what() << "\n";
    return samsa::kExitConfig;
  }
  emit("shutdown_complete");
  return code;
}
