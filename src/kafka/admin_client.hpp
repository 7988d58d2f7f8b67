#pragma once
// The admin helpers' door to librdkafka: one client for a cluster's metadata, its admin
// requests, a group's committed offsets and producing, speaking Samsa types. src/admin/
// holds what is done with the answers (deadlines, retries, fallbacks, plans, messages) and is
// unit tested on a fake of this interface (tests/support/fake_admin_client.hpp).
//
// Each call is one request (librdkafka may retry inside it) and blocks until its answer or
// its `timeout`. What the cluster answers comes back as kafka::Status, never as an exception;
// a call that got no answer in time returns timed_out. Status::not_sent: librdkafka refused
// the request before sending it (a timeout beyond its range, a topic name it cannot take),
// text() saying why. Status::detail() carries librdkafka's sentence about an admin request's
// error. One thread at a time per client.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/commit_offset.hpp"
#include "kafka/fetched.hpp"
#include "samsa/instrumentation.hpp"
#include "kafka/status.hpp"
#include "samsa/admin.hpp"
#include "samsa/group_member.hpp"

namespace samsa::kafka {

/// What a metadata answer says of one topic.
struct TopicMetadata {
  std::string name;
  /// The broker's error for the topic: ok, unknown_topic, leader_not_available (it exists,
  /// its leaders are still being elected), ...
  Status status;
  int partitions = 0;
  /// The smallest replica count of its partitions (0 when the answer lists none).
  int replication_factor = 0;
};

/// The answer for one topic of a CreateTopics request.
struct CreatedTopic {
  std::string name;
  /// ok, topic_already_exists, unsupported, ...; detail() when the broker said more.
  Status status;
};

/// The answer for one topic of a DescribeConfigs request.
struct TopicConfigs {
  std::string name;
  /// The broker's error for this topic, with its detail when it gave one.
  Status status;
  /// The configs asked for that the broker reported, by name. A sensitive config's value is
  /// never sent: it is left out.
  std::map<std::string, std::string> values;
};

/// The group's part of a DescribeConsumerGroups answer.
struct DescribedGroup {
  /// The coordinator's error for the group (unsupported, coordinator_moving,
  /// group_id_not_found, ...), with its detail; ok when described.
  Status error;
  /// "Stable", "PreparingRebalance", "Empty", "Dead", ...
  std::string state;
  /// Sorted by member id; each assignment sorted.
  std::vector<GroupMember> members;
};

/// The group's part of a ListConsumerGroupOffsets or AlterConsumerGroupOffsets answer.
struct GroupOffsets {
  /// The coordinator's error for the group, with its detail; ok otherwise.
  Status error;
  /// Its partitions, each with its offset and its own error.
  std::vector<CommitOffset> offsets;
};

/// One partition of a lookup by time.
struct TimeOffset {
  std::string topic;
  std::int32_t partition = 0;
  /// The first offset whose timestamp is at or after the time; -1 when there is none.
  std::int64_t offset = -1;
  /// The broker's error for this partition.
  Status status;
};

/// The first delivery that failed of those produce() queued.
struct DeliveryFailure {
  Status error;
  /// -1 when librdkafka had not chosen one.
  std::int32_t partition = -1;
};

/// What an admin client is made for: librdkafka's client type and callbacks.
enum class AdminUse {
  /// Metadata and admin requests.
  cluster,
  /// The same, and produce(): the client counts the delivery reports.
  produce,
  /// A group's committed offsets (committed()): a consumer of the properties' group.id that
  /// never subscribes, so it neither joins the group nor disturbs it.
  group,
  /// Reading a topic (assign(), read()): a consumer that never subscribes or commits; or,
  /// asked to (subscribe()), a member of the properties' group.id.
  read,
};

class AdminClient {
 public:
  using milliseconds = std::chrono::milliseconds;
  virtual ~AdminClient() = default;

  /// librdkafka's first error-level log line since the client was made, without its thread
  /// tag (usually why it cannot connect: "Connect to ipv4#127.0.0.1:9 failed: Connection
  /// refused"); empty when none. Any thread.
  virtual std::string first_log_error() const = 0;
  /// The first authentication or TLS failure librdkafka logged since the client was made
  /// (is_security_failure holds, text() is librdkafka's line); ok when none. librdkafka
  /// then keeps reconnecting, failing the same way: a request times out, and this says why.
  /// Any thread.
  virtual Status security_failure() const = 0;

  // The cluster's metadata.

  /// Every topic of the cluster (this and topic(): a connection refused for its security
  /// settings ends the wait early, returning security_failure()). Asking for all topics is the one metadata request that never
  /// creates a topic (librdkafka 2.0.2's mock cluster auto-creates every topic named in one).
  virtual Status all_topics(milliseconds timeout, std::vector<TopicMetadata>& out) = 0;
  /// `topic`'s metadata, asked for by name: a broker that auto-creates topics creates it when
  /// the client's allow.auto.create.topics allows it. `out`: the topics the answer lists.
  /// not_sent when librdkafka refuses the name. Also what makes a producer learn the topic's
  /// partitions before its first produce().
  virtual Status topic(const std::string& topic, milliseconds timeout, std::vector<TopicMetadata>& out) = 0;
  /// True when the cluster is librdkafka's mock cluster (the embedded broker), from its
  /// cluster id; false as well when the id did not come within `timeout`.
  virtual bool is_mock_cluster(milliseconds timeout) = 0;
  /// The controller's broker id; -1 when none is known within `timeout` (librdkafka 2.0.2's
  /// mock cluster names none).
  virtual int controller_id(milliseconds timeout) = 0;

