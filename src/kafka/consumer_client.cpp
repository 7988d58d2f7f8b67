#include "kafka/consumer_client.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/fmt/fmt.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <tuple>

#include "kafka/connection_log.hpp"
#include "kafka/handle.hpp"
#include "kafka/library_version.hpp"
#include "log_text.hpp"

namespace samsa::kafka {
namespace {

std::string value_of(const std::map<std::string, std::string>& props, const std::string& key) {
  const auto it = props.find(key);
  return it == props.end() ? std::string() : it->second;
}

std::vector<TopicPartitionOffset> to_parts(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  out.reserve(list ? static_cast<std::size_t>(list->cnt) : 0);
  for (int i = 0; list && i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  return out;
}

ListPtr to_list(const std::vector<TopicPartitionOffset>& parts) {
  auto list = make_list(static_cast<int>(parts.size()));
  for (const auto& p : parts) rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  return list;
}

ListPtr one(const std::string& topic, std::int32_t partition, std::int64_t offset = RD_KAFKA_OFFSET_INVALID) {
  auto list = make_list(1);
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  return list;
}

/// Takes ownership of `error`.
Status from_error(rd_kafka_error_t* error) {
  if (!error) return {};
  Status out = status(rd_kafka_error_code(error)).with_text(rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  return out;
}

CommitAnswer to_answer(rd_kafka_resp_err_t request_err, const rd_kafka_topic_partition_list_t* list) {
  CommitAnswer a;
  a.answered = true;
  a.request = status(request_err);
  for (int i = 0; list && i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    a.offsets.push_back({e.topic, e.partition, e.offset, std::string(metadata_of(e)), status(e.err)});
  }
  return a;
}

class RdKafkaConsumerClient final : public ConsumerClient {
 public:
  RdKafkaConsumerClient(const std::map<std::string, std::string>& props, GroupDescriber describer)
      : redactor_(props),
        props_(props),
        group_id_(value_of(props, "group.id")),
        consumer_protocol_(value_of(props, "group.protocol") == "consumer"),
        describer_(std::move(describer)) {
    // librdkafka's own messages may quote a property's value (a bad sasl.oauthbearer.config
    // is quoted in its token error): every text handed to the events is redacted.
    auto conf = make_conf(props);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &RdKafkaConsumerClient::rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf.get(), &RdKafkaConsumerClient::commit_cb);
    rd_kafka_conf_set_error_cb(conf.get(), &RdKafkaConsumerClient::error_cb);
    rd_kafka_conf_set_log_cb(conf.get(), &RdKafkaConsumerClient::log_cb);
    rd_kafka_conf_set_stats_cb(conf.get(), &RdKafkaConsumerClient::stats_cb);
    rk_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
    char interval[32];
    size_t size = sizeof interval;
    if (rd_kafka_conf_get(rd_kafka_conf(rk_.get()), "max.poll.interval.ms", interval, &size) == RD_KAFKA_CONF_OK)
      max_poll_interval_ = std::chrono::milliseconds(std::atol(interval));
    // One queue for messages, rebalances, commit answers and errors: all served by poll.
    rd_kafka_poll_set_consumer(rk_.get());
    consumer_queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  }

  ~RdKafkaConsumerClient() override {
    admin_client_.reset();
    consumer_queue_.reset();
    rk_.reset();
  }

  void set_events(ClientEvents* events) override {
    std::lock_guard lock(early_mu_);
    events_.store(events, std::memory_order_release);
    for (const auto& [level, facility, text] : early_logs_)
      if (events->logs(level)) events->on_log(level, facility, redactor_.redact(text));
    early_logs_.clear();
  }

  Status subscribe(const std::vector<std::string>& topics) override {
    auto list = make_list(static_cast<int>(topics.size()));
    for (const auto& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    return status(rd_kafka_subscribe(rk_.get(), list.get()));
  }

  Fetched poll(std::chrono::milliseconds timeout) override {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), to_ms(timeout));
    if (!m) return {};
    return take(m);
  }

  std::size_t drain(std::size_t max, std::vector<Fetched>& out) override {
    // librdkafka before 2.1.0 could skip offsets around a pause or resume in its batch API
    // (2.1.0's CHANGELOG): one message at a time there.
    if (!batches_) return ConsumerClient::drain(max, out);
    if (max == 0) return 0;
    if (batch_.size() < max) batch_.resize(max);
    // Timeout 0: what is queued, never a wait for the batch to fill. Served in order, with
    // the callbacks; a version barrier (revocation, seek, pause) met inside the call
    // removes the messages it outdates from the batch before they are returned.
    const ssize_t got = rd_kafka_consume_batch_queue(consumer_queue_.get(), 0, batch_.data(), max);
    std::size_t n = 0;
    for (ssize_t i = 0; i < got; ++i)
      if (Fetched m = take(batch_[static_cast<std::size_t>(i)])) {
        out.push_back(std::move(m));
        ++n;
      }
    return n;
  }

  /// A message librdkafka handed out: a Fetched, or (an error instead of a message)
  /// reported and released, and nothing.
  Fetched take(rd_kafka_message_t* m) {
    if (!m->err) return fetched(m);
    // An error instead of a message is reported, and the poll returns nothing.
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && events()) {
      const std::string topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
      const Status s = status(m->err);
      events()->on_consumer_error(
          Status(s.code(), s.name(), redactor_.redact(rd_kafka_message_errstr(m)), false, false, s.number()), topic);
    }
    rd_kafka_message_destroy(m);
    return {};
  }

