// samsa: the command-line tool. Runs the embedded broker, produces test events, shows a
// consumer group's committed offsets and lag, and resets them.
//
//   samsa broker   [--port P] [--partitions N] [--topic NAME]...
//   samsa produce  --brokers B --topic T --count N [--partitions P] [--first F] [--payload-bytes S]
//                  [--payload TEXT] [--set kafka.KEY=VALUE]...
//   samsa offsets  --brokers B --group G [--topic T]... [--set kafka.KEY=VALUE]...
//   samsa offsets reset --brokers B --group G --topic T [--partition P]
//                  --to earliest|latest|OFFSET|TIME [--dry-run] [--set kafka.KEY=VALUE]...
//   samsa consume  --brokers B --topic T [--from-beginning] [--count N] [--until-end]
//                  [--partition P [--offset O]] [--format text|json] [--read-uncommitted]
//                  [--group G [--commit]]
//   samsa --version   Samsa's version, the librdkafka loaded and built against, the license
//
// Only Samsa's public headers here: librdkafka stays behind the library.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <ctime>
#include <nlohmann/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "samsa/admin.hpp"
#include "samsa/errors.hpp"
#include "samsa/testing/embedded_broker.hpp"
#include "samsa/version.hpp"
#include "tcp_relay.hpp"
#include "usage_error.hpp"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

using samsa::tool::FixedPortRelay;
using samsa::tool::UsageError;

// ---------------------------------------------------------------------------------------
// Subcommands

int run_broker(std::optional<int> port, int partitions, const std::vector<std::string>& requested) {
  std::vector<std::string> topics;  // in the order given, without repeats
  for (const auto& t : requested)
    if (std::find(topics.begin(), topics.end(), t) == topics.end()) topics.push_back(t);

  // Signals are taken by sigwait below; block them before any thread (librdkafka's, the
  // relay's) starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::optional<FixedPortRelay> relay;
  if (port) relay.emplace(*port);

  samsa::testing::EmbeddedBroker broker(1);
  for (const auto& topic : topics) broker.create_topic(topic, partitions);
  std::string bootstrap = broker.bootstrap_servers();
  if (relay) {
    relay->start(bootstrap);
    bootstrap = relay->address();
  }

  std::cout << "bootstrap: " << bootstrap << std::endl;
  for (const auto& topic : topics)
    std::cout << "topic: " << topic << " (" << partitions << " partitions)" << std::endl;
  std::cout << "embedded broker running (librdkafka mock cluster: in memory, other topics are "
               "auto-created with 4 partitions); stop with Ctrl-C or SIGTERM"
            << std::endl;
  // Its classic groups answer a restarted app's JoinGroup only the leaver's session timeout
  // - 1 s after it left (44 s with librdkafka's default): say how to avoid the wait.
  std::cout << "hint: a restarted app waits for its partitions the previous member's "
               "session.timeout.ms - 1 s here (44 s by default); run apps with --set "
               "kafka.session.timeout.ms=2000 --set kafka.heartbeat.interval.ms=500"
            << std::endl;

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  if (relay) relay->stop();
  std::cerr << "samsa broker: stopping (" << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ")"
            << std::endl;
  return 0;
}

int run_produce(const samsa::admin::Cluster& brokers, const std::string& topic, std::int64_t count,
                int partitions, std::int64_t first, std::size_t payload_bytes,
                const std::optional<std::string>& payload, std::chrono::seconds timeout) {
  // A quick look first: an unreachable cluster fails here within 10 s.
  int existing = samsa::admin::partition_count(brokers, topic, std::chrono::seconds(10));
  if (existing == 0) {
    samsa::admin::create_topics(brokers, {{topic, partitions, 1}}, std::chrono::seconds(30));
    existing = samsa::admin::partition_count(brokers, topic, std::chrono::seconds(10));
    if (existing == 0)
      throw samsa::Error("topic '" + topic + "' was created but does not show in the metadata of " +
                         brokers.bootstrap_servers() + " yet; try again");
  }
  if (payload) {
    // Raw values (e.g. a malformed event for a test), keyed and spread like the JSON events.
    std::vector<samsa::admin::Record> records;
    for (std::int64_t id = first; id < first + count; ++id) {
      const auto partition = static_cast<std::int32_t>((id % existing + existing) % existing);
      records.push_back({std::to_string(id), *payload, partition});
    }
    samsa::admin::produce(brokers, topic, records, timeout);
  } else {
    samsa::admin::produce_events(brokers, topic, first, count, existing, payload_bytes, timeout);
  }
  std::cout << "produced " << count << " events to " << topic << std::endl;
  return 0;
}

