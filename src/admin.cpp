#include "samsa/admin.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "kafka/handle.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using Clock = std::chrono::steady_clock;
using kafka::KafkaPtr;

using kafka::AdminOptionsPtr;
using kafka::ListGroupOffsetsPtr;
using kafka::MetadataPtr;
using kafka::NewTopicPtr;
using kafka::TopicPtr;

class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds budget)
      : budget_(std::max(budget, std::chrono::milliseconds(0))), end_(Clock::now() + budget_) {}
  int remaining_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end_ - Clock::now());
    return kafka::to_ms(left);
  }
  bool expired() const { return Clock::now() >= end_; }
  std::string budget_text() const {
    auto ms = budget_.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
  }

 private:
  std::chrono::milliseconds budget_;
  Clock::time_point end_;
};

// State shared with librdkafka's callbacks (called from librdkafka's threads, or from
// rd_kafka_poll/flush for delivery reports). Must outlive the client it is attached to:
// declare it before the KafkaPtr.
struct ClientState {
  std::mutex mu;
  // librdkafka's first error-level log line, e.g. "Connect to ... failed: Connection refused".
  std::string first_log_error;
  rd_kafka_resp_err_t delivery_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::int32_t delivery_partition = -1;
  std::atomic<bool> delivery_failed{false};
  std::atomic<std::int64_t> delivered{0};

  std::string log_error() {
    std::lock_guard lock(mu);
    return first_log_error;
  }
};

// Replaces librdkafka's stderr logger: the admin functions report problems through their
// exceptions, and the first error line (the connection failure, usually) goes into them.
void on_log(const rd_kafka_t* rk, int level, const char*, const char* buf) {
  if (level > 3) return;  // LOG_ERR and worse
  auto* st = static_cast<ClientState*>(rd_kafka_opaque(rk));
  if (!st) return;
  std::string_view line(buf);
  if (line.starts_with("[thrd:"))  // librdkafka's thread tag: noise in an error message
    if (auto end = line.find("]: "); end != std::string_view::npos) line.remove_prefix(end + 3);
  std::lock_guard lock(st->mu);
  if (st->first_log_error.empty()) st->first_log_error = line;
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* st = static_cast<ClientState*>(opaque);
  if (!msg->err) {
    st->delivered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard lock(st->mu);
  if (!st->delivery_failed.load()) {
    st->delivery_err = msg->err;
    st->delivery_partition = msg->partition;
    st->delivery_failed.store(true);
  }
}

KafkaPtr make_client(const std::string& brokers, ClientState& st,
                     std::map<std::string, std::string> props,
                     rd_kafka_type_t type = RD_KAFKA_PRODUCER, bool delivery_reports = false) {
  if (brokers.empty())
    throw KafkaError("no bootstrap servers given (expected HOST:PORT[,HOST:PORT...])",
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  props["bootstrap.servers"] = brokers;
  props.emplace("client.id", "samsa-admin");
  auto conf = kafka::make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), &st);
  rd_kafka_conf_set_log_cb(conf.get(), on_log);
  if (delivery_reports) rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  return kafka::make_client(type, std::move(conf));
}

