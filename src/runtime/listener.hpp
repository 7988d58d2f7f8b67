#pragma once
// The listener of one consumer group: one librdkafka consumer, one thread that polls it,
// the rebalance callbacks, the scheduling of jobs on the worker pool, the pause/back-off of
// failed partitions, back-pressure, ticks, and the group's part of the graceful shutdown.
//
// The loop (listener thread) never waits for jobs:
//   before_poll hooks (of idle partitions whose consumer has them) -> poll: messages go to
//   their partition's queue, waiting at most max_wait_time for the first one (less when a
//   job ends, a tick or a resume is due) -> after_poll hooks -> process the jobs that ended
//   (pause and rewind a failed partition) -> start a job for every idle partition with
//   queued messages (up to 50 batches of max_messages) -> ticks, resumes, stores when due.
// A partition has at most one job in flight; the jobs of different partitions run in
// parallel on `concurrency` workers. A partition whose queue is full is paused in librdkafka
// (nothing is lost: librdkafka resumes after the last message it handed out), so a long
// consume() costs its own partition's progress and nothing else, and the listener keeps
// polling (max.poll.interval.ms is met by the listener, not by the jobs).
// Rebalance callbacks run inside the poll: a revocation drops the revoked partitions'
// queues, waits for their jobs only (revoke_timeout at most), runs revoked(), commits their
// marks synchronously, and only then gives them up.
//
// Kafka is reached only through kafka::ConsumerClient (librdkafka in production, a fake in
// the unit tests); commits go through the Committer.
//
// The member functions live in listener.cpp (the loop, the intake, housekeeping, the
// client's callbacks), scheduler.cpp (the jobs), rebalance.cpp, shutdown.cpp, commits.cpp
// and watchers.cpp (the watermark and missing-topic threads).
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kafka/connection_log.hpp"
#include "kafka/consumer_client.hpp"
#include "runtime/committer.hpp"
#include "runtime/group_logger.hpp"
#include "runtime/partition.hpp"
#include "runtime/pausing.hpp"
#include "runtime/transactional_producers.hpp"
#include "runtime/worker_pool.hpp"
#include "samsa/instrumentation.hpp"
#include "samsa/logger.hpp"
#include "samsa/producer.hpp"
#include "samsa/routing.hpp"
#include "samsa/topic_partition.hpp"

namespace samsa::runtime {

class Listener final : private kafka::ClientEvents {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  /// How long a synchronous commit may wait for the coordinator, at most.
  static constexpr std::chrono::milliseconds kCommitBudget{30000};

  /// Builds the librdkafka consumer (throws SettingsError for a bad librdkafka property,
  /// before anything connects). Does not start the thread.
  /// `producer`: for the routes' dead-letter dispatch (null when none dispatches); it
  /// outlives the listener. `groups`: how many consumer groups the process runs, which
  /// share max_buffered_bytes (buffer_share).
  Listener(const Settings& settings, const ConsumerGroupRoute& group, const std::string& brokers,
           WorkerPool& pool, Logger& logger, const Monitor& monitor, Producer* producer = nullptr,
           std::size_t groups = 1);
  /// The same on a client of the caller's (the unit tests' fake).
  Listener(const Settings& settings, const ConsumerGroupRoute& group, std::unique_ptr<kafka::ConsumerClient> client,
           WorkerPool& pool, Logger& logger, const Monitor& monitor, Producer* producer = nullptr,
           std::size_t groups = 1);
  /// Joins the thread (which may wait for a stuck job to return).
  ~Listener() override;

  /// Subscribes and starts the listener thread.
  void start();
  /// Asks the loop to stop and run the graceful shutdown, whose final commit waits no
  /// longer than `deadline`. Thread-safe, returns at once.
  void request_stop(Deadline deadline = Deadline::max());
  /// True once the thread finished its shutdown (or failed).
  bool finished() const { return finished_.load(); }
  /// Blocks until finished() or `timeout`; returns finished().
  bool wait_finished(std::chrono::milliseconds timeout);
  /// kExitOk; kExitFatal after a fatal Kafka error; kExitUncommitted when the graceful
  /// shutdown ended without the broker confirming every marked offset.
  int exit_code() const { return exit_code_.load(); }

