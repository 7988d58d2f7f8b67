// App::run: the command line every Samsa app gets.
#include <CLI/CLI.hpp>
#include <spdlog/fmt/fmt.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app_info.hpp"
#include "cli/config_sources.hpp"
#include "cli/suggest.hpp"
#include "kafka/consumer_client.hpp"
#include "kafka/producer_client.hpp"
#include "kafka/transactional_producer.hpp"
#include "kafka/properties.hpp"
#include "cli/topics_cli.hpp"
#include "samsa/admin.hpp"
#include "samsa/app.hpp"
#include "samsa/errors.hpp"
#include "samsa/version.hpp"

namespace samsa {
namespace {

std::string brokers_or_env(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("KAFKA_BROKERS")) return env;
  return {};
}

std::vector<cli::Assignment> set_assignments(const std::vector<std::string>& sets) {
  std::vector<cli::Assignment> out;
  for (const auto& kv : sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      // Without '=' the key and a mistyped value may run together: never echo a secret.
      throw SettingsError("--set '" + redacted_value(kv, kv) +
                          "': expected KEY=VALUE, e.g. --set max_messages=500");
    out.push_back({kv.substr(0, eq), kv.substr(eq + 1), "--set"});
  }
  return out;
}

// The settings from outside the code, in their order of precedence: the config file, the
// environment, then --set (each later one wins). Returns the SAMSA_* variables that name no
// setting, for a warning.
std::vector<std::string> apply_outside_settings(Settings& settings, const std::string& config_file,
                                                const std::vector<std::string>& sets) {
  if (!config_file.empty()) cli::apply(settings, cli::read_config_file(config_file));
  auto env = cli::environment_settings(cli::process_environment(), kafka::is_librdkafka_property);
  cli::apply(settings, env.settings);
  cli::apply(settings, set_assignments(sets));
  return env.ignored;
}

}  // namespace

