#include "samsa/app.hpp"

#include <spdlog/fmt/fmt.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "app_info.hpp"
#include "kafka/library_version.hpp"
#include "kafka/producer_client.hpp"
#include "kafka/transactional_producer.hpp"
#include "ops/operations.hpp"
#include "runtime/listener.hpp"
#include "runtime/signals.hpp"
#include "runtime/worker_pool.hpp"
#include "samsa/errors.hpp"
#include "samsa/version.hpp"
#include "settings_table.hpp"

namespace samsa {

using std::chrono::milliseconds;

namespace {
// Past shutdown_timeout, how long the commit of what is marked may still take.
constexpr milliseconds kFinalCommitBudget{5000};
}  // namespace

// What serve() runs. Destroyed by ~App: the listeners join first (each may wait for a
// job still running after a shutdown timeout), then the pool.
struct App::Runtime {
  std::unique_ptr<runtime::WorkerPool> pool;
  // Used by the workers' jobs: gone after the pool.
  std::unique_ptr<runtime::TransactionalProducers> transactional;
  std::vector<std::unique_ptr<runtime::Listener>> listeners;
  ~Runtime() {
    listeners.clear();
    pool.reset();
    transactional.reset();
  }
};

struct App::Operations : ops::Operations {
  using ops::Operations::Operations;
};

App::App() : logger_(make_default_logger()) {}

App::~App() { runtime_.reset(); }

int App::metrics_port() const { return ops_ ? ops_->port() : 0; }

App& App::setup(const std::function<void(Settings&)>& block) {
  blocks_.push_back([this, block] { block(settings_); });
  return *this;
}

App& App::routes(const std::function<void(Routes&)>& draw) {
  blocks_.push_back([this, draw] { draw(routes_); });
  return *this;
}

Routes& App::routes() {
  apply_blocks();
  return routes_;
}

Settings& App::settings() {
  apply_blocks();
  return settings_;
}

void App::apply_blocks() {
  // Taken out first: a block may itself call setup(), routes() or settings(); what it
  // records runs after it, in this same call.
  while (!blocks_.empty()) {
    std::vector<std::function<void()>> now;
    now.swap(blocks_);
    for (auto& b : now) b();
  }
}

App& App::logger(std::shared_ptr<Logger> logger) {
  logger_ = std::move(logger);
  custom_logger_ = true;
  return *this;
}

Producer& App::producer() {
  apply_blocks();  // nothing once serve() started (it applied them)
  std::lock_guard lock(producer_mu_);
  if (!producer_) {
    std::string brokers = brokers_;
    if (brokers.empty() && settings_.kafka.count("bootstrap.servers") == 0)
      if (const char* env = std::getenv("KAFKA_BROKERS")) brokers = env;
    producer_ = kafka::make_producer(settings_, brokers, *logger_);
    producer_made_.store(producer_.get(), std::memory_order_release);
  }
  return *producer_;
}

void App::validate(const ServeOptions& options) {
  apply_blocks();
  settings_.validate();
  auto problems = routes_.problems();
  for (const auto& g : routes_.groups())
    if (g->transactional() && settings_.transactional_id.empty())
      problems.push_back("consumer group '" + g->name() +
                         "' is transactional: set transactional_id, the prefix of its producers' transactional.id, "
                         "unique per running process and the same across its restarts (e.g. the pod's name)");
  for (const auto& g : options.consumer_groups)
    if (!routes_.find(g))
      problems.push_back("consumer group '" + g + "' is not routed (see `info` for the routes)");
  if (!problems.empty()) {
    std::ostringstream msg;
    msg << "invalid routes:";
    for (const auto& p : problems) msg << "\n  - " << p;
    throw RoutingError(msg.str());
  }
}

void App::stop() {
  std::lock_guard lock(stop_mu_);
  stop_requested_ = true;
  stop_cv_.notify_all();
}

int App::serve(const ServeOptions& options) {
  check_librdkafka();
  validate(options);
  {
    // Before running_ is set, so that a stop() by anyone who saw running() is kept.
    std::lock_guard lock(stop_mu_);
    stop_requested_ = false;
  }
  if (running_.exchange(true)) throw Error("App::serve is already running");
  // Anything thrown before the listeners run (e.g. a librdkafka property librdkafka
  // rejects) leaves the app as it was: nothing consumed, nothing committed.
  struct Running {
    std::atomic<bool>& flag;
    ~Running() { flag = false; }
  } running_guard{running_};

  std::string brokers = options.brokers;
  if (brokers.empty())
    if (const char* env = std::getenv("KAFKA_BROKERS")) brokers = env;

  runtime_.reset();
  runtime_ = std::make_unique<Runtime>();
  Runtime* rt = runtime_.get();
  std::vector<const ConsumerGroupRoute*> groups;
  for (const auto& g : routes_.groups())
    if (options.consumer_groups.empty() ||
        std::find(options.consumer_groups.begin(), options.consumer_groups.end(), g->name()) !=
            options.consumer_groups.end())
      groups.push_back(g.get());

  {
    std::lock_guard lock(producer_mu_);
    brokers_ = brokers;
  }
  // A route that dispatches to a dead-letter topic needs the producer: built now, so that
  // a bad producer property stops the start, not the first poison message.
  Producer* producer = nullptr;
  for (const auto* g : groups)
    for (const auto& t : g->topics())
      if (t->dead_letter_queue() && t->dead_letter_queue()->dispatch) producer = &this->producer();

  // The operations endpoint: subscribed before the listeners publish, listening before they
  // start (so /health/ready says "joining" rather than nothing), stopped when serve() returns
  // (before the listeners it reads can go).
  struct OpsGuard {
    App::Operations* ops = nullptr;
    ~OpsGuard() {
      if (ops) ops->stop();
    }
  } ops_guard;
  if (settings_.metrics_port > 0 && !ops_) ops_ = std::make_unique<Operations>(settings_, *logger_, monitor_);

  rt->pool = std::make_unique<runtime::WorkerPool>(settings_.concurrency);
  // A transactional group's workers each get a transactional producer, made on first use
  // (a bad property stops the start here).
  if (std::any_of(groups.begin(), groups.end(), [](const ConsumerGroupRoute* g) { return g->transactional(); }))
    rt->transactional = std::make_unique<runtime::TransactionalProducers>(settings_, brokers, *logger_,
                                                                          rt->pool->size());
  if (rt->transactional) rt->transactional->prepare(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  for (const auto* g : groups) {
    rt->listeners.push_back(std::make_unique<runtime::Listener>(settings_, *g, brokers, *rt->pool,
                                                                *logger_, monitor_, producer, groups.size()));
    if (g->transactional()) rt->listeners.back()->use_transactional_producers(rt->transactional.get());
  }
  // The listeners are all built (the HTTP threads read the vector, never while it grows)
  // and none started.
  if (settings_.metrics_port > 0) {
    ops_->start([rt] {
      std::vector<ops::ListenerState> out;
      for (const auto& l : rt->listeners) {
        auto h = l->health();
        out.push_back({l->name(), h.started, h.joined, h.stopping, h.finished, h.last_loop, h.rebalancing_since,
                       h.longest_job, h.partitions, h.brokers_down_since, std::move(h.broker_error),
                       std::move(h.missing_topics)});
      }
      return out;
    }, [this] {
      // Not under producer_mu_: the shutdown's flush holds it for up to shutdown_timeout.
      const Producer* p = producer_made_.load(std::memory_order_acquire);
      if (!p) return ops::Metrics::Scrape::Producer{};
      const auto c = kafka::counts_of(*p);
      return ops::Metrics::Scrape::Producer{c.delivered, c.failed, c.in_flight};
    });
    ops_guard.ops = ops_.get();
  }

  const std::string librdkafka_file = kafka::loaded_file();
  logger_->info(fmt::format("samsa {} on librdkafka {} (built against {}{}): serving {} consumer group(s), {} workers",
                            kVersion, librdkafka_version(), version_text(kafka::built_version()),
                            librdkafka_file.empty() ? "" : ", from " + librdkafka_file, groups.size(),
                            settings_.concurrency));
  for (const auto* g : groups) logger_->info(detail::describe_group(settings_, *g, brokers, groups.size()));

  std::unique_ptr<runtime::SignalGuard> signals;
  if (options.handle_signals)
    signals = std::make_unique<runtime::SignalGuard>([this](int sig) {
      logger_->info(fmt::format("received signal {}: shutting down gracefully (a second signal "
                                "stops at once)", sig));
      stop();
    });

  try {
    for (auto& l : rt->listeners) l->start();
  } catch (...) {
    // Stop the groups already started: nothing keeps consuming after serve() threw.
    for (auto& l : rt->listeners) l->request_stop();
    if (ops_guard.ops) ops_guard.ops->stop();  // its HTTP threads read the listeners
    ops_guard.ops = nullptr;
    runtime_.reset();
    throw;
  }

  if (ops_guard.ops) ops_guard.ops->set_state("running");
  // Wait for stop() or for a listener that ended by itself (fatal error).
  {
    std::unique_lock lock(stop_mu_);
    while (!stop_requested_) {
      bool any_finished = false;
      for (auto& l : rt->listeners) any_finished |= l->finished();
      if (any_finished) break;
      stop_cv_.wait_for(lock, milliseconds(100));
    }
  }
  const auto started = std::chrono::steady_clock::now();
  logger_->info(fmt::format("shutting down: stop fetching, finish the jobs in flight, before_stop, "
                            "commit, leave the group (at most {} ms)", settings_.shutdown_timeout.count()));
  if (ops_guard.ops) ops_guard.ops->set_state("stopping");
  if (!monitor_.empty()) monitor_.publish({EventType::shutdown_started, {}, {}, 0, {}});
  for (auto& l : rt->listeners) l->request_stop(started + settings_.shutdown_timeout);

  int code = kExitOk;
  for (auto& l : rt->listeners) {
    auto left = settings_.shutdown_timeout -
                std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    if (!l->wait_finished(std::max(left, milliseconds(0)))) {
      logger_->error(fmt::format("consumer group {}: shutdown did not finish within shutdown_timeout "
                                 "({} ms); committing what is marked and giving up on the jobs still running",
                                 l->name(), settings_.shutdown_timeout.count()));
      l->commit_marked_now(kFinalCommitBudget);
      code = kExitShutdownTimeout;
    } else if (l->exit_code() != kExitOk && (code == kExitOk || l->exit_code() == kExitFatal)) {
      code = l->exit_code();
    }
  }
  // The listeners are done (their dead-letter dispatches waited for delivery); what the
  // user's code produced may still be on its way.
  {
    std::lock_guard lock(producer_mu_);
    if (producer_) {
      const auto left = settings_.shutdown_timeout -
                        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
      if (const std::size_t undelivered = producer_->flush(std::max(left, milliseconds(1000)))) {
        logger_->error(fmt::format("shutdown: {} produced message(s) not delivered within shutdown_timeout; they "
                                   "are lost unless the producer delivers them before the app is destroyed",
                                   undelivered));
        if (code == kExitOk) code = kExitUncommitted;
      }
    }
  }
  if (!monitor_.empty()) monitor_.publish({EventType::shutdown_finished, {}, {}, 0, {}});
  monitor_.flush(milliseconds(2000));  // the asynchronous subscribers have seen it all
  logger_->info(fmt::format("shut down with exit code {}", code));
  return code;
}

namespace detail {

namespace {
// " name=value" for each setting of `table` that `shown` accepts, read from `owner`.
template <class Table, class Owner, class Shown>
std::string settings_text(const Table& table, const Owner& owner, Shown shown) {
  std::string out;
  for (const auto& s : table)
    if (shown(s)) out += fmt::format(" {}={}", s.name, s.text(owner));
  return out;
}
}  // namespace

std::string describe_group(const Settings& app, const ConsumerGroupRoute& g, const std::string& brokers,
                           std::size_t groups) {
  auto kafka = effective_kafka(app, g);
  if (!brokers.empty()) kafka["bootstrap.servers"] = brokers;
  // As the listener does.
  add_fetch_queue_defaults(kafka, samsa::kafka::loaded_version(), buffer_share(app, groups).librdkafka);
  // The group's line: what one librdkafka consumer serves the whole group with (the group's
  // effective group-level settings, then the app's own); each topic's line: the rest.
  auto on = [](Level level) { return [level](const InheritedSetting& s) { return s.level == level; }; };
  std::string out = fmt::format("consumer group '{}':{}", g.name(), g.transactional() ? " transactional" : "");
  out += settings_text(inherited_settings(), effective(app, g), on(Level::group));
  out += settings_text(app_settings(), app, [](const AppSetting&) { return true; });
  for (const auto& [k, v] : kafka) out += fmt::format("\n    kafka.{}={}", k, redacted_value(k, v));
  // The app's producer (dead letters, App::producer()) and, for a transactional group, its
  // transactional producers: what they add to, or change of, the connection's properties.
  const auto own = [&](const std::map<std::string, std::string>& props, const char* prefix) {
    for (const auto& [k, v] : props) {
      const auto shared = app.kafka.find(k);
      if (k == "bootstrap.servers" || (shared != app.kafka.end() && shared->second == v)) continue;
      out += fmt::format("\n    {}.{}={}", prefix, k, redacted_value(k, v));
    }
  };
  const auto producer = samsa::kafka::producer_properties(app, brokers);
  own(producer, "producer.kafka");
  if (g.transactional()) {
    out += fmt::format("\n    transactional producers: one per worker, transactional.id {}-<worker>",
                       app.transactional_id.empty() ? std::string("(transactional_id not set)") : app.transactional_id);
    auto txn = samsa::kafka::transactional_properties(app, brokers, 0);
    txn.erase("transactional.id");
    for (auto it = txn.begin(); it != txn.end();) {
      const auto p = producer.find(it->first);
      it = p != producer.end() && p->second == it->second ? txn.erase(it) : std::next(it);
    }
    own(txn, "transactional producers' kafka");
  }
  for (const auto& t : g.topics()) {
    out += fmt::format("\n  topic '{}':", t->name());
    out += settings_text(inherited_settings(), effective(app, g, *t), on(Level::topic));
    if (const auto& dlq = t->dead_letter_queue())
      out += dlq->dispatch ? fmt::format(" dead_letter_queue={} max_retries={}", dlq->topic, dlq->max_retries)
                           : fmt::format(" dead_letter_queue=skip max_retries={}", dlq->max_retries);
  }
  return out;
}

}  // namespace detail
}  // namespace samsa
