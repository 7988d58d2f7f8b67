// samsa::testing::ConsumerTest (include/samsa/testing/consumer_test.hpp): the runtime's
// listeners on in-memory Kafka clients. Everything that waits asks the listener thread,
// the only one that may read its partitions, through Listener::post, and polls that answer
// every 2 ms until the condition holds or the time is up.
#include "samsa/testing/consumer_test.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "runtime/listener.hpp"
#include "runtime/worker_pool.hpp"
#include "samsa/app.hpp"
#include "samsa/errors.hpp"
#include "samsa/exit_codes.hpp"
#include "testing/memory_consumer_client.hpp"
#include "testing/recording_producer.hpp"

namespace samsa::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using runtime::Listener;

/// Keeps the runtime's lines for log_lines(); writes nothing.
class Lines final : public Logger {
 public:
  void write(LogLevel level, std::string_view message) override {
    static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
    std::lock_guard lock(mu_);
    lines_.push_back(fmt::format("{} {}", kNames[static_cast<int>(level)], message));
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

std::string where(const std::string& topic, std::int32_t partition) {
  return fmt::format("{}/{}", topic, partition);
}

}  // namespace

struct ConsumerTest::Impl {
  // Declared before the groups: the listeners publish to the monitor, log, dispatch dead
  // letters and run jobs on the pool until they are destroyed.
  App app;
  std::shared_ptr<Lines> lines = std::make_shared<Lines>();
  RecordingProducer producer;
  std::vector<std::string> only;
  mutable std::mutex mu;
  std::vector<HookFailure> failures;  // under mu
  /// seeks(): where each error's or consumer's pause moved a partition. Under mu.
  std::map<TopicPartition, std::vector<std::int64_t>> moves;
  std::unique_ptr<runtime::WorkerPool> pool;
  struct Group {
    const ConsumerGroupRoute* route = nullptr;
    MemoryConsumerClient* client = nullptr;  // owned by the listener
    std::unique_ptr<Listener> listener;
    /// The partitions assigned (as the test asked: the listener follows at its next poll).
    std::vector<TopicPartition> assigned;
    /// Every partition of its topics (assigned or not): producing to another adds it.
    std::vector<TopicPartition> known;
  };
  std::vector<Group> groups;
  /// What produce() appended before the start, for the clients made then.
  std::vector<MemoryConsumerClient::Record> early;
  bool started = false;
  bool stopped = false;
  int exit_code = kExitOk;

  Impl() {
    app.logger(lines);
    Settings& s = app.settings();
    s.pause_timeout = 10ms;
    s.pause_max_timeout = 100ms;
    s.max_wait_time = 10ms;
    s.tick_interval = 1h;
    s.shutdown_timeout = 10s;
    app.monitor().subscribe_inline([this](const Event& e) {
      if (e.type == EventType::partition_paused && e.reason != "back-pressure" && !e.offsets.empty() &&
          e.offsets.front().offset >= 0) {
        std::lock_guard lock(mu);
        moves[{e.offsets.front().topic, e.offsets.front().partition}].push_back(e.offsets.front().offset);
        return;
      }
      if (e.type != EventType::hook_failed) return;
      HookFailure f;
      f.hook = e.hook;
      if (!e.offsets.empty()) {
        f.topic = e.offsets.front().topic;
        f.partition = e.offsets.front().partition;
        f.offset = e.offsets.front().offset;
      }
      f.attempt = e.attempt;
      f.error = e.error;
      std::lock_guard lock(mu);
      failures.push_back(std::move(f));
    });
  }

  ~Impl() {
    if (started && !stopped) stop();
  }

  bool runs(const ConsumerGroupRoute& g) const {
    return only.empty() || std::find(only.begin(), only.end(), g.name()) != only.end();
  }

