#pragma once
// Settings of a Samsa app, and how they inherit: app -> consumer group -> topic.
//
// Every setting can be set in C++ (typed fields) or by name from text (`set("max_messages",
// "500")`, used by config files, the command line and environment variables). Setting by
// name rejects an unknown name or a value of the wrong type at once with a SettingsError
// naming the key and the reason; `validate()` checks ranges and is run again before
// anything connects, so a bad setting stops start-up before a single message is consumed.
//
// librdkafka properties are passed through untouched in `kafka`; they are checked by
// librdkafka itself when the consumer is built (again before anything is consumed), and a
// few properties that Samsa must own (enable.auto.offset.store, ...) are refused.
//
// Each field below has one entry in src/settings_table.cpp, which gives it its name, its
// range check and its place in `info`; a field without one fails the unit tests.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa {

/// Where a consumer group with no committed offset starts (librdkafka's auto.offset.reset).
enum class InitialOffset { earliest, latest };

/// The consumer group protocol (librdkafka's group.protocol).
///  - classic: JoinGroup/SyncGroup; the assignor is rebalance_protocol's (eager or
///    cooperative-sticky), session.timeout.ms and heartbeat.interval.ms are the client's.
///  - consumer: KIP-848, the next-generation protocol (needs librdkafka >= 2.12 and Kafka
///    >= 4.0): the broker assigns (kafka.group.remote.assignor, "uniform" or "range"),
///    rebalances are always incremental, and the session timeout and heartbeat interval are
///    the broker's (group.consumer.* broker settings). rebalance_protocol does not apply.
enum class GroupProtocol { classic, consumer };

/// The settings that can be overridden per consumer group and per topic. Unset fields
/// inherit from the level above.
struct Overrides {
  std::optional<bool> automatically_mark_as_consumed;
  std::optional<bool> batch_fetching;
  std::optional<int> max_messages;
  std::optional<std::chrono::milliseconds> max_wait_time;
  std::optional<InitialOffset> initial_offset;
  std::optional<GroupProtocol> group_protocol;
  std::optional<std::chrono::milliseconds> pause_timeout;
  std::optional<std::chrono::milliseconds> pause_max_timeout;
  std::optional<bool> pause_with_exponential_backoff;
  /// librdkafka properties (consumer-group level only: one librdkafka consumer serves a group).
  std::map<std::string, std::string> kafka;

  /// Sets one override by name, e.g. ("batch_fetching", "false") or ("kafka.fetch.wait.max.ms",
  /// "100"). Throws SettingsError for an unknown name or a value of the wrong type.
  void set(std::string_view key, std::string_view value);
};

/// The settings that inherit app -> consumer group -> topic. As a base of Settings they are
/// the app's defaults; resolve() gives the effective ones of a group or topic.
struct TopicSettings {
  bool automatically_mark_as_consumed = true;
  /// true: consume() gets each polled batch of a partition; false: one message per call.
  bool batch_fetching = true;
  /// Most messages one poll collects (over all partitions of a consumer group).
  int max_messages = 100;
  /// Longest a poll waits for the first message.
  std::chrono::milliseconds max_wait_time{1000};
  InitialOffset initial_offset = InitialOffset::earliest;
  /// App and consumer group level (one librdkafka consumer serves a group).
  GroupProtocol group_protocol = GroupProtocol::classic;
  /// Back-off after an error in consume: pause_timeout, doubled per retry when exponential,
  /// at most pause_max_timeout.
  std::chrono::milliseconds pause_timeout{1000};
  std::chrono::milliseconds pause_max_timeout{30000};
  bool pause_with_exponential_backoff = true;

  /// The back-off before retry number `attempt` (1-based) after an error in consume.
  std::chrono::milliseconds pause_for_attempt(int attempt) const;
};