// `text` readable on a terminal: printable ASCII as it is, every other byte as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// Milliseconds since the epoch as ISO-8601 UTC with milliseconds; "-" when none.
std::string iso_time(std::int64_t ms) {
  if (ms < 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler imagines in each field
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

volatile std::sig_atomic_t consume_interrupted = 0;

int run_consume(const samsa::admin::Cluster& brokers, const std::string& topic, const samsa::admin::ReadOptions& options,
                const std::string& format) {
  // Ctrl-C (or SIGTERM) ends the read between records; a second one the process.
  struct sigaction sa {};
  sa.sa_handler = [](int) {
    if (consume_interrupted) std::_Exit(130);
    consume_interrupted = 1;
  };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const bool json = format == "json";
  const std::int64_t n = samsa::admin::read_topic(
      brokers, topic, options,
      [&](const samsa::admin::ReadRecord& r) {
        if (json) {
          nlohmann::json line = {{"topic", r.topic},
                                 {"partition", r.partition},
                                 {"offset", r.offset},
                                 {"timestamp_ms", r.timestamp_ms}};
          line["key"] = r.key ? nlohmann::json(*r.key) : nlohmann::json(nullptr);
          nlohmann::json headers = nlohmann::json::object();
          for (const auto& [name, value] : r.headers)
            headers[name] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
          line["headers"] = headers;
          line["value"] = r.value ? nlohmann::json(*r.value) : nlohmann::json(nullptr);
          std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        } else {
          // A record in three lines: where and when, its headers (a dead letter's original_*
          // and error_* at a glance), its value.
          std::cout << r.topic << '/' << r.partition << '@' << r.offset << "  " << iso_time(r.timestamp_ms)
                    << "  key=" << (r.key ? printable(*r.key) : std::string("(none)")) << '\n';
          if (!r.headers.empty()) {
            std::cout << ' ';
            for (const auto& [name, value] : r.headers)
              std::cout << ' ' << printable(name) << '=' << (value ? printable(*value) : std::string("(none)"));
            std::cout << '\n';
          }
          std::cout << "  " << (r.value ? printable(*r.value) : std::string("(tombstone)")) << '\n';
        }
        std::cout.flush();
        return true;
      },
      [] { return consume_interrupted != 0; });
  std::cerr << "samsa consume: " << n << " record" << (n == 1 ? "" : "s") << " from " << topic;
  if (!options.group.empty())
    std::cerr << " as a member of group " << options.group
              << (options.commit ? " (offsets committed)" : " (nothing committed)");
  std::cerr << std::endl;
  return 0;
}

// Prints `table` (its first row the header) in columns two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& table) {
  std::vector<std::size_t> width(table[0].size(), 0);
  for (const auto& row : table)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : table) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
  std::cout.flush();
}

int run_offsets(const samsa::admin::Cluster& brokers, const std::string& group,
                const std::vector<std::string>& topics, std::chrono::seconds timeout) {
  auto rows = samsa::admin::group_offsets(brokers, group, topics, timeout);
  std::vector<std::vector<std::string>> table;
  // The METADATA column only when some partition has offset metadata.
  const bool any_metadata =
      std::any_of(rows.begin(), rows.end(), [](const auto& r) { return !r.metadata.empty(); });
  table.push_back({"TOPIC", "PARTITION", "COMMITTED", "END", "LAG"});
  if (any_metadata) table[0].push_back("METADATA");
  for (const auto& r : rows) {
    table.push_back({r.topic, std::to_string(r.partition),
                     r.committed >= 0 ? std::to_string(r.committed) : "-", std::to_string(r.end),
                     std::to_string(r.lag)});
    if (any_metadata) {
      // Any bytes may be committed: show control bytes as '?' so the table stays one line.
      std::string shown = r.metadata;
      for (char& c : shown)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      table.back().push_back(shown.empty() ? "-" : shown);
    }
  }
  print_table(table);
  if (rows.empty())
    std::cerr << "samsa offsets: group '" << group << "' has no committed offsets"
              << (topics.empty() ? "" : " on these topics") << std::endl;
  return 0;
}