  /// What /health/live and /health/ready read of this group: written by the listener
  /// thread, read from any thread (atomics only; a snapshot may mix two moments).
  struct Health {
    bool started = false;    ///< the thread runs
    bool joined = false;     ///< an assignment (maybe empty) came since start
    bool stopping = false;
    bool finished = false;
    /// The loop's last turn (epoch before the first).
    std::chrono::steady_clock::time_point last_loop{};
    /// Since when the group has no assignment: from start until the first one, and from an
    /// eager revocation until the next (epoch when it has one).
    std::chrono::steady_clock::time_point rebalancing_since{};
    /// The longest a job running now has run (sampled every 100 ms).
    std::chrono::milliseconds longest_job{0};
    std::size_t partitions = 0;
    /// Why it may not join (ops::ListenerState has the same): since when no broker answers
    /// (epoch while one does), the last connection error, the topics said not to exist.
    std::chrono::steady_clock::time_point brokers_down_since{};
    std::string broker_error;
    std::vector<std::string> missing_topics;
  };
  Health health() const;

  /// The shutdown-timeout path, from another thread while the listener is stuck: store
  /// and commit synchronously whatever is marked. Blocks at most `budget`.
  void commit_marked_now(std::chrono::milliseconds budget);

  // For Partition and Consumer.
  kafka::ConsumerClient& client() const { return *client_; }
  const std::string& name() const { return group_.name(); }
  Logger& logger() const { return logger_; }
  bool observed() const { return !monitor_.empty(); }
  void publish(const Event& e) const { monitor_.publish(e); }
  /// The app's producer, for dead-letter dispatch; null when the app gave none.
  Producer* producer() const { return producer_; }
  /// The group commits its offsets in Kafka transactions (ConsumerGroupRoute::transactional).
  bool transactional() const { return group_.transactional(); }
  /// The app's transactional producers (set before start() for a transactional group).
  void use_transactional_producers(TransactionalProducers* producers) { txn_producers_ = producers; }
  TransactionalProducers* transactional_producers() const { return txn_producers_; }

  /// Synchronous commit of `p`'s marked offset; retries transient coordinator errors,
  /// waiting kCommitBudget at most. Returns the final error (NO_ERROR on success or when
  /// nothing new is marked).
  kafka::Status commit_partition_sync(Partition& p);
  /// Stores every partition's marks and commits what moved synchronously (all partitions
  /// when `only` is null), waiting until `deadline` at most. Returns the commit's error.
  kafka::Status commit_all_sync(const std::vector<Partition*>* only = nullptr,
                                Deadline deadline = std::chrono::steady_clock::now() + kCommitBudget);
  /// Stores every partition's marks and asks librdkafka for an asynchronous commit.
  void commit_async();
  /// The metadata of `p`'s committed offset as the group coordinator has it (empty when
  /// none, or nothing committed). Any thread; blocks for one round trip, `timeout` at most.
  /// Throws KafkaError when the coordinator did not answer.
  std::string committed_metadata(const Partition& p, std::chrono::milliseconds timeout);

  // --- For samsa::testing::ConsumerTest (src/testing/consumer_test.cpp), which reads what
  // only the listener thread may read and asks for hooks on demand. ---

  /// Runs `task` on the listener thread at the end of a turn of its loop (after the jobs
  /// that ended were processed and housekeeping ran), and cuts the turn's wait for messages
  /// short. Any thread. A task posted once the loop ended (stop, a fatal error) never runs:
  /// the caller waits with a timeout and checks finished().
  void post(std::function<void()> task);
  /// One partition as the listener sees it. Listener thread (a posted task).
  struct PartitionView {
    std::string topic;
    std::int32_t partition = 0;
    /// A job (batch or hook) was handed to the pool and its end is not processed yet.
    bool busy = false;
    std::size_t queued = 0;
    bool tick_due = false;
    /// Its last job or hook failed and the pause after it was not applied yet (false while
    /// a job is in flight: busy).
    bool failed = false;
    PauseState pause;
    /// The next offset to commit, from its marks (OffsetTracker::kNone: nothing marked).
    std::int64_t committable = OffsetTracker::kNone;
    /// Its consumer called resume(): the pause ends at the next housekeeping.
    bool resume_requested = false;
    /// Waits for an abandoned instance of the same partition to be gone (no job starts).
    bool held = false;
    /// A revocation gave up waiting for its job: out of the assignment, its job and then
    /// revoked() still to return.
    bool abandoned = false;
  };
  /// Every partition the listener holds, abandoned ones included (last).
  std::vector<PartitionView> partition_views() const;
  /// Ticks every partition whose consumer has tick() at this turn's housekeeping, as when
  /// tick_interval passed. Listener thread (a posted task).
  void tick_now() { next_tick_ = std::chrono::steady_clock::time_point::min(); }

