#include "admin/topics.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "admin/client.hpp"
#include "kafka/error_code.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace detail {

namespace {

using Code = kafka::Status::Code;

TopicInfo topic_info(const kafka::TopicMetadata& t) {
  if (t.status.ok() || t.status.code() == Code::leader_not_available)  // exists, leaders still being elected
    return {true, t.partitions, t.replication_factor};
  if (t.status.code() == Code::unknown_topic) return {false, 0};
  throw t.status.error("cannot read the metadata of topic '" + t.name + "'");
}

}  // namespace

// Every topic of the cluster. Asking for all topics is the one metadata request that never
// creates a topic: librdkafka 2.0.2's mock cluster speaks Metadata v2 at most, which has no
// AllowAutoTopicCreation flag, so it auto-creates every topic named in a request whatever
// the client's allow.auto.create.topics says.
TopicMap describe_all_topics(kafka::AdminClient& client, const std::string& brokers, const Deadline& dl) {
  std::vector<kafka::TopicMetadata> topics;
  if (kafka::Status s = client.all_topics(dl.remaining(), topics))
    throw failure("cannot read the cluster's metadata", s, brokers, client, dl);
  TopicMap out;
  for (const auto& t : topics) {
    if (t.status.code() == Code::unknown_topic) continue;
    out[t.name] = topic_info(t);
  }
  return out;
}

}  // namespace detail