bool is_unreachable(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

// The exception for a failed request. Timeouts and transport errors say which cluster did
// not answer, within what time, and librdkafka's own account of the connection failure.
KafkaError failure(const std::string& what, rd_kafka_resp_err_t err, const std::string& brokers,
                   ClientState& st, const Deadline& dl) {
  if (!is_unreachable(err)) return kafka::error(what, err);
  std::string msg = what + ": no answer from the Kafka cluster at " + brokers + " within " +
                    dl.budget_text() + " (" + rd_kafka_err2name(err) + ")";
  if (auto log = st.log_error(); !log.empty()) msg += "; librdkafka says: " + log;
  msg += " (is a broker running at that address? check the bootstrap servers)";
  return KafkaError(std::move(msg), static_cast<int>(err), true);
}

// ---------------------------------------------------------------------------------------
// Metadata

struct TopicInfo {
  bool exists = false;
  int partitions = 0;
};

using TopicMap = std::map<std::string, TopicInfo>;

TopicInfo topic_info(const rd_kafka_metadata_topic_t& t) {
  switch (t.err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:  // exists, leaders still being elected
      return {true, t.partition_cnt};
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return {false, 0};
    default:
      throw kafka::error(std::string("cannot read the metadata of topic '") + t.topic + "'",
                         t.err);
  }
}

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

bool is_unsupported(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
         err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
         err == RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
}

// For a broker without CreateTopics (librdkafka 2.0.2's mock cluster): it creates a topic
// when a client asks for its metadata by name, with the cluster's default partition count.
// So create it that way and check that the count is the one asked for.
void auto_create(const std::string& brokers, const TopicSpec& spec,
                 rd_kafka_resp_err_t create_err, bool embedded, const Deadline& dl) {
  ClientState st;
  KafkaPtr rk = make_client(brokers, st, {{"allow.auto.create.topics", "true"}});
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

// ---------------------------------------------------------------------------------------
// Producing

// Produces `count` records, each filled in by `fill(i, key, has_key, value, partition)`,
// and waits until all are delivered. Throws on the first failure.
template <class Fill>
void produce_stream(const std::string& brokers, const std::string& topic, std::int64_t count,
                    std::chrono::milliseconds timeout, Fill&& fill) {
  if (topic.empty())
    throw KafkaError("cannot produce: empty topic name", RD_KAFKA_RESP_ERR__INVALID_ARG,
                     false);
  if (count <= 0) return;
  Deadline dl(timeout);
  ClientState st;
  KafkaPtr rk = make_client(brokers, st,
                            {{"enable.idempotence", "true"},
                             {"acks", "all"},
                             {"linger.ms", "5"},
                             // The deadline below bounds the wait; this bounds librdkafka's
                             // retries of each message to the same budget.
                             {"message.timeout.ms",
                              std::to_string(std::max(1000, kafka::to_ms(timeout)))}},
                            RD_KAFKA_PRODUCER, /*delivery_reports=*/true);
  auto where = [&] { return "topic '" + topic + "' at " + brokers; };

  // Ask for the topic's metadata before producing: a client learns about a topic it has
  // not asked for only at its next 1 s topic scan, which would delay every short run.
  // This also fails fast, and clearly, when the cluster cannot be reached.
  TopicPtr rkt(rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr));
  if (!rkt) throw kafka::error("cannot produce to " + where(), rd_kafka_last_error());
  // A topic just created may be unknown to the broker asked for a moment (metadata
  // propagates between brokers): ask again for up to 10 s before calling it missing.
  for (const auto unknown_until = Clock::now() + std::chrono::seconds(10);;) {
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 0, rkt.get(), &raw, dl.remaining_ms());
    MetadataPtr md(raw);
    if (err) throw failure("cannot produce to " + where(), err, brokers, st, dl);
    bool unknown = false;
    for (int i = 0; i < md->topic_cnt; ++i)
      unknown |= topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (!unknown) break;
    if (Clock::now() >= unknown_until || dl.expired())
      throw KafkaError("cannot produce to " + where() +
                           ": the topic does not exist and the broker does not auto-create "
                           "it (create it first, e.g. with admin::create_topics)",
                       RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  // Gives up: drops what is still queued (so that rd_kafka_destroy does not wait for it)
  // and builds the exception.
  auto abort_with = [&](KafkaError e) {
    rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk.get(), 1000);
    return e;
  };
  auto delivery_error = [&] {
    std::lock_guard lock(st.mu);
    std::string msg = "delivery to " + where() + " failed";
    if (st.delivery_partition >= 0)
      msg += " (partition " + std::to_string(st.delivery_partition) + ")";
    msg += std::string(": ") + rd_kafka_err2name(st.delivery_err) + " (" +
           rd_kafka_err2str(st.delivery_err) + ")";
    if (st.delivery_err == RD_KAFKA_RESP_ERR__FATAL) {
      char reason[512] = "";
      rd_kafka_fatal_error(rk.get(), reason, sizeof reason);
      msg += std::string(": ") + reason;
    }
    if (is_unreachable(st.delivery_err)) {
      if (!st.first_log_error.empty()) msg += "; librdkafka says: " + st.first_log_error;
      msg += " (is a broker running at that address?)";
    }
    return KafkaError(std::move(msg), static_cast<int>(st.delivery_err),
                      kafka::is_retriable_commit_error(st.delivery_err));
  };

  std::string key, value;
  for (std::int64_t i = 0; i < count; ++i) {
    bool has_key = false;
    std::int32_t partition = RD_KAFKA_PARTITION_UA;
    key.clear();
    value.clear();
    fill(i, key, has_key, value, partition);
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk.get(), RD_KAFKA_V_RKT(rkt.get()),
          RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
          RD_KAFKA_V_KEY(has_key ? key.data() : nullptr, has_key ? key.size() : 0),
          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      if (!err) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        throw abort_with(kafka::error(
            "cannot produce to " + where() +
                (partition >= 0 ? " (partition " + std::to_string(partition) + ")" : ""),
            err));
      if (st.delivery_failed) throw abort_with(delivery_error());
      if (dl.expired())
        throw abort_with(failure("cannot produce to " + where(), RD_KAFKA_RESP_ERR__TIMED_OUT,
                                 brokers, st, dl));
      rd_kafka_poll(rk.get(), 50);  // serves delivery reports, which frees queue space
    }
    if ((i & 1023) == 0) {
      rd_kafka_poll(rk.get(), 0);
      if (st.delivery_failed) throw abort_with(delivery_error());
    }
  }

  // Flush in slices so that a delivery failure ends the wait at once.
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_flush(rk.get(), std::min(200, dl.remaining_ms()));
    if (st.delivery_failed) throw abort_with(delivery_error());
    if (!err) break;
    if (dl.expired()) {
      auto delivered = st.delivered.load();
      throw abort_with(failure("cannot produce to " + where() + " (" +
                                   std::to_string(delivered) + " of " + std::to_string(count) +
                                   " delivered)",
                               RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl));
    }
  }
  if (st.delivery_failed) throw abort_with(delivery_error());
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// ---------------------------------------------------------------------------------------
// Group offsets