  void wake() override { rd_kafka_queue_yield(consumer_queue_.get()); }

  bool incremental() const override { return incremental_; }

  Status assign(const std::vector<TopicPartitionOffset>& parts) override {
    ListPtr made;
    rd_kafka_topic_partition_list_t* list = list_for(parts, made);
    if (incremental_) return from_error(rd_kafka_incremental_assign(rk_.get(), list));
    return status(rd_kafka_assign(rk_.get(), list));
  }

  Status unassign(const std::vector<TopicPartitionOffset>& parts) override {
    if (!incremental_) return status(rd_kafka_assign(rk_.get(), nullptr));
    ListPtr made;
    return from_error(rd_kafka_incremental_unassign(rk_.get(), list_for(parts, made)));
  }

  Status pause(const std::string& topic, std::int32_t partition) override {
    auto list = one(topic, partition);
    auto err = rd_kafka_pause_partitions(rk_.get(), list.get());
    return status(err ? err : list->elems[0].err);
  }

  Status resume(const std::string& topic, std::int32_t partition) override {
    auto list = one(topic, partition);
    auto err = rd_kafka_resume_partitions(rk_.get(), list.get());
    return status(err ? err : list->elems[0].err);
  }

  Status seek(const std::string& topic, std::int32_t partition, std::int64_t offset,
              std::chrono::milliseconds timeout) override {
    auto list = one(topic, partition, offset);
    if (rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_.get(), list.get(), to_ms(timeout)))
      return from_error(error);
    return status(list->elems[0].err);
  }

