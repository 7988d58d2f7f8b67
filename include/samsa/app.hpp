#pragma once
// The application: settings, routes, and the runtime that serves them.
//
//   int main(int argc, char** argv) {
//     samsa::App app;
//     app.setup([](samsa::Settings& config) {
//       config.client_id = "my_app";
//       config.automatically_mark_as_consumed = false;
//     });
//     app.routes([](samsa::Routes& routes) {
//       routes.consumer_group("events", [](samsa::ConsumerGroupRoute& group) {
//         group.topic("user_events").consumer<EventsConsumer>();
//       });
//     });
//     return app.run(argc, argv);   // server | info | topics plan | topics create
//   }
//
// setup() and routes() record their blocks; the blocks run later, in the order given, once:
// in run() right after it parsed the command line (so a block sees the values of the app's
// own option()s and flag()s), or at the first serve(), validate(), producer(), or the
// non-const settings() / routes(), whichever comes first. A route that depends on an
// option is therefore drawn the ordinary way:
//
//     std::string dlq;
//     app.option("--dead-letter-topic", dlq, "...");
//     app.routes([&](samsa::Routes& routes) {
//       auto& t = routes.consumer_group("events").topic("user_events").consumer<EventsConsumer>();
//       if (!dlq.empty()) t.dead_letter_queue({.topic = dlq});
//     });
//
// The settings from outside the code (run()'s --config file, SAMSA_* variables, --set) are
// applied after the setup blocks, so they still override what the code sets.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "samsa/exit_codes.hpp"
#include "samsa/instrumentation.hpp"
#include "samsa/logger.hpp"
#include "samsa/producer.hpp"
#include "samsa/routing.hpp"
#include "samsa/settings.hpp"

namespace samsa {

struct ServeOptions {
  /// Serve only these consumer groups (all when empty).
  std::vector<std::string> consumer_groups;
  /// Bootstrap servers; overrides settings.kafka["bootstrap.servers"] when not empty.
  std::string brokers;
  /// Install SIGINT/SIGTERM handlers that stop gracefully (second signal: at once).
  bool handle_signals = false;
};

class App {
 public:
  App();
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  /// Records `block`, to run on the settings when the blocks are applied (see above: after
  /// run() parsed its command line). May be called more than once; blocks run in call order,
  /// setup() and routes() blocks interleaved as they were given. What `block` captures by
  /// reference must live until then.
  App& setup(const std::function<void(Settings&)>& block);
  /// Records `draw`, to run on the routes likewise.
  App& routes(const std::function<void(Routes&)>& draw);
  /// The routes and the settings, direct: these apply the recorded blocks first (so what
  /// is set here comes after them). Called before run(), they run the blocks before the
  /// command line is parsed.
  Routes& routes();
  Settings& settings();
  /// Without the blocks not applied yet.
  const Settings& settings() const { return settings_; }

  /// Replaces the logger (before serve()).
  App& logger(std::shared_ptr<Logger> logger);
  Logger& logger() const { return *logger_; }
  /// The event bus (samsa/instrumentation.hpp); subscribe before serve().
  Monitor& monitor() { return monitor_; }
  /// The port of the operations endpoint (/metrics, /health, the status page) while serve()
  /// runs with metrics_port set; 0 otherwise.
  int metrics_port() const;
  /// The app's producer (samsa/producer.hpp), idempotent by default; any thread. Created on
  /// first use with the settings and brokers known then: those serve() runs with once it
  /// started (serve() creates it at start when a route dispatches to a dead-letter topic),
  /// else settings.kafka["bootstrap.servers"] or KAFKA_BROKERS. Throws SettingsError for a
  /// bad property or no bootstrap servers. serve()'s graceful shutdown flushes it; it lives
  /// until the App is destroyed.
  Producer& producer();

  /// Checks settings and routes (after applying the recorded blocks); throws SettingsError /
  /// RoutingError naming every problem.
  void validate(const ServeOptions& options = {});

  /// Serves the routes until stop() (or a signal with handle_signals). Blocks the calling
  /// thread. Checks the librdkafka loaded (check_librdkafka) and validates first: an invalid
  /// setting throws before anything connects.
  /// Returns an ExitCode: kExitOk after a graceful shutdown (jobs finished, before_stop
  /// run, offsets committed synchronously and confirmed, group left), kExitUncommitted when
  /// the broker did not confirm that commit, kExitShutdownTimeout when the shutdown took
  /// longer than shutdown_timeout, kExitFatal on a fatal Kafka error, or when the cluster
  /// refused a consumer group's first connection for its security settings (a failed SASL
  /// authentication or TLS handshake: a setting to fix, which no retry fixes; the log names
  /// it). A broker that does not answer is retried, at start too.
  int serve(const ServeOptions& options = {});

  /// Asks serve() to shut down gracefully. Thread-safe; returns at once. A second call
  /// while shutting down does nothing (the second *signal* stops the process).
  void stop();
  /// True between the start of serve() and the end of its shutdown.
  bool running() const { return running_.load(); }

  /// The command line every Samsa app gets: `server`, `info`, `topics plan`, `topics create`.
  /// See --help.
  /// Returns the exit code for main().
  int run(int argc, char** argv);

  /// Adds an app-specific option to run()'s command line (e.g. "--db"), accepted before or
  /// after the subcommand. `target` keeps its value when the option is absent.
  App& option(const std::string& flag, std::string& target, const std::string& help);
  App& option(const std::string& flag, int& target, const std::string& help);
  /// An app-specific flag without a value (e.g. "--dry-run"): `target` becomes true when given.
  App& flag(const std::string& flag, bool& target, const std::string& help);

 private:
  struct CliOption {
    std::string flag, help;
    std::string* text = nullptr;
    int* number = nullptr;
    bool* on = nullptr;
  };
  std::vector<CliOption> cli_options_;
  Settings settings_;
  Routes routes_;
  // setup() and routes() blocks not applied yet, in call order; see apply_blocks().
  std::vector<std::function<void()>> blocks_;
  void apply_blocks();
  std::shared_ptr<Logger> logger_;
  // Set by logger(): --log-format then leaves the user's logger alone.
  bool custom_logger_ = false;
  // The operations surface (metrics_port): before monitor_, so that the monitor's thread,
  // which feeds it, is gone before it is.
  struct Operations;
  std::unique_ptr<Operations> ops_;
  Monitor monitor_;
  std::atomic<bool> running_{false};
  // Before runtime_: the listeners (their dead-letter dispatch) use it until they are gone.
  std::mutex producer_mu_;
  std::unique_ptr<Producer> producer_;
  std::atomic<const Producer*> producer_made_{nullptr};  // producer_, for /metrics without the lock
  std::string brokers_;  // what serve() resolved, for producer()
  struct Runtime;
  std::unique_ptr<Runtime> runtime_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;
};

}  // namespace samsa