// True when the cluster is librdkafka's mock cluster (the embedded broker).
bool is_mock_cluster(rd_kafka_t* rk, const Deadline& dl) {
  char* id = rd_kafka_clusterid(rk, std::max(1, dl.remaining_ms()));
  if (!id) return false;
  bool mock = std::string_view(id).starts_with("mockCluster");
  rd_kafka_mem_free(rk, id);
  return mock;
}

// The topics `group` has committed offsets for, from the group coordinator
// (OffsetFetch for all topics).
std::vector<std::string> group_topics(rd_kafka_t* rk, const std::string& brokers,
                                      const std::string& group, ClientState& st,
                                      const Deadline& dl) {
  auto hint = [&](const std::string& why, rd_kafka_resp_err_t err) {
    return KafkaError("cannot list the topics group '" + group + "' has offsets for at " +
                          brokers + ": " + why +
                          " (pass the topic(s) explicitly: `samsa offsets --topic NAME`, or "
                          "the `topics` argument of admin::group_offsets; librdkafka 2.0.2's "
                          "embedded broker cannot list a group's offsets)",
                      static_cast<int>(err), is_unreachable(err));
  };
  ListGroupOffsetsPtr request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr));
  AdminOptionsPtr options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  char errstr[512];
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), std::max(1, dl.remaining_ms()),
                                                errstr, sizeof errstr))
    throw hint(errstr, RD_KAFKA_RESP_ERR__INVALID_ARG);
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_ListConsumerGroupOffsets(rk, requests, 1, options.get(), queue.get());
  kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), dl.remaining_ms() + 2000));
  if (!ev)
    throw failure("cannot list the offsets of group '" + group + "'",
                  RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl);
  if (auto err = rd_kafka_event_error(ev.get())) {
    if (is_unreachable(err))
      throw failure("cannot list the offsets of group '" + group + "'", err, brokers, st, dl);
    throw hint(std::string(rd_kafka_err2name(err)) + " (" +
                   rd_kafka_event_error_string(ev.get()) + ")",
               err);
  }
  const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev.get());
  if (!result) throw hint("unexpected answer", RD_KAFKA_RESP_ERR__FAIL);
  size_t group_cnt = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(result, &group_cnt);
  std::set<std::string> topics;
  for (size_t g = 0; g < group_cnt; ++g) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[g]))
      throw hint(std::string(rd_kafka_error_name(e)) + " (" + rd_kafka_error_string(e) + ")",
                 rd_kafka_error_code(e));
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[g]);
    if (!parts) continue;
    for (int i = 0; i < parts->cnt; ++i) topics.insert(parts->elems[i].topic);
  }
  // librdkafka 2.0.2's mock cluster answers an OffsetFetch for all topics with none at all,
  // which would read as "no offsets". Tell the caller instead (its cluster id gives it away).
  if (topics.empty() && is_mock_cluster(rk, dl))
    throw hint("the embedded broker answers every such request with an empty list",
               RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE);
  return {topics.begin(), topics.end()};
}

