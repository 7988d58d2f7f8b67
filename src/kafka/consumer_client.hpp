#pragma once
// The runtime's one door to Kafka: a group consumer that speaks Samsa types. It owns the
// librdkafka handle and its callbacks, and classifies every librdkafka error once
// (kafka::Status); the runtime (src/runtime/) includes no librdkafka header and is tested
// against a fake of this interface (tests/support/fake_consumer_client.hpp).
//
// Threads: the listener thread calls everything but wake(), store(), commit() and
// committed(), which any thread may call (librdkafka's own locking). ClientEvents are
// called inside poll() on the listener thread, except on_log (any librdkafka thread).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kafka/admin_client.hpp"
#include "kafka/commit_offset.hpp"
#include "kafka/fetched.hpp"
#include "kafka/status.hpp"
#include "kafka/transactional_producer.hpp"
#include "samsa/admin.hpp"
#include "samsa/instrumentation.hpp"
#include "samsa/logger.hpp"
#include "samsa/routing.hpp"
#include "samsa/settings.hpp"
#include "samsa/topic_partition.hpp"

namespace samsa::kafka {

/// The answer to one commit request.
struct CommitAnswer {
  /// False: no answer came within the caller's time (`request` is timed_out).
  bool answered = false;
  /// The request's own error; the partitions' are in `offsets`.
  Status request;
  std::vector<CommitOffset> offsets;
  /// The first error of the request or of a partition (ok when all succeeded).
  Status first_error() const {
    if (request) return request;
    for (const auto& o : offsets)
      if (o.status) return o.status;
    return {};
  }
};

/// What the client reports while it polls. Rebalances: the handler does its work and calls
/// ConsumerClient::assign() / unassign() before it returns, as librdkafka requires.
class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  virtual void on_assigned(const std::vector<TopicPartitionOffset>& parts) = 0;
  /// `lost`: the partitions were lost (session timeout, fenced), not handed over; a commit
  /// for them would be refused.
  virtual void on_revoked(const std::vector<TopicPartitionOffset>& parts, bool lost) = 0;
  /// A rebalance error; the handler treats `parts` as revoked.
  virtual void on_rebalance_error(const Status& error, const std::vector<TopicPartitionOffset>& parts) = 0;
  /// The answer to an asynchronous commit (commit_async(), and librdkafka's auto-commit).
  /// Not called for commit()'s answers, which commit() returns.
  virtual void on_commit(const CommitAnswer& answer) = 0;
  /// A consumer error that came instead of a message (e.g. a topic that does not exist,
  /// code unknown_topic, with the topic's name); `topic` is empty when none is named.
  virtual void on_consumer_error(const Status& error, const std::string& topic) = 0;
  /// A client error (all_brokers_down, fatal, or a transient other); text redacted.
  virtual void on_error(const Status& error) = 0;
  /// One of librdkafka's log lines, redacted; any thread. Only lines of a level
  /// logs(level) accepts are redacted and handed over.
  virtual void on_log(LogLevel level, const std::string& facility, const std::string& text) = 0;
  virtual bool logs(LogLevel level) const = 0;
  /// librdkafka's statistics document (statistics.interval.ms), inside the poll.
  virtual void on_statistics(const std::string& json) { (void)json; }
};

class ConsumerClient {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  virtual ~ConsumerClient() = default;