 private:
  void run();
  void loop();
  void shutdown();
  /// Shutdown only: records the partitions of `parts` whose marks the broker has not
  /// confirmed (for the log and kExitUncommitted).
  void note_unconfirmed(const std::vector<Partition*>& parts);
  /// Shutdown only: polls for `duration` to let a rebalance complete, dropping messages.
  void serve_rebalance_for(std::chrono::milliseconds duration);
  /// Takes what librdkafka has queued (ConsumerClient::drain, in chunks the group's budget
  /// can take) until nothing more is queued, the budget is full or kMaxIntake messages came;
  /// when nothing is queued, waits for a first message until `max_wait` passed, a job
  /// ended, wake_at_ came or stop.
  void collect(std::chrono::milliseconds max_wait);
  /// How many messages the next drain may take: what fits the group's headroom at the
  /// average footprint seen, between 1 and kIntakeChunk.
  std::size_t intake_chunk() const;
  /// One drain takes at most this many messages (librdkafka's batch call fills an array
  /// of that many pointers)...
  static constexpr std::size_t kIntakeChunk = 1024;
  /// ...and one collect() this many, so that the jobs that ended meanwhile start again.
  static constexpr std::size_t kMaxIntake = 4096;
  /// Queues a fetched message in its partition, or drops it (not ours, paused after an
  /// error, leaving, a duplicate); pauses the partition when its queue is full.
  void accept(kafka::Fetched m);
  /// Publishes one poll event for the polls since the last one (if any). Listener thread.
  void publish_polls();
  /// Waits until a job ended, stop, or `at_most`. Listener thread.
  void wait_for_job_end(std::chrono::milliseconds at_most);
  Partition* lookup(const kafka::Fetched& m);
  /// Runs before_poll or after_poll on the idle partitions whose consumer has them; for
  /// after_poll only on those that ran before_poll. A partition whose hook threw drops its
  /// queue, pauses and rewinds.
  void run_poll_hooks(Hook hook);
  /// What a job does.
  enum class Job { batch, tick, initialized, revoked };
  /// Hands `p` a job of kind `job` (a batch: up to job_size(p) of its queue). p->busy
  /// until finish_jobs() processed its end. Listener thread.
  void start_job(Partition& p, Job job, bool first = false);
  /// How many queued messages `p`'s next job takes (see scheduler.cpp).
  std::size_t job_size(const Partition& p) const;
  static constexpr std::size_t kBatchesPerJob = 50;
  static constexpr std::chrono::milliseconds kJobTarget{200};
  /// Worker: records that `p`'s job ended and wakes the listener.
  void job_done(Partition* p);
  /// Processes the jobs that ended: a failed partition pauses and rewinds, a due tick runs,
  /// a partition with queued messages is listed for the next job. Listener thread.
  void finish_jobs();
  void finish_job(Partition& p);
  /// Starts a job for every listed idle partition.
  void dispatch();
  void list(Partition& p);
  /// Every 100 ms: ticks when due, resumes after a back-off, stores the marks of user
  /// threads, reports long jobs.
  void housekeeping();
  /// Shutdown: processes the ends of jobs, polling (messages dropped) until none is in
  /// flight, abandoned ones included.
  void drain_jobs();
  /// Runs `hook` for `parts` on the workers and waits (see Partition::run_hook). Only while
  /// none of them has a job in flight.
  void run_hooks(const std::vector<Partition*>& parts, Hook hook);
  /// `p`'s job or hook failed: Pausing::pause_after_error, and collect() wakes for its resume.
  void pause_after_error(Partition& p);
  /// After a job or hook of `p` that did not fail: applies the seek or pause its consumer
  /// asked for (Pausing::pause_for_consumer). Returns true when there was one.
  bool apply_control(Partition& p);
  void store_all();
  std::vector<Partition*> live_partitions();
  /// Revocation and shutdown: processes the ends of `parts`' jobs (those of others stay for
  /// the loop) until none of `parts` is busy or `deadline`; true when none is busy.
  bool wait_idle(const std::vector<Partition*>& parts, Deadline deadline);
  /// A revocation gave up waiting for `p`'s job: `p` leaves the map, disowned, and lives on
  /// in abandoned_ until its job and then its revoked() returned.
  void abandon(Partition& p);
  /// Processes the end of an abandoned partition's job (runs revoked(), or destroys it).
  void finish_abandoned(Partition& p);