// Fills `list` with the group's committed offsets (OffsetFetch to the group coordinator),
// retrying while the coordinator is moving or loading (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, ...), which rd_kafka_committed reports rather than retries.
void read_committed(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* list,
                    const std::string& brokers, const std::string& group, ClientState& st,
                    const Deadline& dl) {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, dl.remaining_ms());
    const rd_kafka_topic_partition_t* bad = nullptr;
    if (!err)
      for (int i = 0; i < list->cnt && !bad; ++i)
        if (list->elems[i].err) bad = &list->elems[i];
    rd_kafka_resp_err_t e = err ? err : bad ? bad->err : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!e) return;
    if (kafka::is_retriable_commit_error(e) && dl.remaining_ms() > backoff.count()) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (err)
      throw failure("cannot read the committed offsets of group '" + group + "'", err, brokers,
                    st, dl);
    throw kafka::error("cannot read the committed offset of group '" + group + "' on " +
                           bad->topic + "/" + std::to_string(bad->partition),
                       bad->err);
  }
}

KafkaPtr make_group_client(const std::string& brokers, const std::string& group,
                           ClientState& st) {
  if (group.empty())
    throw KafkaError("no consumer group given", RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  // Never subscribes: it only asks the group coordinator for the committed offsets, so it
  // does not join the group and cannot disturb its members.
  return make_client(brokers, st,
                     {{"group.id", group},
                      {"enable.auto.commit", "false"},
                      {"enable.auto.offset.store", "false"},
                      {"allow.auto.create.topics", "false"}},
                     RD_KAFKA_CONSUMER);
}

}  // namespace

// ---------------------------------------------------------------------------------------

void create_topics(const std::string& brokers, const std::vector<TopicSpec>& topics,
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
  ClientState st;
  KafkaPtr rk = make_client(brokers, st, {{"allow.auto.create.topics", "false"}});

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
      auto_create(brokers, *spec, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, embedded, dl);
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

  for (const auto& [spec, err] : fallback) auto_create(brokers, *spec, err, embedded, dl);
  // Return when the new topics are usable: metadata reaches the brokers a moment later.
  for (const TopicSpec* spec : created)
    wait_for_topic([&] { return describe_topic(rk.get(), spec->name, brokers, st, dl); },
                   spec->partitions, dl);
}

int partition_count(const std::string& brokers, const std::string& topic,
                    std::chrono::milliseconds timeout) {
  if (topic.empty())
    throw KafkaError("cannot look up a topic with an empty name",
                     RD_KAFKA_RESP_ERR__INVALID_ARG, false);
  Deadline dl(timeout);
  ClientState st;
  KafkaPtr rk = make_client(brokers, st, {{"allow.auto.create.topics", "false"}});
  return describe_topic(rk.get(), topic, brokers, st, dl).partitions;
}