  Status watermarks(const std::string& topic, std::int32_t partition, std::chrono::milliseconds timeout,
                    std::int64_t& low, std::int64_t& high) override {
    return status(rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition, &low, &high, to_ms(timeout)));
  }

  Status offset_for_time(const std::string& topic, std::int32_t partition, std::int64_t timestamp_ms,
                         std::chrono::milliseconds timeout, std::int64_t& offset) override {
    auto list = one(topic, partition, timestamp_ms);
    if (auto err = rd_kafka_offsets_for_times(rk_.get(), list.get(), to_ms(timeout))) return status(err);
    if (list->elems[0].err) return status(list->elems[0].err);
    offset = list->elems[0].offset;
    if (offset >= 0) return {};
    // No message that late: the log end.
    std::int64_t low = 0;
    return watermarks(topic, partition, timeout, low, offset);
  }

  Status store(const std::string& topic, std::int32_t partition, std::int64_t offset,
               const std::string& metadata) override {
    auto list = make_list(1);
    add_offset(list.get(), topic, partition, offset, metadata);
    auto err = rd_kafka_offsets_store(rk_.get(), list.get());
    return status(err ? err : list->elems[0].err);
  }

  CommitAnswer commit(const std::vector<CommitOffset>& offsets, std::chrono::milliseconds timeout) override {
    auto list = make_list(static_cast<int>(offsets.size()));
    for (const auto& o : offsets) add_offset(list.get(), o.topic, o.partition, o.offset, o.metadata);
    // On a queue of its own, so that the wait is bounded by `timeout` (a plain synchronous
    // rd_kafka_commit can block far longer while no coordinator answers).
    QueuePtr queue(rd_kafka_queue_new(rk_.get()));
    // The answer comes back on that queue only. Without a callback of the commit's own,
    // librdkafka also hands it to the global offset_commit_cb, served by a later poll (and
    // reported a second time). This callback is never called: the queue is served with the
    // event API, which ignores it.
    auto only_on_the_queue = [](rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*, void*) {};
    CommitAnswer a;
    if (auto err = rd_kafka_commit_queue(rk_.get(), list.get(), queue.get(), only_on_the_queue, nullptr)) {
      a = to_answer(err, nullptr);
      a.answered = false;
      return a;
    }
    EventPtr event(rd_kafka_queue_poll(queue.get(), to_ms(timeout)));
    if (!event) {
      // Unconfirmed (a late answer is dropped with the queue).
      a.request = status(RD_KAFKA_RESP_ERR__TIMED_OUT);
      return a;
    }
    return to_answer(rd_kafka_event_error(event.get()), rd_kafka_event_topic_partition_list(event.get()));
  }

  Status commit_async() override { return status(rd_kafka_commit(rk_.get(), nullptr, 1)); }

  Status committed_metadata(const std::string& topic, std::int32_t partition, std::chrono::milliseconds timeout,
                            std::string& metadata) override {
    auto list = one(topic, partition);
    auto err = rd_kafka_committed(rk_.get(), list.get(), to_ms(timeout));
    if (!err) err = list->elems[0].err;
    if (!err) metadata = std::string(metadata_of(list->elems[0]));
    return status(err);
  }

  Status committed_offsets(const std::vector<TopicPartition>& parts,
                           std::chrono::milliseconds timeout, std::vector<std::int64_t>& offsets) override {
    auto list = make_list(static_cast<int>(parts.size()));
    for (const auto& [topic, partition] : parts) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
    const auto err = rd_kafka_committed(rk_.get(), list.get(), to_ms(timeout));
    if (err) return status(err);
    offsets.assign(parts.size(), -1);
    for (int i = 0; i < list->cnt; ++i)
      if (!list->elems[i].err && list->elems[i].offset >= 0) offsets[static_cast<std::size_t>(i)] = list->elems[i].offset;
    return {};
  }

  GroupMetadata group_metadata() override {
    return GroupMetadata(rd_kafka_consumer_group_metadata(rk_.get()), &rd_kafka_consumer_group_metadata_destroy);
  }

  admin::GroupDescription describe_group(std::chrono::milliseconds timeout) override {
    std::lock_guard lock(describer_mu_);
    try {
      // A client of its own, made at the first call and kept: an admin request must never
      // disturb the consumer's connections (librdkafka 2.0.2's embedded broker drops a
      // connection on a request it does not know, and the group's JoinGroup with it).
      // The same properties, so the same brokers, TLS and SASL; consumer-only ones are
      // ignored by it (librdkafka's warnings go to its first_log_error, unread).
      if (!admin_client_) admin_client_ = make_admin_client(props_, AdminUse::cluster);
      return describer_(*admin_client_, value_of(props_, "bootstrap.servers"), group_id_, timeout);
    } catch (const std::exception& e) {
      admin::GroupDescription d;
      d.reason = redactor_.redact(e.what());
      return d;
    }
  }

  bool assignment_lost() override { return rd_kafka_assignment_lost(rk_.get()); }

  std::optional<std::int32_t> member_epoch() override {
#if RD_KAFKA_VERSION >= 0x020c0000
    if (!consumer_protocol_) return std::nullopt;
    // NULL before the member has an id (not joined yet).
    rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata(rk_.get());
    if (!md) return std::nullopt;
    const std::int32_t epoch = rd_kafka_consumer_group_metadata_generation_id(md);
    rd_kafka_consumer_group_metadata_destroy(md);
    return epoch;
#else
    return std::nullopt;  // no KIP-848 before 2.12 (and no getter of the epoch in 2.0.2)
#endif
  }

  std::optional<bool> topic_exists(const std::string& topic, std::chrono::milliseconds timeout) override {
    TopicPtr rkt(rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr));
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, rkt.get(), &md, to_ms(timeout));
    MetadataPtr owned(md);
    if (err || !md || md->topic_cnt != 1) return std::nullopt;
    if (md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    if (md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return false;
    return std::nullopt;
  }

  Status close() override { return status(rd_kafka_consumer_close(rk_.get())); }

  std::chrono::milliseconds max_poll_interval() const override { return max_poll_interval_; }
  bool stores_offset_metadata() const override { return kafka::stores_offset_metadata(); }
  std::string version() const override { return std::string("librdkafka ") + rd_kafka_version_str(); }

 private:
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    auto* self = static_cast<RdKafkaConsumerClient*>(opaque);
    // Incremental (cooperative-sticky, and always under KIP-848) or eager: librdkafka knows
    // which protocol the group agreed on; a setting could be wrong (a KIP-848 member that
    // is told to assign eagerly has its rd_kafka_assign refused and stalls).
    const char* protocol = rd_kafka_rebalance_protocol(rk);
    self->incremental_ = protocol && std::string_view(protocol) == "COOPERATIVE";
    const auto list = to_parts(parts);
    // assign()/unassign() inside the handler hand librdkafka back its own list when the
    // handler passes what it was given (leader epochs and the rest kept).
    self->rebalance_list_ = parts;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
      self->events()->on_assigned(list);
    else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
      self->events()->on_revoked(list, rd_kafka_assignment_lost(rk));
    else
      self->events()->on_rebalance_error(status(err), list);
    self->rebalance_list_ = nullptr;
  }

  /// The list to hand librdkafka for `parts`: the rebalance callback's own when they are
  /// its elements, else a new one in `made`.
  rd_kafka_topic_partition_list_t* list_for(const std::vector<TopicPartitionOffset>& parts, ListPtr& made) {
    const rd_kafka_topic_partition_list_t* given = rebalance_list_;
    bool same = given && given->cnt == static_cast<int>(parts.size());
    bool same_offsets = same;
    for (int i = 0; same && i < given->cnt; ++i) {
      const TopicPartitionOffset& part = parts[static_cast<std::size_t>(i)];
      same = part.topic == given->elems[i].topic && part.partition == given->elems[i].partition;
      same_offsets = same_offsets && part.offset == given->elems[i].offset;
    }
    if (same && same_offsets) return rebalance_list_;
    if (same) {
      // The same partitions at other offsets (an offset store's): a copy keeps the rest.
      made.reset(rd_kafka_topic_partition_list_copy(given));
      for (int i = 0; i < made->cnt; ++i) made->elems[i].offset = parts[static_cast<std::size_t>(i)].offset;
      return made.get();
    }
    made = to_list(parts);
    return made.get();
  }

  static void commit_cb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque) {
    auto* self = static_cast<RdKafkaConsumerClient*>(opaque);
    if (ClientEvents* events = self->events()) events->on_commit(to_answer(err, offsets));
  }

  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<RdKafkaConsumerClient*>(opaque);
    ClientEvents* events = self->events();
    if (!events) return;
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      const auto fatal = rd_kafka_fatal_error(rk, buf, sizeof buf);
      events->on_error(Status(Status::Code::fatal, rd_kafka_err2name(fatal), self->redactor_.redact(buf), false,
                              false, static_cast<int>(fatal)));
      return;
    }
    events->on_error(status(code).with_text(self->redactor_.redact(reason)));
  }

  static int stats_cb(rd_kafka_t*, char* json, size_t len, void* opaque) {
    auto* self = static_cast<RdKafkaConsumerClient*>(opaque);
    if (ClientEvents* events = self->events()) events->on_statistics(std::string(json, len));
    return 0;  // librdkafka frees the document
  }

  static void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    auto* self = static_cast<RdKafkaConsumerClient*>(rd_kafka_opaque(rk));
    if (!self) return;
    const LogLevel l = log_level(level);
    if (is_error_callback_log_line(fac, l)) return;  // error_cb has the same text
    ClientEvents* events = self->events();
    if (!events) {
      // While the client is built (rd_kafka_new logs its configuration warnings), before
      // set_events: kept, and handed over by set_events.
      std::lock_guard lock(self->early_mu_);
      events = self->events();
      if (!events) {
        if (self->early_logs_.size() < 1000) self->early_logs_.emplace_back(l, fac, buf);
        return;
      }
    }
    if (events->logs(l)) events->on_log(l, fac, self->redactor_.redact(buf));
  }

  ClientEvents* events() const { return events_.load(std::memory_order_acquire); }

  SecretRedactor redactor_;
  const std::map<std::string, std::string> props_;
  const std::string group_id_;
  const bool consumer_protocol_;  // KIP-848: the member has an epoch
  KafkaPtr rk_;
  QueuePtr consumer_queue_;
  std::atomic<ClientEvents*> events_{nullptr};  // read by librdkafka's threads (log_cb)
  std::mutex early_mu_;
  std::vector<std::tuple<LogLevel, std::string, std::string>> early_logs_;  // before set_events
  // describe_group's procedure and its own client (null until the first call).
  const GroupDescriber describer_;
  std::mutex describer_mu_;
  std::unique_ptr<AdminClient> admin_client_;
  bool incremental_ = false;  // listener thread (rebalance callbacks)
  rd_kafka_topic_partition_list_t* rebalance_list_ = nullptr;  // during a rebalance callback
  std::chrono::milliseconds max_poll_interval_{300000};
  // drain() takes batches (librdkafka >= 2.1.0); batch_ is its buffer, listener thread only.
  const bool batches_ = rd_kafka_version() >= 0x02010000;
  std::vector<rd_kafka_message_t*> batch_;
};

}  // namespace