  /// Where events go. Called once, before subscribe(); `events` outlives the client. The
  /// log lines librdkafka wrote before (while the client was built: configuration
  /// warnings) are handed over then.
  virtual void set_events(ClientEvents* events) = 0;
  virtual Status subscribe(const std::vector<std::string>& topics) = 0;
  /// The next message, waiting at most `timeout` (0: only what is queued already); empty
  /// when none came. Serves rebalances, commit answers and errors meanwhile.
  virtual Fetched poll(std::chrono::milliseconds timeout) = 0;
  /// Moves into `out` what the client has queued already, at most `max` messages, without
  /// waiting; returns how many it appended (0: nothing queued). Serves rebalances, commit
  /// answers and errors like poll(), so a rebalance may run inside the call: a message it
  /// returns may belong to a partition revoked meanwhile (the caller checks ownership
  /// after the call), but never to an assignment older than the partition's current one
  /// (what was fetched before a revocation, a seek or a pause of its partition is not
  /// returned). This default takes one message (poll with timeout 0), where that holds
  /// trivially; the librdkafka client takes a batch (rd_kafka_consume_batch_queue) from
  /// librdkafka 2.1.0 on, whose version barriers drop the outdated messages of a batch.
  virtual std::size_t drain(std::size_t max, std::vector<Fetched>& out) {
    if (max == 0) return 0;
    Fetched m = poll(std::chrono::milliseconds(0));
    if (!m) return 0;
    out.push_back(std::move(m));
    return 1;
  }
  /// Any thread: makes a poll() that waits return now (it returns empty). A wake-up with no
  /// poll waiting is kept for the next poll.
  virtual void wake() = 0;
  /// The group's rebalances are incremental (the last rebalance's protocol).
  virtual bool incremental() const = 0;
  /// Inside on_assigned: takes `parts` (offsets as given there) into the assignment.
  virtual Status assign(const std::vector<TopicPartitionOffset>& parts) = 0;
  /// Inside on_revoked / on_rebalance_error: gives `parts` up (all, when eager).
  virtual Status unassign(const std::vector<TopicPartitionOffset>& parts) = 0;
  /// Stops / restarts fetching a partition. The client drops what it prefetched for it;
  /// a resume fetches again after the last message poll() returned.
  virtual Status pause(const std::string& topic, std::int32_t partition) = 0;
  virtual Status resume(const std::string& topic, std::int32_t partition) = 0;
  /// The next poll() of the partition returns `offset` first. Blocks `timeout` at most.
  virtual Status seek(const std::string& topic, std::int32_t partition, std::int64_t offset,
                      std::chrono::milliseconds timeout) = 0;
  /// Hands `offset` (with `metadata`) to the auto-commit. ownership_lost() when the
  /// partition is not assigned. Any thread.
  virtual Status store(const std::string& topic, std::int32_t partition, std::int64_t offset,
                       const std::string& metadata) = 0;
  /// One commit request of exactly `offsets`, answered on its own (never through
  /// on_commit), waiting `timeout` at most. No retry: Committer has the one policy. Any thread.
  virtual CommitAnswer commit(const std::vector<CommitOffset>& offsets, std::chrono::milliseconds timeout) = 0;
  /// Asks for an asynchronous commit of everything stored; the answer comes to on_commit.
  virtual Status commit_async() = 0;
  /// The committed offset's metadata of a partition (empty when none). Any thread; blocks
  /// one round trip, `timeout` at most.
  virtual Status committed_metadata(const std::string& topic, std::int32_t partition,
                                    std::chrono::milliseconds timeout, std::string& metadata) = 0;
  /// A partition's low and high watermarks (the first offset kept, the log end). Any
  /// thread; one round trip, `timeout` at most.
  virtual Status watermarks(const std::string& topic, std::int32_t partition, std::chrono::milliseconds timeout,
                            std::int64_t& low, std::int64_t& high) = 0;
  /// The offsets the group coordinator has committed for `parts` (topic, partition), one
  /// per entry in `offsets` (-1: none). Any thread; one round trip, `timeout` at most.
  virtual Status committed_offsets(const std::vector<TopicPartition>& parts,
                                   std::chrono::milliseconds timeout, std::vector<std::int64_t>& offsets) = 0;
  /// The group's metadata as the client has it now (member id, generation or member
  /// epoch), for a transaction's offsets; null before the member joined (and from a
  /// client without transactions, the tests' fake). Listener thread.
  virtual GroupMetadata group_metadata() { return nullptr; }
  /// The first offset of a partition whose timestamp is >= `timestamp_ms`; the log end
  /// when there is none. Any thread; one round trip, `timeout` at most.
  virtual Status offset_for_time(const std::string& topic, std::int32_t partition, std::int64_t timestamp_ms,
                                 std::chrono::milliseconds timeout, std::int64_t& offset) = 0;
  /// The group's state and members as its coordinator describes them
  /// (DescribeConsumerGroups), asked by the GroupDescriber the client was made with, on an
  /// admin client with this client's properties (its brokers, TLS and SASL) that the first
  /// call makes and later ones reuse. One thread at a time, never the listener's: blocks
  /// until the coordinator answered or `timeout`. Never throws: `known` is false, with the
  /// reason, when the broker cannot describe groups or did not answer.
  virtual admin::GroupDescription describe_group(std::chrono::milliseconds timeout) {
    (void)timeout;
    admin::GroupDescription d;
    d.reason = "this client cannot describe groups";
    return d;
  }
  /// The assignment was lost rather than revoked (inside on_revoked), or is being lost (any
  /// thread: librdkafka knows it, e.g. the member was fenced, before the revocation reaches
  /// poll()).
  virtual bool assignment_lost() = 0;
  /// The member's epoch as the client knows it now (KIP-848: the broker moves it on with
  /// each new assignment and tells the member in a heartbeat's answer); nullopt under the
  /// classic protocol, before the member joined, or when this librdkafka cannot tell. A
  /// commit sent with an older epoch than the broker's is refused (stale_member_epoch).
  /// Any thread; a round trip to librdkafka's own thread, no network.
  virtual std::optional<std::int32_t> member_epoch() { return std::nullopt; }
  /// Whether `topic` exists: nullopt when no broker answered within `timeout`. Any thread.
  virtual std::optional<bool> topic_exists(const std::string& topic, std::chrono::milliseconds timeout) = 0;
  /// Leaves the group (runs on_revoked for what is assigned). Listener thread, last call.
  virtual Status close() = 0;
  /// librdkafka's max.poll.interval.ms for this client.
  virtual std::chrono::milliseconds max_poll_interval() const = 0;
  /// The client carries commit metadata to the auto-commit (librdkafka >= 2.2).
  virtual bool stores_offset_metadata() const = 0;
  /// "librdkafka 2.0.2", for messages.
  virtual std::string version() const = 0;
};

/// How ConsumerClient::describe_group asks: DescribeConsumerGroups of `group` on `client`
/// until the coordinator answers or `timeout`, `brokers` naming the cluster in its errors;
/// throws KafkaError when it cannot. The procedure (retries, the embedded broker's limits)
/// is src/admin/'s: the runtime passes it in, so that src/kafka/ does not depend on it.
using GroupDescriber = std::function<admin::GroupDescription(AdminClient& client, const std::string& brokers,
                                                             const std::string& group,
                                                             std::chrono::milliseconds timeout)>;

/// The real client: librdkafka's consumer for `group`, one of `groups` consumer groups in
/// the process, with Samsa's properties (enable.auto.offset.store off, the group protocol,
/// the fetch-queue defaults from the group's share of max_buffered_bytes), describing its
/// group with `describer`. Throws SettingsError for a bad or missing property, before
/// anything connects.
std::unique_ptr<ConsumerClient> make_consumer_client(const Settings& settings, const ConsumerGroupRoute& group,
                                                     const std::string& brokers, GroupDescriber describer,
                                                     std::size_t groups);
/// Checks the librdkafka properties make_consumer_client would build `group`'s consumer with
/// (see check_client_properties), without connecting: `info` runs it. Throws SettingsError.
void check_consumer_client(const Settings& settings, const ConsumerGroupRoute& group);

}  // namespace samsa::kafka
