#pragma once
// samsa::testing::ConsumerTest: unit tests of an app's own consumers, with no broker
// (what karafka-testing gives Karafka users). Link samsa::testing.
//
//   samsa::testing::ConsumerTest test;
//   test.routes([](samsa::Routes& routes) {
//     routes.consumer_group("import").topic("events").consumer<ImportConsumer>();
//   });
//   test.produce("events", R"({"id": 1})");
//   test.produce("events", R"({"id": 2})");
//   test.consume();                                // until both were handled
//   EXPECT_EQ(test.marked("events"), 1);           // the last message marked
//   EXPECT_EQ(test.stop(), samsa::kExitOk);        // before_stop, revoked, the final commit
//   EXPECT_EQ(test.committed("events"), 2);        // what the group would resume from
//
// What runs: the code `server` runs. Each consumer group of the routes gets the runtime's
// listener, worker pool, partitions and commit path; only Kafka is replaced, by an
// in-memory log per topic-partition that the test appends to and a group coordinator that
// keeps the committed offsets, and the app's producer by one that records what it was
// given (dead letters included). So automatic and manual marking, the back-off and the
// redelivery from the first unmarked message after an exception, pause, seek, the
// dead-letter queue, offset stores, tick(), revoked() and before_stop() behave exactly as
// in production. Not here: Kafka transactions (a transactional consumer group needs a
// real Kafka: start() throws std::logic_error) and what only a broker does (the
// assignment among several members, librdkafka's own settings: `kafka.*` is not used).
//
// Settings: the test's start from Samsa's defaults with these changed, for speed, before
// the test's own setup() blocks run (which may change them back): pause_timeout 10 ms and
// pause_max_timeout 100 ms (the back-off after an exception), max_wait_time 10 ms,
// tick_interval one hour (tick() runs when the test calls tick()), shutdown_timeout 10 s.
//
// Partitions: a topic has the partitions its route declares (TopicRoute::partitions), else
// one; producing to a higher partition adds it. Every partition is assigned to the one
// member when the runtime starts (initialized() runs then); revoke() and assign() move
// them.
//
// Threads: call its methods from one thread, the test's. The consumer's hooks run on the
// worker threads (before_poll/after_poll on the group's listener thread) as in production;
// each method returns once what it waited for happened, and throws std::runtime_error
// naming what did not happen in time. A hook that never returns: consume(), tick(),
// revoke() and assign() throw when their time is up; stop() gives up on it after
// shutdown_timeout (kExitShutdownTimeout, what is marked committed, as serve() does); the
// destructor then waits for it, as a process waits for its threads. The destructor stops
// the runtime (as stop()) when the test did not.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "samsa/logger.hpp"
#include "samsa/producer.hpp"
#include "samsa/routing.hpp"
#include "samsa/settings.hpp"

namespace samsa::testing {

/// A message the test appends to a topic.
struct TestMessage {
  /// std::nullopt: a null payload (a tombstone).
  std::optional<std::string> payload;
  std::optional<std::string> key;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  std::int32_t partition = 0;
  /// The message's timestamp; when the test appended it when not set.
  std::optional<std::chrono::system_clock::time_point> timestamp;
};

/// A message the app's producer was given (a dead letter, or the consumer's own output
/// through ConsumerTest::producer()), copied.
struct ProducedMessage {
  std::string topic;
  std::optional<std::string> key, payload;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  /// The value of header `name` ("" when absent or null).
  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v.value_or("");
    return "";
  }
};

/// A hook that threw (the runtime's EventType::hook_failed).
struct HookFailure {
  /// "consume", "after_fetch", "tick", "initialized", "revoked", "before_stop", ...
  std::string hook;
  std::string topic;
  std::int32_t partition = -1;
  /// consume/after_fetch: the failed batch's first offset (the failed message's with
  /// batch_fetching(false)); other hooks: the partition's first unmarked offset.
  std::int64_t offset = -1;
  /// The failure's number for that first unmarked message (0: not counted).
  int attempt = 0;
  /// The exception's what().
  std::string error;
};

class ConsumerTest {
 public:
  ConsumerTest();
  /// Stops the runtime when it runs (as stop(), its result ignored).
  ~ConsumerTest();
  ConsumerTest(const ConsumerTest&) = delete;
  ConsumerTest& operator=(const ConsumerTest&) = delete;

