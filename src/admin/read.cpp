// admin::read_topic (samsa/admin.hpp): a topic read for `samsa consume`. Without a group, a
// consumer that assigns the partitions itself (never subscribes, never commits); with
// options.group, a member of that group (subscribes; commits only with options.commit). Both
// with enable.partition.eof so that until_end knows where each partition ends.
#include <algorithm>
#include <map>
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
  if (!options.group.empty() && options.partition)
    throw std::invalid_argument("a group member reads the partitions the group assigns it, not one chosen "
                                "(--group with --partition)");
  if (options.commit && options.group.empty())
    throw std::invalid_argument("only a group member commits (--commit needs --group)");
  if (options.offset && *options.offset < 0)
    throw std::invalid_argument("an offset is >= 0 (use --from-beginning for the first one kept)");
  const int partitions = partition_count(cluster, topic, timeout);
  if (partitions == 0)
    throw KafkaError("topic '" + topic + "' does not exist at " + cluster.bootstrap_servers(),
                     kafka::error_code::unknown_topic_or_part, false);
  if (options.partition && (*options.partition < 0 || *options.partition >= partitions))
    throw std::invalid_argument("topic '" + topic + "' has partitions 0 to " + std::to_string(partitions - 1) +
                                ", not " + std::to_string(*options.partition));
  const bool member = !options.group.empty();
  // Without a group, group.id is librdkafka's requirement for a consumer, never used:
  // nothing subscribes or commits. Offsets are stored by hand (after a record was handed
  // over), so auto-commit commits only those, and only with options.commit.
  // A member's session: 6 s (real Kafka's least) unless the cluster's properties say
  // otherwise, instead of librdkafka's 45 s: a reader that comes and goes often is judged
  // soon, and the embedded broker answers the next member's JoinGroup the leaver's
  // session.timeout.ms - 1 s after it left (44 s with 45 s). KIP-848 refuses the property.
  std::map<std::string, std::string> defaults;
  const auto protocol = cluster.kafka.find("group.protocol");
  if (member && (protocol == cluster.kafka.end() || protocol->second == "classic"))
    defaults["session.timeout.ms"] = "6000";
  auto client = make_client(cluster, kafka::AdminUse::read, defaults,
                            {{"group.id", member ? options.group : std::string("samsa-consume")},
                             {"enable.auto.commit", options.commit ? "true" : "false"},
                             {"enable.auto.offset.store", "false"},
                             {"auto.offset.reset", options.from_beginning ? "earliest" : "latest"},
                             {"enable.partition.eof", "true"},
                             {"allow.auto.create.topics", "false"},
                             {"isolation.level", options.read_committed ? "read_committed" : "read_uncommitted"}});
  std::vector<TopicPartitionOffset> parts;
  const std::int64_t start = options.offset ? *options.offset
                             : options.from_beginning ? kafka::AdminClient::kOffsetBeginning
                                                      : kafka::AdminClient::kOffsetEnd;
  for (int p = 0; p < partitions; ++p)
    if (!options.partition || *options.partition == p) parts.push_back({topic, p, start});
  if (const kafka::Status err = member ? client->subscribe(topic) : client->assign(parts))
    throw err.error(member ? "cannot join group '" + options.group + "' for topic '" + topic + "'"
                           : "cannot read topic '" + topic + "'");
  // Every partition read is at its end: all of `parts`, or, for a member, every partition
  // the group assigns it now (none before the first assignment).
  std::set<std::int32_t> at_end;
  auto all_at_end = [&] {
    if (!member) return at_end.size() == parts.size();
    const auto mine = client->assigned();
    return !mine.empty() && std::all_of(mine.begin(), mine.end(), [&](std::int32_t p) { return at_end.contains(p); });
  };
  std::int64_t handed = 0;
  // With options.commit: what was handed over is committed at the end too, synchronously
  // (below; this, when a throw ends the read, without a word about its outcome).
  struct FinalCommit {
    kafka::AdminClient* client;
    ~FinalCommit() {
      if (client) client->commit_stored(milliseconds(10000));
    }
  } final_commit{options.commit ? client.get() : nullptr};
  while (!(stop && stop())) {
    kafka::AdminClient::Read r = client->read(milliseconds(200));
    if (r.end_of) {
      at_end.insert(*r.end_of);
      if (options.until_end && all_at_end()) break;
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
    const bool more = on_record(record);
    if (options.commit) client->store(topic, record.partition, record.offset + 1);
    if (!more) break;
    if (options.count > 0 && handed >= options.count) break;
  }
  if (options.commit) {
    final_commit.client = nullptr;
    if (const kafka::Status err = client->commit_stored(milliseconds(10000)))
      throw err.error("committing group '" + options.group + "''s offsets of topic '" + topic + "' after " +
                      std::to_string(handed) + " records");
  }
  return handed;
}

}  // namespace samsa::admin