int run_reset(const samsa::admin::Cluster& brokers, const samsa::admin::OffsetResetRequest& request,
              std::chrono::seconds timeout) {
  auto rows = samsa::admin::reset_offsets(brokers, request, timeout);
  std::vector<std::vector<std::string>> table;
  table.push_back({"TOPIC", "PARTITION", "COMMITTED", "", "NEW", "LOG-START", "LOG-END"});
  for (const auto& r : rows)
    table.push_back({r.topic, std::to_string(r.partition),
                     r.before >= 0 ? std::to_string(r.before) : "-", "->", std::to_string(r.after),
                     std::to_string(r.low), std::to_string(r.high)});
  print_table(table);
  const std::string what = "group '" + request.group + "' on " + std::to_string(rows.size()) +
                           " partition" + (rows.size() == 1 ? "" : "s") + " of " + request.topic +
                           " to " + request.to.text();
  if (request.dry_run)
    std::cout << "dry run: nothing changed; without --dry-run this resets " << what << std::endl;
  else
    std::cout << "reset " << what << std::endl;
  return 0;
}

// The librdkafka properties of `--set kafka.KEY=VALUE` options (the tool has no other
// settings).
std::map<std::string, std::string> kafka_properties(const std::vector<std::string>& sets) {
  std::map<std::string, std::string> out;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--set '" + s + "': expected kafka.KEY=VALUE (a librdkafka property)");
    const std::string key = s.substr(0, eq);
    if (key.rfind("kafka.", 0) != 0 || key.size() == 6)
      throw UsageError("--set '" + s + "': the samsa tool takes librdkafka properties only, as "
                       "kafka.KEY=VALUE (e.g. kafka.security.protocol=SASL_SSL)");
    out[key.substr(6)] = s.substr(eq + 1);
  }
  return out;
}

samsa::admin::Cluster cluster(const std::string& brokers, const std::vector<std::string>& sets) {
  samsa::admin::Cluster c(brokers, kafka_properties(sets));
  if (c.bootstrap_servers().empty())
    throw UsageError("no broker address: pass --brokers HOST:PORT or set KAFKA_BROKERS");
  return c;
}