  /// The running group that consumes `topic` (std::logic_error for none or several).
  Group& group_of(const std::string& topic) {
    Group* found = nullptr;
    for (auto& g : groups) {
      if (!g.route->find(topic)) continue;
      if (found)
        throw std::logic_error(fmt::format("ConsumerTest: topic '{}' is consumed by consumer groups '{}' and '{}': "
                                           "run one of them (consumer_groups())",
                                           topic, found->route->name(), g.route->name()));
      found = &g;
    }
    if (!found) throw std::logic_error(fmt::format("ConsumerTest: no consumer group that runs consumes topic '{}'", topic));
    return *found;
  }

  /// Runs `f` on `g`'s listener thread and returns what it returned. Throws
  /// std::runtime_error when the listener does not answer within revoke_timeout + 5 s (a
  /// revocation waits for its jobs that long inside the poll; else a poll hook is stuck,
  /// or the listener ended).
  template <class F>
  auto on_listener(Group& g, F f) -> decltype(f()) {
    using R = decltype(f());
    auto promise = std::make_shared<std::promise<R>>();
    auto answer = promise->get_future();
    g.listener->post([promise, f]() mutable {
      try {
        promise->set_value(f());
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    const auto patience = app.settings().revoke_timeout + 5s;
    if (answer.wait_for(patience) != std::future_status::ready)
      throw std::runtime_error(fmt::format(
          "ConsumerTest: consumer group '{}' did not answer within {} ms ({})", g.route->name(),
          std::chrono::duration_cast<std::chrono::milliseconds>(patience).count(),
          g.listener->finished() ? "its listener ended: see log_lines()"
                                 : "a revocation waiting for a stuck job, or a stuck before_poll/after_poll hook?"));
    return answer.get();
  }

  std::vector<Listener::PartitionView> views(Group& g) {
    Listener* l = g.listener.get();
    return on_listener(g, [l] { return l->partition_views(); });
  }

  /// Whether every partition of `g` is settled: every assigned partition is in the
  /// listener, no rebalance waits, no job runs or waits, and each one has delivered its
  /// whole log (or is paused by its consumer). `why` gets what is not, when not. Judged on
  /// the listener thread, where the client's position and the partitions' state are one
  /// moment's (read from here, a fetch could fall between them).
  /// `assignment_only`: only the first two (start, revoke, assign).
  /// A consumer's pause that ends before `deadline` is waited for.
  bool settled(Group& g, bool assignment_only, Clock::time_point deadline, std::string& why) {
    Listener* l = g.listener.get();
    MemoryConsumerClient* client = g.client;
    const std::vector<TopicPartition> assigned = g.assigned;
    why = on_listener(g, [l, client, assigned, assignment_only, deadline]() -> std::string {
      if (client->rebalance_pending()) return "a rebalance is in progress";
      const auto vs = l->partition_views();
      for (const auto& tp : assigned)
        if (std::none_of(vs.begin(), vs.end(), [&](const auto& v) {
              return !v.abandoned && v.topic == tp.topic && v.partition == tp.partition;
            }))
          return where(tp.topic, tp.partition) + " is not assigned yet";
      for (const auto& v : vs) {
        const std::string at = where(v.topic, v.partition);
        if (v.abandoned) return at + " is being revoked: its job, then revoked(), have not returned";
        if (std::find(assigned.begin(), assigned.end(), TopicPartition{v.topic, v.partition}) == assigned.end())
          return at + " is being revoked";
        if (v.held) return at + " waits for its previous instance to be gone";
        if (assignment_only) continue;
        if (v.busy || v.tick_due || v.failed) return at + " has a job in flight";
        if (v.resume_requested) return at + " is being resumed";
        // Its consumer's pause: settled when it lasts past the deadline, else waited for.
        if (v.pause.consumer_paused && v.pause.resume_at >= deadline) continue;
        if (v.pause.consumer_paused) return at + " is paused by its consumer for a little longer";
        if (v.pause.paused)
          return at + (v.pause.consumer_control ? " is moving to where its consumer sought"
                                                : " is paused after a failure (back-off), to be delivered again");
        const std::int64_t end = client->log_end(v.topic, v.partition);
        const std::int64_t next = client->position(v.topic, v.partition);
        if (v.queued > 0 || next < end)
          return fmt::format("{} has messages not handled yet (log end {}, next to fetch {}, queued {})", at, end, next,
                             v.queued);
      }
      return {};
    });
    return why.empty();
  }

  /// Waits until every group settled(); throws std::runtime_error naming what did not.
  void settle(const char* what, std::chrono::milliseconds timeout, bool assignment_only = false) {
    const auto until = Clock::now() + timeout;
    for (;;) {
      std::string why;
      bool all = true;
      for (auto& g : groups) {
        if (g.listener->finished())
          throw std::runtime_error(fmt::format("ConsumerTest::{}: consumer group '{}' stopped (exit code {}): see "
                                               "log_lines()",
                                               what, g.route->name(), g.listener->exit_code()));
        if (!settled(g, assignment_only, until, why)) {
          all = false;
          break;
        }
      }
      if (all) return;
      if (Clock::now() > until) {
        std::string last;
        {
          std::lock_guard lock(mu);
          if (!failures.empty())
            last = fmt::format("; the last failure: {} of {}: {}", failures.back().hook,
                               where(failures.back().topic, failures.back().partition), failures.back().error);
        }
        throw std::runtime_error(
            fmt::format("ConsumerTest::{}: not done after {} ms: {}{}", what, timeout.count(), why, last));
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  void start() {
    if (stopped) throw std::logic_error("ConsumerTest: the runtime was stopped; a stopped test only reads");
    if (started) return;
    ServeOptions options;
    options.consumer_groups = only;
    app.validate(options);
    for (const auto& g : app.routes().groups()) {
      if (!runs(*g)) continue;
      if (g->transactional())
        throw std::logic_error(fmt::format("ConsumerTest: consumer group '{}' is transactional: Kafka transactions "
                                           "need a real Kafka, which ConsumerTest does not have",
                                           g->name()));
    }
    pool = std::make_unique<runtime::WorkerPool>(app.settings().concurrency);
    std::size_t count = 0;
    for (const auto& g : app.routes().groups()) count += runs(*g) ? 1 : 0;
    for (const auto& g : app.routes().groups()) {
      if (!runs(*g)) continue;
      auto client = std::make_unique<MemoryConsumerClient>();
      client->incremental_ = true;  // revoke() and assign() move one partition at a time
      Group group;
      group.route = g.get();
      group.client = client.get();
      for (const auto& t : g->topics()) {
        const int partitions = std::max(1, t->partitions());
        for (int p = 0; p < partitions; ++p) group.assigned.push_back({t->name(), p});
      }
      for (const auto& r : early) {
        if (!g->find(r.topic)) continue;
        client->append(r);
        if (std::find(group.assigned.begin(), group.assigned.end(), TopicPartition{r.topic, r.partition}) ==
            group.assigned.end())
          group.assigned.push_back({r.topic, r.partition});
      }
      group.known = group.assigned;
      client->rebalance_assign(group.assigned);
      group.listener = std::make_unique<Listener>(app.settings(), *g, std::move(client), *pool, app.logger(),
                                                  app.monitor(), &producer, count);
      groups.push_back(std::move(group));
    }
    early.clear();
    started = true;
    for (auto& g : groups) g.listener->start();
    settle("start", 10s, true);
  }

  int stop() {
    if (stopped) return exit_code;
    stopped = true;
    if (!started) return exit_code;
    // As serve()'s shutdown: one shutdown_timeout for all groups; past it, what is marked
    // is committed and the jobs still running are given up on.
    const auto deadline = Clock::now() + app.settings().shutdown_timeout;
    for (auto& g : groups) g.listener->request_stop(deadline);
    for (auto& g : groups) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!g.listener->wait_finished(std::max(left, std::chrono::milliseconds(0)))) {
        g.listener->commit_marked_now(5s);
        exit_code = kExitShutdownTimeout;
        continue;
      }
      if (g.listener->exit_code() != kExitOk && (exit_code == kExitOk || g.listener->exit_code() == kExitFatal))
        exit_code = g.listener->exit_code();
    }
    return exit_code;
  }

  MemoryConsumerClient::Record record(const std::string& topic, TestMessage m) {
    if (m.partition < 0) throw std::invalid_argument("ConsumerTest::produce: a negative partition");
    MemoryConsumerClient::Record r;
    r.topic = topic;
    r.partition = m.partition;
    r.has_key = m.key.has_value();
    r.key = m.key.value_or("");
    r.has_payload = m.payload.has_value();
    r.payload = m.payload.value_or("");
    r.headers = std::move(m.headers);
    const auto at = m.timestamp.value_or(std::chrono::system_clock::now());
    r.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
    return r;
  }

  std::int64_t produce(const std::string& topic, TestMessage m) {
    if (stopped) throw std::logic_error("ConsumerTest: the runtime was stopped; a stopped test only reads");
    auto r = record(topic, std::move(m));
    if (!started) {
      // Checked now, so that a typo fails here rather than as a message nobody consumes.
      const auto& all = app.routes().groups();
      if (std::none_of(all.begin(), all.end(), [&](const auto& g) { return runs(*g) && g->find(topic); }))
        throw std::logic_error(fmt::format("ConsumerTest: no consumer group that runs consumes topic '{}'", topic));
      std::int64_t offset = 0;
      for (const auto& e : early) offset += e.topic == r.topic && e.partition == r.partition ? 1 : 0;
      early.push_back(std::move(r));
      return offset;
    }
    std::int64_t offset = -1;
    bool routed = false;
    for (auto& g : groups) {
      if (!g.route->find(topic)) continue;
      routed = true;
      const TopicPartition tp{topic, r.partition};
      offset = g.client->append(r);
      if (std::find(g.known.begin(), g.known.end(), tp) == g.known.end()) {
        // A new partition: assigned as a rebalance adds one.
        g.known.push_back(tp);
        g.assigned.push_back(tp);
        g.client->rebalance_assign({tp});
        g.listener.get()->post([] {});  // wakes the poll that serves it
      }
    }
    if (!routed)
      throw std::logic_error(fmt::format("ConsumerTest: no consumer group that runs consumes topic '{}'", topic));
    return offset;
  }
};

ConsumerTest::ConsumerTest() : impl_(std::make_unique<Impl>()) {}
ConsumerTest::~ConsumerTest() = default;

ConsumerTest& ConsumerTest::setup(const std::function<void(Settings&)>& block) {
  if (impl_->started) throw std::logic_error("ConsumerTest::setup: after the start");
  impl_->app.setup(block);
  impl_->app.settings();  // runs it now: a ConsumerTest has no command line to wait for
  return *this;
}

ConsumerTest& ConsumerTest::routes(const std::function<void(Routes&)>& draw) {
  if (impl_->started) throw std::logic_error("ConsumerTest::routes: after the start");
  impl_->app.routes(draw);
  impl_->app.routes();  // runs it now, as setup()
  return *this;
}

ConsumerTest& ConsumerTest::consumer_groups(std::vector<std::string> names) {
  if (impl_->started) throw std::logic_error("ConsumerTest::consumer_groups: after the start");
  impl_->only = std::move(names);
  return *this;
}

Producer& ConsumerTest::producer() { return impl_->producer; }
void ConsumerTest::fail_produces(int count) { impl_->producer.fail_next(count); }

std::int64_t ConsumerTest::produce(const std::string& topic, std::string payload, std::int32_t partition) {
  TestMessage m;
  m.payload = std::move(payload);
  m.partition = partition;
  return impl_->produce(topic, std::move(m));
}

std::int64_t ConsumerTest::produce(const std::string& topic, TestMessage message) {
  return impl_->produce(topic, std::move(message));
}

void ConsumerTest::start() { impl_->start(); }

void ConsumerTest::consume(std::chrono::milliseconds timeout) {
  impl_->start();
  impl_->settle("consume", timeout);
}

void ConsumerTest::tick(std::chrono::milliseconds timeout) {
  impl_->start();
  for (auto& g : impl_->groups) {
    Listener* l = g.listener.get();
    impl_->on_listener(g, [l] {
      l->tick_now();
      return true;
    });
  }
  impl_->settle("tick", timeout);
}

void ConsumerTest::revoke(const std::string& topic, std::int32_t partition, bool lost) {
  impl_->start();
  auto& g = impl_->group_of(topic);
  const TopicPartition tp{topic, partition};
  const auto it = std::find(g.assigned.begin(), g.assigned.end(), tp);
  if (it == g.assigned.end())
    throw std::logic_error(fmt::format("ConsumerTest::revoke: {} is not assigned", where(topic, partition)));
  g.assigned.erase(it);
  g.client->rebalance_revoke({tp}, lost);
  g.listener->post([] {});
  impl_->settle("revoke", 10s + impl_->app.settings().revoke_timeout, true);
}

void ConsumerTest::assign(const std::string& topic, std::int32_t partition) {
  impl_->start();
  auto& g = impl_->group_of(topic);
  const TopicPartition tp{topic, partition};
  if (std::find(g.assigned.begin(), g.assigned.end(), tp) != g.assigned.end())
    throw std::logic_error(fmt::format("ConsumerTest::assign: {} is assigned already", where(topic, partition)));
  g.assigned.push_back(tp);
  if (std::find(g.known.begin(), g.known.end(), tp) == g.known.end()) g.known.push_back(tp);
  g.client->rebalance_assign({tp});
  g.listener->post([] {});
  impl_->settle("assign", 10s, true);
}

int ConsumerTest::stop() { return impl_->stop(); }

std::optional<std::int64_t> ConsumerTest::marked(const std::string& topic, std::int32_t partition) const {
  if (!impl_->started || impl_->stopped) return std::nullopt;
  auto& g = impl_->group_of(topic);
  for (const auto& v : impl_->views(g))
    if (v.topic == topic && v.partition == partition && v.committable != OffsetTracker::kNone)
      return v.committable - 1;
  return std::nullopt;
}

std::int64_t ConsumerTest::committed(const std::string& topic, std::int32_t partition) const {
  if (!impl_->started) return -1;
  return impl_->group_of(topic).client->committed(topic, partition);
}

std::string ConsumerTest::committed_metadata(const std::string& topic, std::int32_t partition) const {
  if (!impl_->started) return {};
  return impl_->group_of(topic).client->committed_metadata(topic, partition);
}

bool ConsumerTest::paused(const std::string& topic, std::int32_t partition) const {
  if (!impl_->started || impl_->stopped) return false;
  auto& g = impl_->group_of(topic);
  for (const auto& v : impl_->views(g))
    if (v.topic == topic && v.partition == partition) return v.pause.consumer_paused;
  return false;
}

std::int64_t ConsumerTest::position(const std::string& topic, std::int32_t partition) const {
  if (!impl_->started) return 0;
  auto& g = impl_->group_of(topic);
  const std::int64_t fetch = g.client->position(topic, partition);
  if (impl_->stopped) return fetch;
  // Settled, nothing is queued, so the client's position is the next delivery; a pause of
  // the consumer's that moves it waits in the listener until it ends.
  for (const auto& v : impl_->views(g))
    if (v.topic == topic && v.partition == partition && v.pause.consumer_paused &&
        v.pause.resume_from != OffsetTracker::kNone)
      return v.pause.resume_from;
  return fetch;
}

std::vector<std::int64_t> ConsumerTest::seeks(const std::string& topic, std::int32_t partition) const {
  std::lock_guard lock(impl_->mu);
  const auto it = impl_->moves.find({topic, partition});
  return it == impl_->moves.end() ? std::vector<std::int64_t>{} : it->second;
}

std::vector<ProducedMessage> ConsumerTest::produced(const std::string& topic) const {
  std::vector<ProducedMessage> out;
  for (auto& m : impl_->producer.sent())
    if (topic.empty() || m.topic == topic) out.push_back(std::move(m));
  return out;
}

std::vector<HookFailure> ConsumerTest::failures() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failures;
}

std::vector<std::string> ConsumerTest::log_lines() const { return impl_->lines->lines(); }

}  // namespace samsa::testing