  // Admin requests. Each gives the cluster `timeout`, and its answer 2 s more to arrive.

  /// CreateTopics of `topics` (name, partitions, replication factor, configs), answered per
  /// topic in `out`. Throws KafkaError naming the topic (and the config) when librdkafka
  /// refuses a spec; nothing is sent then.
  virtual Status create_topics(const std::vector<admin::TopicSpec>& topics, milliseconds timeout,
                               std::vector<CreatedTopic>& out) = 0;
  /// DescribeConfigs of `topics`: only the configs named in each spec (their values unused).
  virtual Status describe_configs(const std::vector<admin::TopicSpec>& topics, milliseconds timeout,
                                  std::vector<TopicConfigs>& out) = 0;
  /// DescribeConsumerGroups of `group`. unexpected_answer when the answer has no group.
  virtual Status describe_group(const std::string& group, milliseconds timeout, DescribedGroup& out) = 0;
  /// ListConsumerGroupOffsets of `group` for all topics. unexpected_answer when the answer
  /// has no result.
  virtual Status list_group_offsets(const std::string& group, milliseconds timeout, GroupOffsets& out) = 0;
  /// AlterConsumerGroupOffsets: commits `offsets` (with their metadata) for `group` as its
  /// admin, with no member id nor generation, which a broker takes only while the group has
  /// no members. unexpected_answer when the answer has no group.
  virtual Status alter_group_offsets(const std::string& group, const std::vector<CommitOffset>& offsets,
                                     milliseconds timeout, GroupOffsets& out) = 0;

  // Offsets.

  /// The offsets the group coordinator has committed for `offsets`' partitions (OffsetFetch,
  /// AdminUse::group): each entry gets its offset (negative when none), its metadata and its
  /// error. Returns the request's error; a moving or loading coordinator is reported, not
  /// waited out.
  virtual Status committed(std::vector<CommitOffset>& offsets, milliseconds timeout) = 0;
  /// A partition's low and high watermarks (its first offset still in the log, its log end).
  virtual Status watermarks(const std::string& topic, std::int32_t partition, milliseconds timeout,
                            std::int64_t& low, std::int64_t& high) = 0;
  /// For each of `offsets`' partitions, the first offset whose timestamp is at or after
  /// `time_ms` (milliseconds since the epoch), in one request.
  virtual Status offsets_for_time(std::vector<TimeOffset>& offsets, std::int64_t time_ms, milliseconds timeout) = 0;

  // Producing (AdminUse::produce). Callers alternate produce() and poll(), then flush().

  /// Queues one record (copied) for `topic`: `partition` -1 lets the partitioner choose,
  /// `key` nullopt sends none. queue_full when librdkafka's queue is full: poll() and try
  /// again. Delivery reports come later (delivery_failure(), delivered()).
  virtual Status produce(const std::string& topic, std::int32_t partition, std::optional<std::string_view> key,
                         std::string_view value) = 0;
  /// Serves delivery reports, waiting `timeout` at most for one.
  virtual void poll(milliseconds timeout) = 0;
  /// Waits until every queued record is delivered or failed: timed_out when some remain.
  virtual Status flush(milliseconds timeout) = 0;
  /// Drops every record still queued or in flight (their reports say so), so that
  /// destroying the client does not wait for them; blocks up to 1 s for those reports.
  virtual void purge() = 0;
  /// The first failed delivery; nullopt while none failed. Any thread.
  virtual std::optional<DeliveryFailure> delivery_failure() const = 0;
  /// How many records were delivered. Any thread.
  virtual std::int64_t delivered() const = 0;
  /// librdkafka's reason for the client's fatal error (the idempotent producer's), empty
  /// when none.
  virtual std::string fatal_error() = 0;

  // Reading (AdminUse::read): assign(), then read() until done.

  /// Fetches exactly `parts`, each from its offset (>= 0, or librdkafka's logical
  /// kOffsetBeginning / kOffsetEnd), without a consumer group.
  virtual Status assign(const std::vector<TopicPartitionOffset>& parts) = 0;
  static constexpr std::int64_t kOffsetBeginning = -2;
  static constexpr std::int64_t kOffsetEnd = -1;
  /// What read() found: a message, a partition at its end (enable.partition.eof), an
  /// error, or nothing within the timeout (all empty).
  struct Read {
    Fetched message;
    std::optional<std::int32_t> end_of;
    Status error;
  };
  virtual Read read(milliseconds timeout) = 0;
  /// Instead of assign(): joins the properties' group.id for `topic`. librdkafka assigns
  /// the partitions itself inside read(), each from the group's committed offset (else
  /// auto.offset.reset). Destroying the client leaves the group.
  virtual Status subscribe(const std::string& topic) = 0;
  /// The partitions assigned now (subscribe()), sorted.
  virtual std::vector<std::int32_t> assigned() = 0;
  /// Stores `next` (the offset after the last one handled) for `partition` of `topic`, and
  /// commits what is stored synchronously when `commit_now`; with enable.auto.offset.store
  /// off, nothing else is ever committed. The commit's error (none when nothing was stored).
  virtual Status store(const std::string& topic, std::int32_t partition, std::int64_t next) = 0;
  virtual Status commit_stored(milliseconds timeout) = 0;
};

/// The real client, with exactly `properties` (bootstrap.servers included). Its log goes
/// nowhere but first_log_error(). Throws SettingsError for an unknown or invalid property,
/// KafkaError when librdkafka cannot create it; nothing connects before the first call.
std::unique_ptr<AdminClient> make_admin_client(const std::map<std::string, std::string>& properties, AdminUse use);

}  // namespace samsa::kafka