  // kafka::ClientEvents: inside the poll, listener thread (on_log: any thread).
  void on_assigned(const std::vector<TopicPartitionOffset>& parts) override;
  void on_revoked(const std::vector<TopicPartitionOffset>& parts, bool lost) override;
  void on_rebalance_error(const kafka::Status& error, const std::vector<TopicPartitionOffset>& parts) override;
  void on_commit(const kafka::CommitAnswer& answer) override { committer_.on_answer(answer); }
  void on_consumer_error(const kafka::Status& error, const std::string& topic) override;
  /// A fatal librdkafka error stops the group (kExitFatal). So does an authentication or
  /// TLS failure (kafka::is_security_failure) before the group ever reached the cluster:
  /// it is a setting to fix, which no retry fixes, so `server` exits at start with
  /// kExitFatal and an error naming the setting instead of retrying for ever. After the
  /// group reached the cluster one is logged as an error and librdkafka keeps retrying, as
  /// for a broker that does not answer: it follows a change on the cluster (credentials
  /// rotated, a broker restarted with another certificate) while this member's marks are
  /// still worth committing once the cluster is fixed.
  void on_error(const kafka::Status& error) override;
  void on_log(LogLevel level, const std::string& facility, const std::string& text) override;
  void on_statistics(const std::string& json) override;
  /// Publishes an `error` event (when observed).
  void publish_error(const kafka::Status& error, const std::string& topic);
  /// Publishes a shutdown_step event (when observed).
  void publish_step(const char* step);
  /// Every lag_interval, until stop: reads the assigned partitions' high watermarks and
  /// publishes them (EventType::watermarks), then the group's description
  /// (publish_group_description). Its own thread; only while observed.
  void watch_watermarks();
  /// Asks the group coordinator for the group's state and members (ConsumerClient::
  /// describe_group: an admin client with the group client's properties) and publishes EventType::group_described (members unknown, with the
  /// reason, when it cannot say). watch_watermarks' thread: blocks up to 5 s, never the
  /// listener's poll.
  void publish_group_description();
  bool logs(LogLevel level) const override { return level >= logger_.level(); }
  void assign(const std::vector<TopicPartitionOffset>& parts);
  /// At assignment: `e` (what librdkafka is told) gets the offset `p`'s route's store holds
  /// for it; when the store does not answer (returns false, logged), `e` stays as it is and
  /// `p` reads the store before its first delivery (Partition::load_stored_before_delivery).
  bool start_from_store(Partition& p, TopicPartitionOffset& e);
  void revoke(const std::vector<TopicPartitionOffset>& parts, bool lost);
  /// Tells the partition of `o` (if still here) that the broker confirmed its commit.
  void note_confirmed(const kafka::CommitOffset& o);
  /// After "no broker answers": logs the recovery once a broker proved alive (`how`).
  /// Any thread.
  void note_broker_answered(const char* how);

  const Settings& settings_;
  const ConsumerGroupRoute& group_;
  const TopicSettings group_settings_;
  WorkerPool& pool_;
  // Adds the group to every line of this listener and of what it owns (committer_,
  // pausing_, the partitions through logger()); declared before them.
  GroupLogger group_logger_;
  Logger& logger_;
  const Monitor& monitor_;
  Producer* const producer_;
  TransactionalProducers* txn_producers_ = nullptr;
  /// A transactional group's metadata for the jobs it starts (scheduler.cpp), taken again
  /// after each poll (which may have moved the generation) when a job needs it: one call
  /// per loop, not per job. Listener thread.
  kafka::GroupMetadata group_metadata_;
  bool group_metadata_stale_ = true;
  std::unique_ptr<kafka::ConsumerClient> client_;
  Committer committer_;
  Pausing pausing_;
  /// Half of max.poll.interval.ms: when a job still running is reported (once per job).
  std::chrono::milliseconds long_job_warning_{150000};

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<Deadline> stop_deadline_{Deadline::max()};
  std::atomic<bool> finished_{false};
  std::atomic<int> exit_code_{0};
  std::mutex finished_mu_;
  std::condition_variable finished_cv_;