void produce(const std::string& brokers, const std::string& topic,
             const std::vector<Record>& records, std::chrono::milliseconds timeout) {
  produce_stream(brokers, topic, static_cast<std::int64_t>(records.size()), timeout,
                 [&](std::int64_t i, std::string& key, bool& has_key, std::string& value,
                     std::int32_t& partition) {
                   const Record& r = records[static_cast<size_t>(i)];
                   if (r.key) {
                     key = *r.key;
                     has_key = true;
                   }
                   value = r.value;
                   partition = r.partition;
                 });
}

void produce_events(const std::string& brokers, const std::string& topic, std::int64_t first,
                    std::int64_t count, int partitions, std::size_t payload_bytes,
                    std::chrono::milliseconds timeout) {
  const std::string pad(payload_bytes, 'x');
  produce_stream(brokers, topic, count, timeout,
                 [&](std::int64_t i, std::string& key, bool& has_key, std::string& value,
                     std::int32_t& partition) {
                   const std::int64_t id = first + i;
                   append_int(key, id);
                   has_key = true;
                   const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count();
                   value += "{\"id\":";
                   append_int(value, id);
                   value += ",\"created_at_ms\":";
                   append_int(value, now_ms);
                   if (payload_bytes > 0) {
                     value += ",\"pad\":\"";
                     value += pad;
                     value += '"';
                   }
                   value += '}';
                   if (partitions > 0) {
                     std::int64_t p = id % partitions;
                     partition = static_cast<std::int32_t>(p < 0 ? p + partitions : p);
                   }
                 });
}

std::vector<PartitionOffsets> group_offsets(const std::string& brokers, const std::string& group,
                                            const std::vector<std::string>& topics,
                                            std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  ClientState st;
  KafkaPtr rk = make_group_client(brokers, group, st);

  const bool discovered = topics.empty();
  std::vector<std::string> names =
      discovered ? group_topics(rk.get(), brokers, group, st, dl) : topics;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  kafka::ListPtr list = kafka::make_list();
  const TopicMap all = describe_all_topics(rk.get(), brokers, st, dl);
  for (const auto& name : names) {
    auto found = all.find(name);
    TopicInfo info = found == all.end() ? TopicInfo{} : found->second;
    if (!info.exists) {
      if (discovered) continue;  // offsets left behind by a deleted topic
      throw KafkaError("topic '" + name + "' does not exist at " + brokers,
                       RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, false);
    }
    for (int p = 0; p < info.partitions; ++p)
      rd_kafka_topic_partition_list_add(list.get(), name.c_str(), p);
  }
  std::vector<PartitionOffsets> out;
  if (list->cnt == 0) return out;

  read_committed(rk.get(), list.get(), brokers, group, st, dl);
  out.reserve(static_cast<size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    PartitionOffsets po;
    po.topic = tp.topic;
    po.partition = tp.partition;
    po.committed = tp.offset >= 0 ? tp.offset : -1;
    po.metadata = kafka::metadata_of(tp);
    std::int64_t low = 0, high = 0;
    if (auto err = rd_kafka_query_watermark_offsets(rk.get(), tp.topic, tp.partition, &low,
                                                    &high, dl.remaining_ms()))
      throw failure("cannot read the end offset of " + po.topic + "/" +
                        std::to_string(po.partition),
                    err, brokers, st, dl);
    po.end = high;
    po.lag = po.committed >= 0 ? high - po.committed : high - low;
    out.push_back(std::move(po));
  }
  std::sort(out.begin(), out.end(), [](const PartitionOffsets& a, const PartitionOffsets& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return out;
}

std::int64_t committed_offset(const std::string& brokers, const std::string& group,
                              const std::string& topic, std::int32_t partition,
                              std::chrono::milliseconds timeout) {
  Deadline dl(timeout);
  ClientState st;
  KafkaPtr rk = make_group_client(brokers, group, st);
  kafka::ListPtr list = kafka::make_list(1);
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  read_committed(rk.get(), list.get(), brokers, group, st, dl);
  const auto& tp = list->elems[0];
  return tp.offset >= 0 ? tp.offset : -1;
}

}  // namespace samsa::admin
