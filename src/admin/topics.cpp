#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "admin/client.hpp"
#include "admin/topics.hpp"
#include "kafka/handle.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace detail {

namespace {

using kafka::AdminOptionsPtr;
using kafka::MetadataPtr;
using kafka::NewTopicPtr;
using kafka::TopicPtr;

// The smallest replica count of the topic's partitions: a partition being reassigned may
// list more for a while, one with fewer is what the topic can lose.
int replication_factor(const rd_kafka_metadata_topic_t& t) {
  int smallest = 0;
  for (int i = 0; i < t.partition_cnt; ++i)
    if (int n = t.partitions[i].replica_cnt; i == 0 || n < smallest) smallest = n;
  return smallest;
}

TopicInfo topic_info(const rd_kafka_metadata_topic_t& t) {
  switch (t.err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:  // exists, leaders still being elected
      return {true, t.partition_cnt, replication_factor(t)};
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return {false, 0};
    default:
      throw kafka::error(std::string("cannot read the metadata of topic '") + t.topic + "'",
                         t.err);
  }
}

}  // namespace

// Every topic of the cluster. Asking for all topics is the one metadata request that never
// creates a topic: librdkafka 2.0.2's mock cluster speaks Metadata v2 at most, which has no
// AllowAutoTopicCreation flag, so it auto-creates every topic named in a request whatever
// the client's allow.auto.create.topics says.
TopicMap describe_all_topics(rd_kafka_t* rk, const std::string& brokers, ClientState& st,
                             const Deadline& dl) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, dl.remaining_ms());
  MetadataPtr md(raw);
  if (err) throw failure("cannot read the cluster's metadata", err, brokers, st, dl);
  TopicMap out;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
    out[t.topic] = topic_info(t);
  }
  return out;
}

}  // namespace detail