  // Mutated on the listener thread only (rebalance callbacks); other threads read under
  // partitions_mu_.
  std::mutex partitions_mu_;
  std::map<TopicPartition, std::unique_ptr<Partition>> partitions_;
  struct KeyHash {
    std::size_t operator()(const std::pair<const void*, std::int32_t>& k) const {
      return std::hash<const void*>()(k.first) ^ (static_cast<std::size_t>(k.second) * 0x9e3779b97f4a7c15ULL);
    }
  };
  // Listener thread only: message -> partition, by the client's topic key, and the last
  // answer; both forgotten at every rebalance.
  std::unordered_map<std::pair<const void*, std::int32_t>, Partition*, KeyHash> fast_;
  std::pair<const void*, std::int32_t> last_key_{nullptr, -1};
  Partition* last_lookup_ = nullptr;
  void forget_lookups() {
    fast_.clear();
    last_lookup_ = nullptr;
  }
  // Intake, listener thread only: drain()'s messages, before accept() places them, and the
  // average Fetched::footprint of the last drain.
  std::vector<kafka::Fetched> intake_;
  // The polls not published yet (publish_polls).
  struct PollTotals {
    std::uint64_t polls = 0;
    std::size_t count = 0;
    std::chrono::nanoseconds duration{0};
  } polls_;
  std::size_t average_footprint_ = kafka::Fetched::kOverhead + 1024;
  // Scheduling, listener thread only.
  std::vector<Partition*> listed_;       // may start a job (queued messages or a tick due)
  std::vector<Partition*> poll_hooked_;  // consumers with before_poll/after_poll
  std::vector<Partition*> before_polled_;
  std::map<Partition*, std::unique_ptr<Partition>> abandoned_;
  // Jobs that ended: written by workers, processed by the listener.
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::vector<Partition*> done_;
  std::vector<Partition*> done_swap_;
  std::atomic<bool> jobs_ended_{false};
  // post()'s tasks, run by run_posted() on the listener thread; posted_ cuts collect()'s wait.
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_tasks_;
  std::atomic<bool> posted_{false};
  void run_posted();
  std::atomic<bool> wake_on_job_end_{true};
  JobGroup jobs_;  // run_hooks()'s
  std::chrono::steady_clock::time_point next_tick_;
  std::chrono::steady_clock::time_point next_housekeeping_;
  /// When collect() stops waiting for a first message: the next tick or resume.
  std::chrono::steady_clock::time_point wake_at_;
  /// Warns once per topic that it does not exist; any thread.
  void warn_missing_topic(const std::string& topic);
  /// Under KIP-848 librdkafka reports nothing for a subscribed topic that does not exist
  /// (the broker resolves the subscription): this thread asks for the topics' metadata
  /// every 10 s until each one exists, or the listener stops, and warns about the missing.
  void watch_missing_topics();
  mutable std::mutex warned_mu_;  // mutable: health() reads warned_topics_
  std::set<std::string> warned_topics_;
  std::thread topic_watch_;
  std::thread watermark_watch_;
  // Health (see Health): steady_clock ticks, 0 for none.
  std::atomic<bool> started_{false};
  std::atomic<bool> joined_{false};
  std::atomic<std::chrono::steady_clock::rep> last_loop_{0};
  std::atomic<std::chrono::steady_clock::rep> rebalancing_since_{0};
  std::atomic<std::int64_t> longest_job_ms_{0};
  std::atomic<std::size_t> partition_count_{0};
  /// steady_clock ticks since all brokers went down; 0 while one answers.
  std::atomic<std::chrono::steady_clock::rep> brokers_down_since_{0};
  /// Which client errors are news to log, and the last one (for health()).
  kafka::ConnectionLog connection_log_;
  /// Once a broker answered this group (an assignment, a fetched message, a confirmed
  /// commit): from then on an authentication or TLS failure is not fatal (see on_error).
  std::atomic<bool> reached_cluster_{false};
  /// on_error stopped the group for a security failure (listener thread only).
  bool stopped_by_security_ = false;
  /// Shutdown: "topic/partition@offset ..." of marks the broker did not confirm.
  std::string unconfirmed_;
};

}  // namespace samsa::runtime