int App::run(int argc, char** argv) {
  CLI::App cli{"A Samsa consumer application (samsa " + std::string(kVersion) + ")"};
  cli.require_subcommand(1);
  cli.footer(
      "Exit codes: 0 ok; 2 a setting, route or command line is invalid (nothing consumed); 3 the graceful "
      "shutdown outlived shutdown_timeout; 4 a consumer group failed fatally; 5 the broker did not confirm "
      "the final commit (nothing is lost: the next owner gets it again); 6 topics plan/create: a topic is "
      "missing or differs; 130 a second signal stopped the process at once.");
  cli.set_version_flag("--version", [] { return version_report(); });
  std::string brokers, config_file, log_format;
  std::vector<std::string> groups, sets;
  cli.add_option("--config", config_file,
                 "Read settings from this TOML or INI file (.ini: INI); the environment and --set override it")
      ->envname("SAMSA_CONFIG");
  cli.add_option("--log-format", log_format, "How the log is written: text (default) or json, one object per line")
      ->envname("SAMSA_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));

  auto* server = cli.add_subcommand("server", "Consume the routed topics until SIGINT/SIGTERM");
  server->add_option("--brokers", brokers, "Bootstrap servers (default: $KAFKA_BROKERS or the settings)");
  server->add_option("--consumer-group", groups, "Serve only this consumer group (repeatable)");
  server->add_option("--set", sets, "Override a setting, KEY=VALUE (repeatable), e.g. max_messages=500");
  std::string metrics_port;
  server->add_option("--metrics-port", metrics_port,
                     "Serve /metrics, /health/live, /health/ready and the status page on this port (metrics_port)");
  std::string metrics_host;
  server->add_option("--metrics-host", metrics_host,
                     "The address that endpoint listens on (metrics_host; default 0.0.0.0, every interface: it has "
                     "no authentication, so prefer an internal address)");

  auto* info = cli.add_subcommand("info", "Print the routes and the effective settings");
  info->add_option("--brokers", brokers, "Bootstrap servers to show");
  info->add_option("--set", sets, "Override a setting, KEY=VALUE (repeatable)");

  auto* topics = cli.add_subcommand("topics", "Manage the routed topics");
  topics->require_subcommand(1);
  auto* create = topics->add_subcommand("create", "Create the routed topics that do not exist");
  create->add_option("--brokers", brokers, "Bootstrap servers (default: $KAFKA_BROKERS or the settings)");
  auto* plan = topics->add_subcommand("plan", "Print how the cluster's topics differ from the routes");
  plan->add_option("--brokers", brokers, "Bootstrap servers (default: $KAFKA_BROKERS or the settings)");
  // The admin client takes the app's kafka.* (TLS, SASL), so these take --set as server does.
  for (auto* command : {create, plan})
    command->add_option("--set", sets, "Override a setting, KEY=VALUE (repeatable), e.g. kafka.security.protocol=SSL");

  for (auto& o : cli_options_) {
    if (o.text) cli.add_option(o.flag, *o.text, o.help)->capture_default_str();
    if (o.number) cli.add_option(o.flag, *o.number, o.help)->capture_default_str();
    if (o.on) cli.add_flag(o.flag, *o.on, o.help);
  }
  // App options may follow the subcommand: `app server --brokers B --db x.db`.
  server->fallthrough();
  info->fallthrough();
  create->fallthrough();
  plan->fallthrough();
  topics->fallthrough();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForVersion& e) {
    cli.exit(e);
    // The versions, then whether this librdkafka is one Samsa runs on.
    try {
      check_librdkafka();
    } catch (const Error& refused) {
      std::cerr << "samsa: " << refused.what() << "\n";
      return kExitConfig;
    }
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // A first word that is no command (`my_app serve`): say which are, and the nearest.
    if (argc > 1 && argv[1][0] != '-' && cli.get_subcommands().empty()) {
      const std::string word = argv[1];
      std::cerr << "samsa: unknown command '" << word << "': the commands are server, info, topics plan and topics create"
                << detail::did_you_mean(word, {"server", "info", "topics"}) << " (see --help)\n";
      return kExitConfig;
    }
    return cli.exit(e) == 0 ? kExitOk : kExitConfig;
  }
  // Nothing runs on a librdkafka this build cannot run on (e.g. an older one found by the
  // loader instead of the build's).
  try {
    check_librdkafka();
  } catch (const Error& refused) {
    std::cerr << "samsa: " << refused.what() << "\n";
    return kExitConfig;
  }

  try {
    if (!log_format.empty()) {
      if (custom_logger_)
        logger_->warn("--log-format " + log_format + " is for Samsa's default logger; this app sets its own "
                      "(App::logger), which writes as it does");
      else
        logger_ = make_default_logger(LogLevel::info, parse_log_format(log_format));
    }
    // The code's blocks see the parsed options; the settings from outside override them.
    apply_blocks();
    for (const auto& name : apply_outside_settings(settings_, config_file, sets))
      logger_->warn("environment variable " + name + " names no setting (see `info` for their names); ignored");
    if (!metrics_port.empty()) settings_.set("metrics_port", metrics_port);
    if (!metrics_host.empty()) settings_.set("metrics_host", metrics_host);
    brokers = brokers_or_env(brokers);
    if (*server) {
      ServeOptions options;
      options.brokers = brokers;
      options.consumer_groups = groups;
      options.handle_signals = true;
      int code = serve(options);
      if (code == kExitShutdownTimeout) {
        // Jobs are still running and cannot be joined: leave without waiting for them.
        std::fflush(nullptr);
        std::_Exit(code);
      }
      return code;
    }
    if (*info) {
      validate();
      // What `server` would hand librdkafka, checked by librdkafka without connecting.
      for (const auto& g : routes_.groups()) kafka::check_consumer_client(settings_, *g);
      kafka::check_producer(settings_);
      for (const auto& g : routes_.groups())
        if (g->transactional()) {
          kafka::check_transactional_producer(settings_);
          break;
        }
      std::cout << "samsa " << kVersion << " on librdkafka " << librdkafka_version() << "\n";
      for (const auto& g : routes_.groups())
        std::cout << detail::describe_group(settings_, *g, brokers, routes_.groups().size()) << "\n";
      return kExitOk;
    }
    if (*create || *plan) {
      validate();
      admin::Cluster cluster{detail::topics_brokers(brokers, settings_), settings_.kafka};  // TLS/SASL as the app
      return *plan ? detail::topics_plan(routes_, cluster, std::cout)
                   : detail::topics_create(routes_, cluster, std::cout);
    }
  } catch (const SettingsError& e) {
    std::cerr << "samsa: " << e.what() << "\n";
    return kExitConfig;
  } catch (const RoutingError& e) {
    std::cerr << "samsa: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << "samsa: " << e.what() << "\n";
    return kExitFatal;
  }
  return kExitOk;
}

App& App::option(const std::string& flag, std::string& target, const std::string& help) {
  cli_options_.push_back({flag, help, &target, nullptr});
  return *this;
}

App& App::option(const std::string& flag, int& target, const std::string& help) {
  cli_options_.push_back({flag, help, nullptr, &target});
  return *this;
}

App& App::flag(const std::string& flag, bool& target, const std::string& help) {
  cli_options_.push_back({flag, help, nullptr, nullptr, &target});
  return *this;
}

}  // namespace samsa