/// App-wide settings: what `App::setup` hands to the user's block. The inherited ones
/// (config.automatically_mark_as_consumed, ...) come from TopicSettings.
struct Settings : TopicSettings {
  /// librdkafka properties for every consumer group, e.g. kafka["bootstrap.servers"].
  std::map<std::string, std::string> kafka;
  /// librdkafka properties for the app's producer only (App::producer(), dead-letter
  /// dispatch), on top of `kafka` (whose connection properties it shares), e.g.
  /// producer_kafka["linger.ms"]; set by name as "producer.kafka.<property>".
  std::map<std::string, std::string> producer_kafka;
  std::string client_id = "samsa";
  /// The prefix of the transactional.id of Samsa's transactional producers (Kafka
  /// transactions, docs/exactly-once.md): worker n's is "<transactional_id>-<n>". Required by
  /// a consumer group with transactional(true). Unique per running process (two processes
  /// with the same one fence each other's transactions) and the same across its restarts
  /// (a restarted process then ends at once what its predecessor left open, instead of its
  /// partitions waiting for transaction.timeout.ms): a pod's name, a host and instance name.
  std::string transactional_id;
  /// Worker threads shared by all consumer groups; jobs of one partition never overlap.
  int concurrency = 5;
  /// How long a graceful shutdown may take before Samsa commits what is marked and exits
  /// with a non-zero code.
  std::chrono::milliseconds shutdown_timeout{60000};
  /// How long a revocation waits for the jobs of the partitions being revoked (and their
  /// revoked()) before it gives them up anyway: what they marked so far is committed, their
  /// later marks are refused, and the next owner receives what they did not mark.
  std::chrono::milliseconds revoke_timeout{30000};
  /// Memory. The most the process holds of fetched messages, in bytes: Samsa's queues of
  /// messages waiting for a job, counted in real bytes (key and payload, plus
  /// Fetched-message overhead: librdkafka's 320-byte record of each message and Samsa's
  /// own), and librdkafka's prefetch. Split evenly between the consumer groups, and in each
  /// group half for Samsa's queues and half for librdkafka, whose fetch queue limits are
  /// derived from it unless set in `kafka`: queued.max.messages.kbytes (the half, in KiB;
  /// librdkafka caps fetch.max.bytes at it) and queued.min.messages (the half / 512 bytes).
  /// A job's messages count until the job ends; one job takes at most a quarter of its
  /// group's queue half (at least one message), so a hung job cannot hold all of it.
  /// Raising it buys deeper queues (more slack for bursty consumers and long jobs on many
  /// partitions); lowering it costs throughput once a queue holds less than a few batches
  /// per partition. See docs/performance.md.
  std::int64_t max_buffered_bytes = 48 * 1024 * 1024;
  /// Back-pressure per partition. Messages fetched for a partition wait in its queue while
  /// its job runs; a partition whose queue holds queue_max_messages and queue_min_time of
  /// its consumer's work (at the rate its jobs handled messages lately; at most 1,000,000
  /// messages) is paused in librdkafka and resumed once its queue is down to half. While a
  /// consumer group's queues and its jobs' batches hold its share of max_buffered_bytes,
  /// the listener takes no more messages from librdkafka (which keeps them and stops
  /// fetching at its own limits, derived from the same budget); then the batch of a job
  /// that has run a second or more stops counting, and when the group has other partitions
  /// a partition that blocks it (an even share of the queued bytes or more, and a job
  /// running for a second, or waiting for an abandoned predecessor) sheds its queue
  /// (fetched again later) so the others go on.
  /// Why a time: librdkafka drops what it prefetched for a paused partition and fetches
  /// again up to a second after the resume; a queue that holds less than that of work
  /// would leave a consumer idle for most of each second (queue_min_time 0: pause on the
  /// count alone).
  int queue_max_messages = 10000;
  std::chrono::milliseconds queue_min_time{2000};
  /// How often `Consumer::tick` runs for each live consumer.
  std::chrono::milliseconds tick_interval{5000};
  /// "eager" (default) or "cooperative-sticky" (librdkafka's partition.assignment.strategy).
  std::string rebalance_protocol = "eager";

  /// Operations (README "Operations"). The HTTP endpoint of `server` (/metrics, /health/live,
  /// /health/ready, /status.json and the status page at /): its port (0: none) and the
  /// address it listens on.
  int metrics_port = 0;
  std::string metrics_host = "0.0.0.0";
  /// That endpoint's limits: the threads that answer requests (each waits on epoll for all
  /// of its connections, so an idle or slow connection holds no thread), how long a
  /// connection may stay idle or send an incomplete request before it is closed, and how
  /// many connections may be open at once (more are refused). With these, /health/live
  /// answers while hundreds of idle or slow connections are open.
  int http_threads = 2;
  std::chrono::milliseconds http_timeout{10000};
  int http_max_connections = 1000;
  /// How often each consumer group reads its assigned partitions' high watermarks from the
  /// brokers (one ListOffsets round trip per partition, on a thread of its own), for the
  /// lag; 0: never (no lag metric).
  std::chrono::milliseconds lag_interval{10000};
  /// Detectors: a partition with messages waiting (lag > 0), not paused, whose consumer
  /// handled no batch for this long is reported as stuck; so is a job running this long,
  /// and a consumer group with no assignment for this long (joining, or between an eager
  /// revocation and the next assignment). A stuck job or listener loop fails
  /// /health/live, a stuck rebalance /health/ready.
  std::chrono::milliseconds stuck_partition_after{60000};
  std::chrono::milliseconds stuck_job_after{300000};
  std::chrono::milliseconds stuck_rebalance_after{60000};

  /// Sets one setting by name (the names of the fields above; "kafka.<property>" for a
  /// librdkafka property, "producer.kafka.<property>" for one of the producer's). Throws SettingsError naming the key for an unknown name or a
  /// value that does not parse as the setting's type. Durations are milliseconds or carry a
  /// unit: "250ms", "5s", "2m".
  void set(std::string_view key, std::string_view value);

