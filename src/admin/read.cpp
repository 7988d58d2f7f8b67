// admin::read_topic (samsa/admin.hpp): a topic read without a consumer group, for
// `samsa consume`. A consumer that assigns the partitions itself (never subscribes, never
// commits), with enable.partition.eof so that until_end knows where each partition ends.
#include <set>
#include <stdexcept>
#include <string>

#include "admin/client.hpp"
#include "kafka/error_code.hpp"
#include "samsa/admin.hpp"

namespace samsa::admin {

using namespace detail;
using std::chrono::milliseconds;

std::int64_t read_topic(const Cluster& cluster, const std::string& topic, const ReadOptions& options,
                        const std::function<bool(const ReadRecord&)>& on_record, const std::function<bool()>& stop,
                        std::chrono::milliseconds timeout) {
  if (options.offset && !options.partition)
    throw std::invalid_argument("an offset to read from needs its partition (--partition P --offset O)");
  if (options.offset && *options.offset < 0)
    throw std::invalid_argument("an offset is >= 0 (use --from-beginning for the first one kept)");
  const int partitions = partition_count(cluster, topic, timeout);
  if (partitions == 0)
    throw KafkaError("topic '" + topic + "' does not exist at " + cluster.bootstrap_servers(),
                     kafka::error_code::unknown_topic_or_part, false);
  if (options.partition && (*options.partition < 0 || *options.partition >= partitions))
    throw std::invalid_argument("topic '" + topic + "' has partitions 0 to " + std::to_string(partitions - 1) +
                                ", not " + std::to_string(*options.partition));
  // group.id is librdkafka's requirement for a consumer, never used: nothing subscribes or
  // commits.
  auto client = make_client(cluster, kafka::AdminUse::read, {},
                            {{"group.id", "samsa-consume"},
                             {"enable.auto.commit", "false"},
                             {"enable.auto.offset.store", "false"},
                             {"enable.partition.eof", "true"},
                             {"allow.auto.create.topics", "false"},
                             {"isolation.level", options.read_committed ? "read_committed" : "read_uncommitted"}});
  std::vector<TopicPartitionOffset> parts;
  const std::int64_t start = options.offset ? *options.offset
                             : options.from_beginning ? kafka::AdminClient::kOffsetBeginning
                                                      : kafka::AdminClient::kOffsetEnd;
  for (int p = 0; p < partitions; ++p)
    if (!options.partition || *options.partition == p) parts.push_back({topic, p, start});
  if (const kafka::Status err = client->assign(parts))
    throw err.error("cannot read topic '" + topic + "'");
  std::set<std::int32_t> at_end;
  std::int64_t handed = 0;
  while (!(stop && stop())) {
    kafka::AdminClient::Read r = client->read(milliseconds(200));
    if (r.end_of) {
      at_end.insert(*r.end_of);
      if (options.until_end && at_end.size() == parts.size()) break;
      continue;
    }
    if (r.error) throw r.error.error("reading topic '" + topic + "'");
    if (!r.message) continue;
    at_end.erase(r.message.partition());
    ReadRecord record;
    record.topic = topic;
    record.partition = r.message.partition();
    record.offset = r.message.offset();
    if (r.message.has_key()) record.key = std::string(r.message.key());
    if (r.message.has_payload()) record.value = std::string(r.message.payload());
    record.timestamp_ms = r.message.timestamp_ms();
    for (const Header& h : r.message.headers())
      record.headers.emplace_back(std::string(h.name),
                                  h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt);
    ++handed;
    if (!on_record(record)) break;
    if (options.count > 0 && handed >= options.count) break;
  }
  return handed;
}

}  // namespace samsa::admin
