#pragma once
// Operations on a cluster that are not consuming: creating topics, producing test events,
// reading a group's committed offsets and resetting them. Used by the `samsa` tool,
// `App::run`'s `topics` command and the tests (which read committed offsets back from the
// broker with these).
//
// Every function here blocks until the broker answered or `timeout` passed, and throws
// KafkaError (with a hint) on failure; an unknown or invalid librdkafka property in
// `Cluster::kafka` throws SettingsError naming it, before anything connects.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "samsa/group_member.hpp"

namespace samsa::admin {

using namespace std::chrono_literals;

/// The cluster an admin function talks to: its bootstrap servers and the librdkafka
/// properties of every client it makes (TLS, SASL: `security.protocol`, `sasl.mechanism`,
/// `ssl.ca.location`, ...), as an app's `kafka.*` settings. Implicit from a brokers string,
/// so `admin::group_offsets("host:9092", ...)` still reads as before.
///
/// `kafka` overrides the function's own tuning (`client.id` is `samsa-admin` unless given,
/// `acks`, `linger.ms`, ...), but not what defines its work: `bootstrap.servers` is
/// `brokers` (or, when `brokers` is empty, `kafka["bootstrap.servers"]`), and the offset
/// functions keep their `group.id` and never auto-commit.
struct Cluster {
  std::string brokers;
  std::map<std::string, std::string> kafka;

  Cluster() = default;
  Cluster(std::string bootstrap_servers) : brokers(std::move(bootstrap_servers)) {}
  Cluster(const char* bootstrap_servers) : brokers(bootstrap_servers ? bootstrap_servers : "") {}
  Cluster(std::string bootstrap_servers, std::map<std::string, std::string> properties)
      : brokers(std::move(bootstrap_servers)), kafka(std::move(properties)) {}

  /// The bootstrap servers the clients use (see above).
  std::string bootstrap_servers() const;
};

struct TopicSpec {
  std::string name;
  /// -1: the broker's default (num.partitions); `topics plan` then checks no count.
  int partitions = 1;
  /// -1: the broker's default.
  int replication_factor = 1;
  /// Topic-level configs ("retention.ms" -> "86400000"), set when the topic is created.
  std::map<std::string, std::string> configs = {};
};

/// Creates the topics that do not exist yet, with their configs; existing ones are left as
/// they are (neither their partitions nor their configs are changed).
/// On a broker that cannot create topics (the embedded broker of librdkafka 2.0.2 lacks
/// CreateTopics) it falls back to auto-creation, which cannot set configs, and throws if
/// the partition count differs.
void create_topics(const Cluster& cluster, const std::vector<TopicSpec>& topics,
                   std::chrono::milliseconds timeout = 30s);

/// The partition count of `topic`, or 0 when it does not exist.
int partition_count(const Cluster& cluster, const std::string& topic,
                    std::chrono::milliseconds timeout = 10s);

struct Record {
  std::optional<std::string> key;
  std::string value;
  /// Partition to write to; -1 lets the partitioner choose (by key, else round robin).
  std::int32_t partition = -1;
};

/// Produces the records with acks=all and idempotence, and waits until every one is
/// delivered (throws on the first delivery failure).
void produce(const Cluster& cluster, const std::string& topic,
             const std::vector<Record>& records, std::chrono::milliseconds timeout = 60s);

/// Produces `count` JSON events {"id": N, ...} numbered first..first+count-1, spread evenly
/// over the partitions (event i goes to partition i % partitions when partitions > 0).
void produce_events(const Cluster& cluster, const std::string& topic, std::int64_t first,
                    std::int64_t count, int partitions = 0, std::size_t payload_bytes = 0,
                    std::chrono::milliseconds timeout = 120s);

struct PartitionOffsets {
  std::string topic;
  std::int32_t partition = 0;
  /// The group's committed offset; -1 when the group committed nothing for the partition.
  std::int64_t committed = -1;
  /// The offset metadata committed with it (empty when none).
  std::string metadata;
  /// The log-end offset (high watermark).
  std::int64_t end = 0;
  /// end - committed, or end - start of log when nothing is committed.
  std::int64_t lag = 0;
};

/// The committed offsets of `group` on every partition of `topics` (all topics the group
/// has offsets for when `topics` is empty), with the log-end offsets. Reads from the
/// group coordinator: this is what a restarted consumer would resume from.
std::vector<PartitionOffsets> group_offsets(const Cluster& cluster, const std::string& group,
                                            const std::vector<std::string>& topics = {},
                                            std::chrono::milliseconds timeout = 30s);

/// Convenience for tests: the committed offset of one partition, -1 when none.
std::int64_t committed_offset(const Cluster& cluster, const std::string& group,
                              const std::string& topic, std::int32_t partition,
                              std::chrono::milliseconds timeout = 30s);

struct GroupDescription {
  /// False when the broker could not say (it cannot describe groups: librdkafka 2.0.2's
  /// embedded broker); `reason` says why.
  bool known = false;
  /// Why it is not known, one sentence; empty when known.
  std::string reason;
  /// The coordinator's state: "Stable", "PreparingRebalance", "Empty", "Dead" (a group it
  /// does not know), ...
  std::string state;
  /// Sorted by member id.
  std::vector<GroupMember> members;
};

/// DescribeConsumerGroups: `group`'s state and members with their assignments (members of
/// the classic and of the KIP-848 protocol alike). `known` false (with the reason) when the
/// broker cannot describe groups; throws KafkaError when it does not answer.
GroupDescription describe_group(const Cluster& cluster, const std::string& group,
                                std::chrono::milliseconds timeout = 30s);

/// Where `reset_offsets` moves a group: `earliest` and `latest` are the partition's low and
/// high watermarks (its first offset still in the log, its log end), `offset` an exact
/// offset (within those), `time` the first offset whose timestamp is at or after `time`
/// (the log end when there is none).
struct ResetTarget {
  enum class Kind { earliest, latest, offset, time };
  Kind kind = Kind::earliest;
  /// Kind::offset only: >= 0.
  std::int64_t offset = 0;
  /// Kind::time only: milliseconds since the Unix epoch (UTC), as Kafka's timestamps.
  std::int64_t time_ms = 0;