namespace {

using namespace detail;
using Code = kafka::Status::Code;

// "6 partitions", or for -1 "the broker's default partition count".
std::string partitions_text(int partitions) {
  return partitions == -1 ? std::string("the broker's default partition count")
                          : std::to_string(partitions) + " partitions";
}

// Describes `topic`, without creating it.
TopicInfo describe_topic(kafka::AdminClient& client, const std::string& topic, const std::string& brokers,
                         const Deadline& dl) {
  TopicMap all = describe_all_topics(client, brokers, dl);
  auto it = all.find(topic);
  return it == all.end() ? TopicInfo{} : it->second;
}

// Asks for `topic` by name, which creates it when the broker auto-creates topics and the
// client allows it.
TopicInfo request_topic(kafka::AdminClient& client, const std::string& topic, const std::string& brokers,
                        const Deadline& dl) {
  std::vector<kafka::TopicMetadata> topics;
  const kafka::Status s = client.topic(topic, dl.remaining(), topics);
  if (s.not_sent()) throw s.error("cannot look up topic '" + topic + "'");
  if (s) throw failure("cannot read the metadata of topic '" + topic + "'", s, brokers, client, dl);
  for (const auto& t : topics)
    if (topic == t.name) return topic_info(t);
  return {};
}

// Waits until `topic` shows `expected` partitions (or any, when expected is 0) in the
// metadata: a just-created topic may take a moment to reach every broker.
template <class Lookup>
TopicInfo wait_for_topic(Lookup&& lookup, int expected, const Deadline& dl) {
  for (;;) {
    TopicInfo info = lookup();
    bool ready = info.exists && info.partitions > 0 &&
                 (expected == 0 || info.partitions >= expected);
    if (ready || dl.expired()) return info;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// For a broker without CreateTopics (librdkafka 2.0.2's mock cluster): it creates a topic
// when a client asks for its metadata by name, with the cluster's default partition count.
// So create it that way and check that the count is the one asked for.
void auto_create(const Cluster& cluster, const TopicSpec& spec, const kafka::Status& create_err, bool embedded,
                 const Deadline& dl) {
  const std::string brokers = cluster.bootstrap_servers();
  auto client = make_client(cluster, kafka::AdminUse::cluster, {}, {{"allow.auto.create.topics", "true"}});
  // A broker that auto-creates does so at once; do not spend the whole budget on one that
  // does not.
  Deadline wait(std::chrono::milliseconds(std::min(dl.remaining_ms(), 5000)));
  TopicInfo info = wait_for_topic(
      [&] { return request_topic(*client, spec.name, brokers, wait); }, 0, wait);
  const std::string what = "cannot create topic '" + spec.name + "' with " +
                           partitions_text(spec.partitions) + " on " + brokers;
  if (!info.exists || info.partitions == 0)
    throw KafkaError(what + ": the broker does not support CreateTopics (" + create_err.name() +
                         ") and did not auto-create the topic either (allow "
                         "auto.create.topics.enable on the broker, or create the topic "
                         "with the broker's own tools)",
                     create_err.number(), false);
  if (info.partitions == spec.partitions || spec.partitions == -1) return;
  std::string msg = what + ": the broker has no CreateTopics API";
  if (embedded)
    msg += " (it is librdkafka 2.0.2's embedded mock broker) and auto-created '" + spec.name +
           "' with " + std::to_string(info.partitions) + " partitions, not " +
           std::to_string(spec.partitions) + "; start it with `samsa broker --topic " +
           spec.name + " --partitions " + std::to_string(spec.partitions) +
           "` or create the topic in-process with EmbeddedBroker::create_topic";
  else
    msg += " (" + create_err.name() + ") and auto-created '" +
           spec.name + "' with " + std::to_string(info.partitions) + " partitions, not " +
           std::to_string(spec.partitions) + "; create it with the broker's own tools";
  throw KafkaError(std::move(msg), kafka::error_code::invalid_partitions, false);
}

}  // namespace

void create_topics(const Cluster& cluster, const std::vector<TopicSpec>& topics,
                   std::chrono::milliseconds timeout) {
  if (topics.empty()) return;
  for (const auto& t : topics) {
    if (t.name.empty())
      throw KafkaError("cannot create a topic with an empty name",
                       kafka::error_code::topic_exception, false);
    if (t.partitions < 1 && t.partitions != -1)
      throw KafkaError("cannot create topic '" + t.name + "' with " +
                           std::to_string(t.partitions) +
                           " partitions (needs at least 1, or -1 for the broker's default)",
                       kafka::error_code::invalid_partitions, false);
    if (t.replication_factor < 1 && t.replication_factor != -1)
      throw KafkaError("cannot create topic '" + t.name + "' with replication factor " +
                           std::to_string(t.replication_factor) +
                           " (needs at least 1, or -1 for the broker's default)",
                       kafka::error_code::invalid_replication_factor, false);
  }
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  auto client = make_client(cluster, kafka::AdminUse::cluster, {}, {{"allow.auto.create.topics", "false"}});

  // Existing topics are left as they are.
  const TopicMap existing = describe_all_topics(*client, brokers, dl);
  std::vector<TopicSpec> missing;
  for (const auto& t : topics)
    if (!existing.contains(t.name) &&
        std::none_of(missing.begin(), missing.end(), [&](const TopicSpec& m) { return m.name == t.name; }))
      missing.push_back(t);
  if (missing.empty()) return;

  // librdkafka 2.0.2's mock cluster has no CreateTopics and names no controller, so an
  // admin request to it would wait for a controller until the timeout: go straight to
  // auto-creation.
  const bool embedded = client->is_mock_cluster(dl.remaining());
  if (embedded || client->controller_id(dl.remaining()) < 0) {
    for (const TopicSpec& spec : missing)
      auto_create(cluster, spec, kafka::status_of(kafka::error_code::unsupported_feature), embedded, dl);
    return;
  }

  std::vector<kafka::CreatedTopic> results;
  const kafka::Status s = client->create_topics(missing, dl.remaining(), results);
  if (s.not_sent())
    throw KafkaError("cannot create topics: " + s.text(), s.number(), false);

  std::vector<std::pair<const TopicSpec*, kafka::Status>> fallback;
  std::vector<const TopicSpec*> created;
  if (s) {
    if (!s.unsupported())
      throw failure(s.detail().empty() ? std::string("cannot create topics")
                                       : "cannot create topics (" + s.detail() + ")",
                    s, brokers, *client, dl);
    for (const TopicSpec& t : missing) fallback.emplace_back(&t, s);
  } else {
    for (const auto& result : results) {
      auto spec = std::find_if(missing.begin(), missing.end(),
                               [&](const TopicSpec& t) { return t.name == result.name; });
      if (spec == missing.end()) continue;
      const kafka::Status& err = result.status;
      if (err.ok()) {
        created.push_back(&*spec);
      } else if (err.code() == Code::topic_already_exists) {
        // created meanwhile by someone else: left as it is
      } else if (err.unsupported()) {
        fallback.emplace_back(&*spec, err);
      } else {
        throw KafkaError("cannot create topic '" + result.name + "' with " +
                             partitions_text(spec->partitions) + ", replication factor " +
                             std::to_string(spec->replication_factor) + " on " + brokers + ": " +
                             err.name() + " (" + (err.detail().empty() ? err.text() : err.detail()) + ")",
                         err.number(), false);
      }
    }
  }

  for (const auto& [spec, err] : fallback) auto_create(cluster, *spec, err, embedded, dl);
  // Return when the new topics are usable: metadata reaches the brokers a moment later.
  for (const TopicSpec* spec : created)
    wait_for_topic([&] { return describe_topic(*client, spec->name, brokers, dl); },
                   std::max(spec->partitions, 0), dl);
}

int partition_count(const Cluster& cluster, const std::string& topic,
                    std::chrono::milliseconds timeout) {
  if (topic.empty())
    throw KafkaError("cannot look up a topic with an empty name", kafka::error_code::invalid_arg, false);
  Deadline dl(timeout);
  auto client = make_client(cluster, kafka::AdminUse::cluster, {}, {{"allow.auto.create.topics", "false"}});
  return describe_topic(*client, topic, cluster.bootstrap_servers(), dl).partitions;
}

}  // namespace samsa::admin