  /// Every problem found, one sentence each naming the key; empty when valid.
  std::vector<std::string> problems() const;
  /// Throws SettingsError listing problems() when there are any.
  void validate() const;

  /// The inherited part, the base of resolve().
  TopicSettings topic_defaults() const;

  /// All setting names accepted by set(), for messages and `info`.
  static const std::vector<std::string>& names();
};

/// Applies `overrides` on top of `base`.
TopicSettings resolve(const TopicSettings& base, const Overrides& overrides);
/// The problems of an Overrides block, one sentence each, prefixed with `where`.
std::vector<std::string> problems(const Overrides& overrides, std::string_view where);

/// What stops a consumer group's `protocol` from running with its librdkafka properties
/// `kafka` on librdkafka `librdkafka_version` (rd_kafka_version()'s 0xMMmmrrxx), one
/// sentence each, prefixed with `where`: group_protocol = consumer needs librdkafka >= 2.12,
/// and refuses the classic-only properties (partition.assignment.strategy,
/// session.timeout.ms, heartbeat.interval.ms), which the broker owns under KIP-848.
std::vector<std::string> protocol_problems(GroupProtocol protocol,
                                           const std::map<std::string, std::string>& kafka,
                                           int librdkafka_version, std::string_view where);
/// One consumer group's part of max_buffered_bytes, when the process runs `groups` of them:
/// an even share, half of it for Samsa's queues (real bytes), half for librdkafka's
/// prefetch (see add_fetch_queue_defaults).
struct BufferShare {
  std::int64_t queues = 0;
  std::int64_t librdkafka = 0;
};
BufferShare buffer_share(const Settings& settings, std::size_t groups);
/// Samsa's defaults for librdkafka's fetch queue, added to `kafka` where the user set none,
/// for librdkafka `librdkafka_version` (0xMMmmrrxx) and a prefetch of `librdkafka_bytes`
/// (BufferShare::librdkafka). librdkafka stops fetching a partition once its consumer queue
/// holds queued.min.messages or queued.max.messages.kbytes, and looks again only a while
/// later: 1 s (fetch.queue.backoff.ms, from 2.1.0) or, on 2.0.2, when its broker thread
/// next wakes. A consumer faster than that queue then idles (measured: a 4,000,000-message
/// backlog consumed at 0.44 M msg/s instead of 1.87 M on 2.14.2, longest gap 985 ms).
/// From 2.1.0: fetch.queue.backoff.ms = 20, queued.max.messages.kbytes = librdkafka_bytes
/// in KiB (librdkafka caps fetch.max.bytes at it unless that is set) and
/// queued.min.messages = librdkafka_bytes / 512 (a fetched message costs librdkafka about
/// 320 bytes besides its key and payload, so the count bounds the memory of small
/// messages, the KiB of large ones). Before 2.1.0, where only a deep queue avoids the
/// stall: queued.min.messages = 300000 and queued.max.messages.kbytes = 131072, up to
/// 128 MiB of payload per consumer group whatever the budget (the compatibility build does
/// not hold max_buffered_bytes).
void add_fetch_queue_defaults(std::map<std::string, std::string>& kafka, int librdkafka_version,
                              std::int64_t librdkafka_bytes);
/// Throws SettingsError("invalid settings:" and one line per problem) unless `problems` is empty.
void throw_if_problems(const std::vector<std::string>& problems);
/// "2.14.2" from rd_kafka_version()'s 0xMMmmrrxx.
std::string version_text(int librdkafka_version);

/// librdkafka properties that Samsa sets itself and refuses from users, with the reason.
const std::map<std::string, std::string>& reserved_kafka_properties();

std::string_view to_string(InitialOffset offset);
std::string_view to_string(GroupProtocol protocol);

/// True when the value of librdkafka property `name` is a secret that must never reach a log,
/// `info` or an error message (a leading "kafka." is ignored; case-insensitive). Secret:
/// the properties librdkafka itself marks sensitive (ssl.key.pem, ssl_key, ssl.key.password,
/// ssl.keystore.password, sasl.password, sasl.oauthbearer.config,
/// sasl.oauthbearer.client.secret) and any name containing "password", "passphrase",
/// "secret" or "sasl.oauthbearer.config", or ending in "key.pem". Not secret: certificates
/// (ssl.certificate.pem, ssl.ca.pem), file locations (ssl.key.location) and user names.
bool is_secret_kafka_property(std::string_view name);

/// The text to print for property `name` set to `value`: "[redacted]" for a secret
/// property (see is_secret_kafka_property), else the value itself.
std::string redacted_value(std::string_view name, std::string_view value);

}  // namespace samsa