  /// Parses what `samsa offsets reset --to` takes: `earliest`, `latest`, a whole number
  /// >= 0, or an ISO-8601 time with its zone, `2026-12-01T10:00:00Z` or
  /// `2026-12-01T11:00:00.250+01:00` (fractions of a second beyond milliseconds are rounded
  /// up: Kafka's timestamps are milliseconds). Throws std::invalid_argument saying what is
  /// wrong and what is accepted.
  static ResetTarget parse(std::string_view text);
  /// The text parse() reads back: `earliest`, `latest`, `42`, `2026-12-01T10:00:00.000Z`.
  std::string text() const;
};

struct OffsetResetRequest {
  std::string group;
  std::string topic;
  ResetTarget to;
  /// One partition; every partition of `topic` when empty.
  std::optional<std::int32_t> partition;
  /// Work out and check the plan, change nothing.
  bool dry_run = false;
};

/// One partition of a reset: where the group was, where it goes.
struct OffsetReset {
  std::string topic;
  std::int32_t partition = 0;
  /// The group's committed offset before the reset; -1 when it had none.
  std::int64_t before = -1;
  /// The offset committed by the reset (the planned one with dry_run).
  std::int64_t after = 0;
  /// The partition's low and high watermarks when the plan was made.
  std::int64_t low = 0, high = 0;
};

/// Commits new offsets for `request.group` on `request.topic` (one partition or all of
/// them), as `kafka-consumer-groups --reset-offsets` does, and returns the plan per
/// partition, sorted by partition. The group must have no active member: an app of the
/// group that is running would go on from its own positions and overwrite the reset with its
/// next commit, so the reset is refused (KafkaError naming the group, its state and member
/// count: stop the app's processes first) when DescribeConsumerGroups shows members, and when
/// the broker refuses the commit for that reason (a member joined meanwhile; brokers that
/// cannot describe groups). All partitions are checked before anything is committed: an
/// `offset` outside a partition's [low, high] is refused, naming the partition and its
/// range, and nothing is reset. The offsets are committed without metadata.
///
/// On the embedded broker: a reset by time is refused (librdkafka's mock cluster cannot
/// look offsets up by time), and so is any reset of a group a consumer has joined since the
/// broker started (the mock refuses commits from outside such a group, even once empty).
std::vector<OffsetReset> reset_offsets(const Cluster& cluster, const OffsetResetRequest& request,
                                       std::chrono::milliseconds timeout = 30s);

/// What read_topic() reads, and where it stops.
struct ReadOptions {
  /// Every partition's first offset still in the log; else its end (only what comes now).
  bool from_beginning = false;
  /// Only this partition (all of the topic's when empty).
  std::optional<std::int32_t> partition = std::nullopt;
  /// With `partition`: the first offset to read (>= 0; past the end waits for it).
  std::optional<std::int64_t> offset = std::nullopt;
  /// Stop after this many records (0: no limit).
  std::int64_t count = 0;
  /// Stop once every partition read reached the end it had when it got there (the log end;
  /// for read_committed its last stable offset: an open transaction holds it back).
  bool until_end = false;
  /// As a read_committed reader (Kafka's and librdkafka's default): no record of an aborted
  /// or still open transaction. False: read_uncommitted, every record in the log.
  bool read_committed = true;
  /// Read as a member of this consumer group (empty: no group, the default): join it, get
  /// the partitions it assigns to this member, each from the group's committed offset (else
  /// the first offset with from_beginning, the end without). Not with `partition`.
  /// until_end then means every partition assigned to this member.
  std::string group = {};
  /// With `group`: commit the offset after each record handed over (at the end, and as
  /// librdkafka's auto-commit goes). False: the group's offsets are left as they were.
  bool commit = false;
};

/// One record read, copied.
struct ReadRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;
  /// nullopt: a tombstone.
  std::optional<std::string> value;
  /// Milliseconds since the epoch; -1 when the broker sent none.
  std::int64_t timestamp_ms = -1;
  /// In the record's order; a value nullopt is a header without one.
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

/// Reads `topic` without joining a consumer group unless `options.group` says so (then only
/// with `options.commit` is anything committed) and hands each record to `on_record`, in order within each partition, until
/// `options.count` records, `options.until_end`, or `on_record` returning false. Returns how
/// many it handed over. Throws KafkaError when the topic does not exist or the cluster does
/// not answer within `timeout` (for the metadata; reading itself waits as long as it must),
/// and std::invalid_argument for `offset` without `partition`, a negative one or a
/// partition the topic lacks. `stop` (when given) is asked between records and while
/// waiting: true ends the read (Ctrl-C in `samsa consume`).
std::int64_t read_topic(const Cluster& cluster, const std::string& topic, const ReadOptions& options,
                        const std::function<bool(const ReadRecord&)>& on_record,
                        const std::function<bool()>& stop = {}, std::chrono::milliseconds timeout = 30s);

}  // namespace samsa::admin