namespace {

using namespace detail;

// Describes `topic`, without creating it.
TopicInfo describe_topic(rd_kafka_t* rk, const std::string& topic, const std::string& brokers,
                         ClientState& st, const Deadline& dl) {
  TopicMap all = describe_all_topics(rk, brokers, st, dl);
  auto it = all.find(topic);
  return it == all.end() ? TopicInfo{} : it->second;
}

// Asks for `topic` by name, which creates it when the broker auto-creates topics and the
// client allows it.
TopicInfo request_topic(rd_kafka_t* rk, const std::string& topic, const std::string& brokers,
                        ClientState& st, const Deadline& dl) {
  TopicPtr rkt(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  if (!rkt) throw kafka::error("cannot look up topic '" + topic + "'", rd_kafka_last_error());
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt.get(), &raw, dl.remaining_ms());
  MetadataPtr md(raw);
  if (err) throw failure("cannot read the metadata of topic '" + topic + "'", err, brokers, st, dl);
  for (int i = 0; i < md->topic_cnt; ++i)
    if (topic == md->topics[i].topic) return topic_info(md->topics[i]);
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
void auto_create(const Cluster& cluster, const TopicSpec& spec,
                 rd_kafka_resp_err_t create_err, bool embedded, const Deadline& dl) {
  const std::string brokers = cluster.bootstrap_servers();
  ClientState st;
  KafkaPtr rk = make_client(cluster, st, {}, RD_KAFKA_PRODUCER, false,
                            {{"allow.auto.create.topics", "true"}});
  // A broker that auto-creates does so at once; do not spend the whole budget on one that
  // does not.
  Deadline wait(std::chrono::milliseconds(std::min(dl.remaining_ms(), 5000)));
  TopicInfo info = wait_for_topic(
      [&] { return request_topic(rk.get(), spec.name, brokers, st, wait); }, 0, wait);
  const std::string what = "cannot create topic '" + spec.name + "' with " +
                           std::to_string(spec.partitions) + " partitions on " + brokers;
  if (!info.exists || info.partitions == 0)
    throw KafkaError(what + ": the broker does not support CreateTopics (" +
                         rd_kafka_err2name(create_err) +
                         ") and did not auto-create the topic either (allow "
                         "auto.create.topics.enable on the broker, or create the topic "
                         "with the broker's own tools)",
                     create_err, false);
  if (info.partitions == spec.partitions) return;
  std::string msg = what + ": the broker has no CreateTopics API";
  if (embedded)
    msg += " (it is librdkafka 2.0.2's embedded mock broker) and auto-created '" + spec.name +
           "' with " + std::to_string(info.partitions) + " partitions, not " +
           std::to_string(spec.partitions) + "; start it with `samsa broker --topic " +
           spec.name + " --partitions " + std::to_string(spec.partitions) +
           "` or create the topic in-process with EmbeddedBroker::create_topic";
  else
    msg += " (" + std::string(rd_kafka_err2name(create_err)) + ") and auto-created '" +
           spec.name + "' with " + std::to_string(info.partitions) + " partitions, not " +
           std::to_string(spec.partitions) + "; create it with the broker's own tools";
  throw KafkaError(std::move(msg), RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, false);
}

}  // namespace

void create_topics(const Cluster& cluster, const std::vector<TopicSpec>& topics,
                   std::chrono::milliseconds timeout) {
  if (topics.empty()) return;
  for (const auto& t : topics) {
    if (t.name.empty())
      throw KafkaError("cannot create a topic with an empty name",
                       RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, false);
    if (t.partitions < 1)
      throw KafkaError("cannot create topic '" + t.name + "' with " +
                           std::to_string(t.partitions) + " partitions (needs at least 1)",
                       RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, false);
    if (t.replication_factor < 1 && t.replication_factor != -1)
      throw KafkaError("cannot create topic '" + t.name + "' with replication factor " +
                           std::to_string(t.replication_factor) +
                           " (needs at least 1, or -1 for the broker's default)",
                       RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR, false);
  }
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  ClientState st;
  KafkaPtr rk = make_client(cluster, st, {}, RD_KAFKA_PRODUCER, false,
                            {{"allow.auto.create.topics", "false"}});

  // Existing topics are left as they are.
  const TopicMap existing = describe_all_topics(rk.get(), brokers, st, dl);
  std::vector<const TopicSpec*> missing;
  for (const auto& t : topics)
    if (!existing.contains(t.name) &&
        std::none_of(missing.begin(), missing.end(),
                     [&](const TopicSpec* m) { return m->name == t.name; }))
      missing.push_back(&t);
  if (missing.empty()) return;

  // librdkafka 2.0.2's mock cluster has no CreateTopics and names no controller, so an
  // admin request to it would wait for a controller until the timeout: go straight to
  // auto-creation.
  const bool embedded = is_mock_cluster(rk.get(), dl);
  if (embedded || rd_kafka_controllerid(rk.get(), std::max(1, dl.remaining_ms())) < 0) {
    for (const TopicSpec* spec : missing)
      auto_create(cluster, *spec, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, embedded, dl);
    return;
  }

  std::vector<NewTopicPtr> owned;
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  char errstr[512];
  for (const TopicSpec* t : missing) {
    NewTopicPtr nt(rd_kafka_NewTopic_new(t->name.c_str(), t->partitions, t->replication_factor,
                                         errstr, sizeof errstr));
    if (!nt)
      throw KafkaError("cannot create topic '" + t->name + "': " + errstr,
                       RD_KAFKA_RESP_ERR__INVALID_ARG, false);
    for (const auto& [key, value] : t->configs)
      if (auto err = rd_kafka_NewTopic_set_config(nt.get(), key.c_str(), value.c_str()))
        throw KafkaError("cannot create topic '" + t->name + "' with config " + key + "=" +
                             value + ": " + rd_kafka_err2str(err),
                         static_cast<int>(err), false);
    new_topics.push_back(nt.get());
    owned.push_back(std::move(nt));
  }
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  int budget = std::max(1, dl.remaining_ms());
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), budget, errstr, sizeof errstr) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), budget, errstr, sizeof errstr))
    throw KafkaError(std::string("cannot create topics: ") + errstr,
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  kafka::QueuePtr queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_CreateTopics(rk.get(), new_topics.data(), new_topics.size(), options.get(),
                        queue.get());
  kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), dl.remaining_ms() + 2000));
  if (!ev)
    throw failure("cannot create topics", RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl);

  std::vector<std::pair<const TopicSpec*, rd_kafka_resp_err_t>> fallback;
  std::vector<const TopicSpec*> created;
  if (auto err = rd_kafka_event_error(ev.get())) {
    if (!is_unsupported(err))
      throw failure(std::string("cannot create topics (") +
                        rd_kafka_event_error_string(ev.get()) + ")",
                    err, brokers, st, dl);
    for (const TopicSpec* t : missing) fallback.emplace_back(t, err);
  } else {
    const auto* result = rd_kafka_event_CreateTopics_result(ev.get());
    size_t cnt = 0;
    const rd_kafka_topic_result_t** results =
        result ? rd_kafka_CreateTopics_result_topics(result, &cnt) : nullptr;
    for (size_t i = 0; i < cnt; ++i) {
      std::string name = rd_kafka_topic_result_name(results[i]);
      auto spec = std::find_if(missing.begin(), missing.end(),
                               [&](const TopicSpec* t) { return t->name == name; });
      if (spec == missing.end()) continue;
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        created.push_back(*spec);
      } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        // created meanwhile by someone else: left as it is
      } else if (is_unsupported(err)) {
        fallback.emplace_back(*spec, err);
      } else {
        const char* detail = rd_kafka_topic_result_error_string(results[i]);
        throw KafkaError("cannot create topic '" + name + "' with " +
                             std::to_string((*spec)->partitions) +
                             " partitions, replication factor " +
                             std::to_string((*spec)->replication_factor) + " on " + brokers +
                             ": " + rd_kafka_err2name(err) + " (" +
                             (detail && *detail ? detail : rd_kafka_err2str(err)) + ")",
                         static_cast<int>(err), false);
      }
    }
  }

  for (const auto& [spec, err] : fallback) auto_create(cluster, *spec, err, embedded, dl);
  // Return when the new topics are usable: metadata reaches the brokers a moment later.
  for (const TopicSpec* spec : created)
    wait_for_topic([&] { return describe_topic(rk.get(), spec->name, brokers, st, dl); },
                   spec->partitions, dl);
}

int partition_count(const Cluster& cluster, const std::string& topic,
                    std::chrono::milliseconds timeout) {
  if (topic.empty())
    throw KafkaError("cannot look up a topic with an empty name",
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  Deadline dl(timeout);
  ClientState st;
  KafkaPtr rk = make_client(cluster, st, {}, RD_KAFKA_PRODUCER, false,
                            {{"allow.auto.create.topics", "false"}});
  return describe_topic(rk.get(), topic, cluster.bootstrap_servers(), st, dl).partitions;
}

}  // namespace samsa::admin