  /// Runs `block` on the settings, now (an App records its blocks until its command line is
  /// parsed; a ConsumerTest has none). Before the runtime starts.
  ConsumerTest& setup(const std::function<void(Settings&)>& block);
  /// Runs `draw` on the routes, now. Before the runtime starts.
  ConsumerTest& routes(const std::function<void(Routes&)>& draw);
  /// Runs only these consumer groups of the routes (all when never called).
  ConsumerTest& consumer_groups(std::vector<std::string> names);
  /// The app's producer as the test gives it: it keeps every message (produced()),
  /// answers at once, and fails the next fail_produces() ones. Route factories that need
  /// a producer take this one; the dead-letter queue uses it.
  Producer& producer();
  /// The next `count` messages given to producer() fail (MSG_TIMED_OUT), as when the
  /// brokers are away: a dead letter that could not be sent is retried, never skipped.
  void fail_produces(int count);

  // --- Feeding ---

  /// Appends a message to `topic` (routed in a group that runs); returns its offset. Before
  /// or after the start: once started, the runtime fetches it at once, as from Kafka (how
  /// messages fall into batches then depends on timing); consume() waits until it was
  /// handled. Not to be confused with produced(): what the app's producer sent.
  std::int64_t produce(const std::string& topic, std::string payload, std::int32_t partition = 0);
  std::int64_t produce(const std::string& topic, TestMessage message);

  // --- Running (each starts the runtime first when it does not run yet) ---

  /// Starts the runtime: validates settings and routes (SettingsError / RoutingError as
  /// App::validate), and returns once every partition is assigned (its consumer instance
  /// made; initialized() runs in its first job, as in production: consume() and tick()
  /// wait for it).
  void start();
  /// Returns once every message appended so far was handled: handed to a consume() that
  /// returned, or moved past by the dead-letter queue; a partition whose consumer paused it
  /// (pause(), for longer than this waits) counts as handled. Waits through the back-off
  /// and redeliveries after exceptions. Throws std::runtime_error after `timeout`, naming
  /// each partition that still has messages and its last failure.
  void consume(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Runs tick() on every partition whose consumer has one (not one paused after an error),
  /// as when tick_interval passed, and returns once it and what it led to are done (as
  /// consume()).
  void tick(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Takes the partition away as a rebalance does: its job in flight finishes, revoked()
  /// runs, its marks are committed, its consumer instance is destroyed. `lost`: as when the
  /// session expired (revoked() runs, nothing is committed). Returns once it is gone.
  void revoke(const std::string& topic, std::int32_t partition = 0, bool lost = false);
  /// Gives the partition back (a new consumer instance, initialized(), delivery from the
  /// committed offset). Returns once it is assigned, as start().
  void assign(const std::string& topic, std::int32_t partition = 0);
  /// The graceful shutdown, as on SIGTERM: the jobs finish, before_stop() and revoked() run,
  /// the marks are committed. Returns the exit code serve() would (kExitOk, or
  /// kExitUncommitted, ...). Later calls return the same; after it, only the readers work.
  int stop();

  // --- Reading (what the runtime holds now: call after consume(), tick(), ...) ---

  /// The offset of the last message marked in this assignment of the partition (std::nullopt:
  /// none marked, the partition is not assigned, or stop() ran).
  std::optional<std::int64_t> marked(const std::string& topic, std::int32_t partition = 0) const;
  /// What the group has committed: the offset it resumes from (the last marked + 1), -1 when
  /// nothing. The in-memory coordinator has no auto-commit timer: marks are committed at a
  /// revocation and at stop(), and by mark_as_consumed_sync and commit_offsets(_sync).
  std::int64_t committed(const std::string& topic, std::int32_t partition = 0) const;
  /// The metadata committed with it ("": none).
  std::string committed_metadata(const std::string& topic, std::int32_t partition = 0) const;
  /// The partition is paused by its consumer (pause(), pause_consecutive()) and not resumed
  /// (false after stop()).
  bool paused(const std::string& topic, std::int32_t partition = 0) const;
  /// Where the partition delivers next: the offset after the last message handed to the
  /// consumer, or where a seek, a pause or the rewind after an exception moved it.
  std::int64_t position(const std::string& topic, std::int32_t partition = 0) const;
  /// Every position the runtime moved the partition to, in order: the targets of the
  /// consumer's seek() and pause() calls, and the rewind to the first unmarked message
  /// after each failure (the runtime's EventType::partition_paused events).
  std::vector<std::int64_t> seeks(const std::string& topic, std::int32_t partition = 0) const;
  /// What the app's producer was given, in order; only `topic`'s when not empty (the
  /// dead-letter topic's: the dead letters, with their original_* and error_* headers).
  std::vector<ProducedMessage> produced(const std::string& topic = {}) const;
  /// Every hook that threw, in order.
  std::vector<HookFailure> failures() const;
  /// The runtime's log lines ("level message"), in order.
  std::vector<std::string> log_lines() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace samsa::testing