const CLI::Validator kNonNegative(
    [](std::string& value) -> std::string {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
        return "must be a whole number >= 0, not '" + value + "'";
      return {};
    },
    "N>=0");

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"samsa: run the embedded Kafka broker, produce test events, inspect a consumer "
               "group's offsets"};
  app.name("samsa");
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return samsa::version_report(); });

  const std::string kSetHelp =
      "A librdkafka property for the client, as kafka.KEY=VALUE (repeatable), e.g. "
      "kafka.security.protocol=SASL_SSL, as apps take --set kafka.*";

  // broker
  auto* broker = app.add_subcommand(
      "broker", "Run the embedded broker (librdkafka's in-memory mock cluster) in the foreground "
                "until SIGINT/SIGTERM. Prints 'bootstrap: HOST:PORT' first.");
  std::optional<int> broker_port;
  int broker_partitions = 4;
  std::vector<std::string> broker_topics;
  broker->add_option("--port", broker_port, "Listen on 127.0.0.1:PORT (default: ephemeral)")
      ->check(CLI::Range(1, 65535));
  broker->add_option("--partitions", broker_partitions, "Partitions of the --topic topics")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  broker->add_option("--topic", broker_topics, "Create this topic at start (repeatable)")
      ->take_all();

  // produce
  auto* produce = app.add_subcommand(
      "produce", "Produce JSON events {\"id\":N,\"created_at_ms\":...} and wait for delivery");
  std::string produce_brokers, produce_topic;
  std::int64_t produce_count = 0, produce_first = 0;
  int produce_partitions = 4;
  std::size_t produce_payload = 0;
  int produce_timeout = 120;
  produce->add_option("--brokers", produce_brokers, "Bootstrap servers HOST:PORT[,...]")
      ->envname("KAFKA_BROKERS");
  produce->add_option("--topic", produce_topic, "Topic to write to")->required();
  produce->add_option("--count", produce_count, "Number of events")
      ->required()
      ->check(kNonNegative);
  produce->add_option("--partitions", produce_partitions,
                      "Partitions when the topic has to be created")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  produce->add_option("--first", produce_first, "Id of the first event")->capture_default_str();
  produce->add_option("--payload-bytes", produce_payload,
                      "Size of an extra \"pad\" string field per event")
      ->capture_default_str()
      ->check(kNonNegative);
  std::optional<std::string> produce_raw;
  produce->add_option("--payload", produce_raw,
                      "Send TEXT as the value of every event instead of the JSON (event F+i "
                      "still goes to partition (F+i) % partitions, keyed by its number)");
  produce->add_option("--timeout", produce_timeout, "Seconds to wait for delivery")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  std::vector<std::string> produce_sets;
  produce->add_option("--set", produce_sets, kSetHelp)->take_all();

  // consume
  auto* consume = app.add_subcommand(
      "consume", "Print a topic's records (key, headers, partition, offset, timestamp, value) without joining a "
                 "consumer group unless --group; from the end unless told otherwise, until Ctrl-C, --count or "
                 "--until-end");
  std::string consume_brokers, consume_topic, consume_format = "text";
  samsa::admin::ReadOptions consume_options;
  std::optional<std::int32_t> consume_partition;
  std::optional<std::int64_t> consume_offset;
  bool consume_uncommitted = false;
  std::vector<std::string> consume_sets;
  consume->add_option("--brokers", consume_brokers, "Bootstrap servers HOST:PORT[,...]")->envname("KAFKA_BROKERS");
  consume->add_option("--topic", consume_topic, "Topic to read")->required();
  consume->add_flag("--from-beginning", consume_options.from_beginning,
                    "From each partition's first record still kept (default: only new records)");
  consume->add_option("--count", consume_options.count, "Stop after N records")->check(CLI::PositiveNumber);
  consume->add_flag("--until-end", consume_options.until_end,
                    "Stop once every partition read reached its end (for read_committed: its last stable offset)");
  consume->add_option("--partition", consume_partition, "Only this partition")->check(CLI::NonNegativeNumber);
  consume->add_option("--offset", consume_offset, "With --partition: the first offset to read")
      ->check(CLI::NonNegativeNumber);
  consume->add_option("--format", consume_format, "text (three lines per record) or json (one line per record)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  consume->add_flag("--read-uncommitted", consume_uncommitted,
                    "Also records of aborted and open transactions (default: read_committed)");
  consume->add_option("--group", consume_options.group,
                      "Read as a member of this consumer group: the partitions it assigns, from its committed "
                      "offsets; commits nothing unless --commit");
  consume->add_flag("--commit", consume_options.commit,
                    "With --group: commit the offset after each record printed");
  consume->add_option("--set", consume_sets, kSetHelp)->take_all();

  // offsets
  auto* offsets = app.add_subcommand(
      "offsets", "Show a consumer group's committed offsets, log-end offsets and lag");
  std::string offsets_brokers, offsets_group;
  std::vector<std::string> offsets_topics;
  int offsets_timeout = 10;
  offsets->add_option("--brokers", offsets_brokers, "Bootstrap servers HOST:PORT[,...]")
      ->envname("KAFKA_BROKERS");
  offsets->add_option("--group", offsets_group, "Consumer group id");
  offsets->add_option("--topic", offsets_topics,
                      "Topic (repeatable; default: every topic the group has offsets for, "
                      "which the embedded broker cannot list)")
      ->take_all();
  offsets->add_option("--timeout", offsets_timeout, "Seconds to wait for the cluster")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  std::vector<std::string> offsets_sets;
  offsets->add_option("--set", offsets_sets, kSetHelp)->take_all();
  offsets->require_subcommand(0, 1);

  // offsets reset
  auto* reset = offsets->add_subcommand(
      "reset",
      "Move a stopped group's committed offsets (refused while the group has active members): "
      "prints TOPIC PARTITION COMMITTED -> NEW per partition");
  std::string reset_brokers, reset_to;
  samsa::admin::OffsetResetRequest reset_request;
  std::optional<std::int32_t> reset_partition;
  int reset_timeout = 30;
  std::vector<std::string> reset_sets;
  reset->add_option("--brokers", reset_brokers, "Bootstrap servers HOST:PORT[,...]")
      ->envname("KAFKA_BROKERS");
  reset->add_option("--group", reset_request.group, "Consumer group id")->required();
  reset->add_option("--topic", reset_request.topic, "Topic")->required();
  reset->add_option("--partition", reset_partition, "Only this partition (default: all)")
      ->check(CLI::Range(0, 1000000));
  reset->add_option("--to", reset_to,
                    "earliest, latest, OFFSET (the next message the group consumes), or TIME "
                    "(ISO-8601 with zone, e.g. 2026-12-01T10:00:00Z: the first message at or "
                    "after it)")
      ->required();
  reset->add_flag("--dry-run", reset_request.dry_run, "Print the plan, change nothing");
  reset->add_option("--timeout", reset_timeout, "Seconds to wait for the cluster")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  reset->add_option("--set", reset_sets, kSetHelp)->take_all();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForVersion& e) {
    app.exit(e);
    // The versions, then whether this librdkafka is one Samsa runs on.
    try {
      samsa::check_librdkafka();
    } catch (const samsa::Error& refused) {
      std::cerr << "samsa: " << refused.what() << std::endl;
      return kExitFailure;
    }
    return 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    if (argc == 1) {
      std::cerr << "samsa: a command is required: broker, produce, consume or offsets (see `samsa --help`)"
                << std::endl;
      return kExitUsage;
    }
    if (app.get_subcommands().empty() && argv[1][0] != '-') {
      std::cerr << "samsa: unknown command '" << argv[1]
                << "' (the commands are broker, produce, consume and offsets; see `samsa --help`)"
                << std::endl;
      return kExitUsage;
    }
    std::string msg = e.what();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::cerr << "samsa: " << msg << " (see `samsa --help`)" << std::endl;
    return kExitUsage;
  }

  try {
    samsa::check_librdkafka();  // nothing runs on a librdkafka this build cannot run on
    if (broker->parsed()) return run_broker(broker_port, broker_partitions, broker_topics);
    if (produce->parsed())
      return run_produce(cluster(produce_brokers, produce_sets), produce_topic, produce_count,
                         produce_partitions, produce_first, produce_payload, produce_raw,
                         std::chrono::seconds(produce_timeout));
    if (consume->parsed()) {
      if (consume_offset && !consume_partition) throw UsageError("consume: --offset needs --partition");
      if (!consume_options.group.empty() && consume_partition)
        throw UsageError("consume: --group reads the partitions the group assigns, not --partition");
      if (consume_options.commit && consume_options.group.empty())
        throw UsageError("consume: --commit needs --group (only a group member commits)");
      consume_options.partition = consume_partition;
      consume_options.offset = consume_offset;
      consume_options.read_committed = !consume_uncommitted;
      return run_consume(cluster(consume_brokers, consume_sets), consume_topic, consume_options, consume_format);
    }
    if (reset->parsed()) {
      try {
        reset_request.to = samsa::admin::ResetTarget::parse(reset_to);
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--to: ") + e.what());
      }
      reset_request.partition = reset_partition;
      return run_reset(cluster(reset_brokers, reset_sets), reset_request,
                       std::chrono::seconds(reset_timeout));
    }
    if (offsets->parsed()) {
      if (offsets_group.empty()) throw UsageError("offsets: --group is required");
      return run_offsets(cluster(offsets_brokers, offsets_sets), offsets_group, offsets_topics,
                         std::chrono::seconds(offsets_timeout));
    }
  } catch (const UsageError& e) {
    std::cerr << "samsa: " << e.what() << std::endl;
    return kExitUsage;
  } catch (const samsa::SettingsError& e) {
    // A --set kafka.* librdkafka refused (unknown property, bad value): nothing connected.
    std::cerr << "samsa: " << e.what() << std::endl;
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "samsa: " << e.what() << std::endl;
    return kExitFailure;
  } catch (...) {
    std::cerr << "samsa: unexpected error" << std::endl;
    return kExitFailure;
  }
  return kExitUsage;
}