namespace {

// The librdkafka properties of a group's consumer: the user's, and Samsa's own.
std::map<std::string, std::string> consumer_properties(const Settings& settings, const ConsumerGroupRoute& group,
                                                       const std::string& brokers, std::size_t groups) {
  const TopicSettings gs = effective(settings, group);
  auto props = effective_kafka(settings, group);
  if (!brokers.empty()) props["bootstrap.servers"] = brokers;
  throw_if_problems(
      protocol_problems(gs.group_protocol, props, rd_kafka_version(), "consumer group '" + group.name() + "': "));
  props["group.id"] = group.name();
  props.emplace("client.id", settings.client_id);
  // Samsa owns the stored offsets (marking); librdkafka's auto-commit commits them.
  props["enable.auto.offset.store"] = "false";
  if (group.transactional()) {
    // Its offsets are committed by its transactions only (a plain commit of the same
    // partitions would race them in __consumer_offsets), and a new owner must read the
    // committed offset only once a previous owner's open transaction ended: librdkafka asks
    // for stable offsets (KIP-447) only with read_committed.
    const std::string gw = "consumer group '" + group.name() + "' is transactional: ";
    if (const auto it = props.find("isolation.level"); it != props.end() && it->second != "read_committed")
      throw SettingsError(gw + "kafka isolation.level=" + it->second +
                          " cannot be; it reads read_committed (remove the setting)");
    if (const auto it = props.find("enable.auto.commit"); it != props.end() && it->second != "false")
      throw SettingsError(gw + "kafka enable.auto.commit=" + it->second +
                          " cannot be; its transactions commit its offsets (remove the setting)");
    props["isolation.level"] = "read_committed";
    props["enable.auto.commit"] = "false";
  }
  props.emplace("enable.auto.commit", "true");
  props["auto.offset.reset"] = std::string(to_string(gs.initial_offset));
  if (gs.group_protocol == GroupProtocol::consumer) {
    // KIP-848: the broker assigns and every rebalance is incremental; the classic-only
    // properties are refused by librdkafka (checked above with a clearer message).
    props["group.protocol"] = "consumer";
  } else {
    props["partition.assignment.strategy"] =
        settings.rebalance_protocol == "cooperative-sticky" ? "cooperative-sticky" : "range,roundrobin";
  }
  props["enable.partition.eof"] = "false";
  add_fetch_queue_defaults(props, rd_kafka_version(), buffer_share(settings, groups).librdkafka);
  return props;
}

}  // namespace

std::unique_ptr<ConsumerClient> make_consumer_client(const Settings& settings, const ConsumerGroupRoute& group,
                                                     const std::string& brokers, GroupDescriber describer,
                                                     std::size_t groups) {
  auto props = consumer_properties(settings, group, brokers, groups);
  require_bootstrap_servers(props);
  return std::make_unique<RdKafkaConsumerClient>(props, std::move(describer));
}

void check_consumer_client(const Settings& settings, const ConsumerGroupRoute& group) {
  check_client_properties(RD_KAFKA_CONSUMER, consumer_properties(settings, group, {}, 1),
                          "consumer group '" + group.name() + "': ");
}

}  // namespace samsa::kafka
