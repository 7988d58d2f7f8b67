#pragma once
// Operations on a cluster that are not consuming: creating topics, producing test events,
// reading a group's committed offsets. Used by the `samsa` tool, `App::run`'s `topics`
// command and the tests (which read committed offsets back from the broker with these).
//
// Every function here blocks until the broker answered or `timeout` passed, and throws
// KafkaError (with a hint) on failure.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace samsa::admin {

using namespace std::chrono_literals;

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
};

/// Creates the topics that do not exist yet; existing ones are left as they are.
/// On a broker that cannot create topics (the embedded broker of librdkafka 2.0.2 lacks
/// CreateTopics) it falls back to auto-creation and throws if the partition count differs.
void create_topics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                   std::chrono::milliseconds timeout = 30s);

/// The partition count of `topic`, or 0 when it does not exist.
int partition_count(const std::string& brokers, const std::string& topic,
                    std::chrono::milliseconds timeout = 10s);

struct Record {
  std::optional<std::string> key;
  std::string value;
  /// Partition to write to; -1 lets the partitioner choose (by key, else round robin).
  std::int32_t partition = -1;
};

/// Produces the records with acks=all and idempotence, and waits until every one is
/// delivered (throws on the first delivery failure).
void produce(const std::string& brokers, const std::string& topic,
             const std::vector<Record>& records, std::chrono::milliseconds timeout = 60s);

/// Produces `count` JSON events {"id": N, ...} numbered first..first+count-1, spread evenly
/// over the partitions (event i goes to partition i % partitions when partitions > 0).
void produce_events(const std::string& brokers, const std::string& topic, std::int64_t first,
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
std::vector<PartitionOffsets> group_offsets(const std::string& brokers, const std::string& group,
                                            const std::vector<std::string>& topics = {},
                                            std::chrono::milliseconds timeout = 30s);

/// Convenience for tests: the committed offset of one partition, -1 when none.
std::int64_t committed_offset(const std::string& brokers, const std::string& group,
                              const std::string& topic, std::int32_t partition,
                              std::chrono::milliseconds timeout = 30s);

}  // namespace samsa::admin
