#include "kafka/admin_client.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>

#include "kafka/handle.hpp"

namespace samsa::kafka {
namespace {

// librdkafka may hand back null for a text (a member's client id or host before its first
// heartbeat answer, an error string it did not set): an empty text, not a crash.
std::string text_of(const char* s) { return s ? s : ""; }

Status unexpected_answer() {
  return Status(Status::Code::unexpected_answer, rd_kafka_err2name(RD_KAFKA_RESP_ERR__FAIL), "unexpected answer",
                Status::Traits{}, RD_KAFKA_RESP_ERR__FAIL);
}

// The error of an admin request's answer, with librdkafka's sentence about it.
Status event_status(rd_kafka_event_t* ev) {
  return status(rd_kafka_event_error(ev)).with_detail(text_of(rd_kafka_event_error_string(ev)));
}

Status error_status(const rd_kafka_error_t* e) {
  return e ? status(rd_kafka_error_code(e)).with_detail(text_of(rd_kafka_error_string(e))) : Status();
}

// The smallest replica count of the topic's partitions: a partition being reassigned may
// list more for a while, one with fewer is what the topic can lose.
int replication_factor(const rd_kafka_metadata_topic_t& t) {
  int smallest = 0;
  for (int i = 0; i < t.partition_cnt; ++i)
    if (int n = t.partitions[i].replica_cnt; i == 0 || n < smallest) smallest = n;
  return smallest;
}

std::vector<TopicMetadata> topics_of(const rd_kafka_metadata_t& md) {
  std::vector<TopicMetadata> out;
  out.reserve(static_cast<std::size_t>(md.topic_cnt));
  for (int i = 0; i < md.topic_cnt; ++i) {
    const auto& t = md.topics[i];
    out.push_back({text_of(t.topic), status(t.err), t.partition_cnt, replication_factor(t)});
  }
  return out;
}

std::vector<CommitOffset> offsets_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<CommitOffset> out;
  for (int i = 0; list && i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    out.push_back({text_of(e.topic), e.partition, e.offset, std::string(metadata_of(e)), status(e.err)});
  }
  return out;
}

ListPtr list_of(const std::vector<CommitOffset>& offsets) {
  auto list = make_list(static_cast<int>(offsets.size()));
  for (const auto& o : offsets) add_offset(list.get(), o.topic, o.partition, o.offset, o.metadata);
  return list;
}

std::vector<GroupMember> members_of(const rd_kafka_ConsumerGroupDescription_t* desc) {
  std::vector<GroupMember> out;
  const size_t n = rd_kafka_ConsumerGroupDescription_member_count(desc);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(desc, i);
    if (!m) continue;
    GroupMember member;
    member.member_id = text_of(rd_kafka_MemberDescription_consumer_id(m));
    member.client_id = text_of(rd_kafka_MemberDescription_client_id(m));
    member.host = text_of(rd_kafka_MemberDescription_host(m));
    if (const rd_kafka_MemberAssignment_t* a = rd_kafka_MemberDescription_assignment(m))
      if (const rd_kafka_topic_partition_list_t* parts = rd_kafka_MemberAssignment_partitions(a))
        for (int j = 0; j < parts->cnt; ++j)
          member.assignment.push_back({text_of(parts->elems[j].topic), parts->elems[j].partition});
    std::sort(member.assignment.begin(), member.assignment.end());
    out.push_back(std::move(member));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.member_id < b.member_id; });
  return out;
}

class RdKafkaAdminClient final : public AdminClient {
 public:
  RdKafkaAdminClient(const std::map<std::string, std::string>& properties, AdminUse use) {
    auto conf = make_conf(properties);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_log_cb(conf.get(), &RdKafkaAdminClient::log_cb);
    if (use == AdminUse::produce) rd_kafka_conf_set_dr_msg_cb(conf.get(), &RdKafkaAdminClient::delivery_cb);
    const bool consumer = use == AdminUse::group || use == AdminUse::read;
    rk_ = make_client(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, std::move(conf));
    // A reader's messages come to one queue, read() polls it.
    if (use == AdminUse::read) rd_kafka_poll_set_consumer(rk_.get());
  }

  ~RdKafkaAdminClient() override {
    topics_.clear();
    rk_.reset();
  }

  std::string first_log_error() const override {
    std::lock_guard lock(mu_);
    return first_log_error_;
  }

  Status security_failure() const override {
    std::lock_guard lock(mu_);
    return security_failure_;
  }

  Status all_topics(milliseconds timeout, std::vector<TopicMetadata>& out) override {
    return metadata(nullptr, timeout, out);
  }

  Status topic(const std::string& topic, milliseconds timeout, std::vector<TopicMetadata>& out) override {
    rd_kafka_topic_t* rkt = handle(topic);
    if (!rkt) return not_sent(rd_kafka_last_error());
    return metadata(rkt, timeout, out);
  }

  bool is_mock_cluster(milliseconds timeout) override {
    char* id = rd_kafka_clusterid(rk_.get(), std::max(1, to_ms(timeout)));
    if (!id) return false;
    const bool mock = std::string_view(id).starts_with("mockCluster");
    rd_kafka_mem_free(rk_.get(), id);
    return mock;
  }

  int controller_id(milliseconds timeout) override {
    return rd_kafka_controllerid(rk_.get(), std::max(1, to_ms(timeout)));
  }

  Status create_topics(const std::vector<admin::TopicSpec>& topics, milliseconds timeout,
                       std::vector<CreatedTopic>& out) override {
    std::vector<NewTopicPtr> owned;
    std::vector<rd_kafka_NewTopic_t*> new_topics;
    char errstr[512];
    for (const auto& t : topics) {
      NewTopicPtr nt(
          rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, errstr, sizeof errstr));
      if (!nt)
        throw KafkaError("cannot create topic '" + t.name + "': " + errstr, RD_KAFKA_RESP_ERR__INVALID_ARG, false);
      for (const auto& [key, value] : t.configs)
        if (auto err = rd_kafka_NewTopic_set_config(nt.get(), key.c_str(), value.c_str()))
          throw KafkaError("cannot create topic '" + t.name + "' with config " + key + "=" + value + ": " +
                               rd_kafka_err2str(err),
                           static_cast<int>(err), false);
      new_topics.push_back(nt.get());
      owned.push_back(std::move(nt));
    }
    const int budget = std::max(1, to_ms(timeout));
    AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
    if (rd_kafka_AdminOptions_set_request_timeout(options.get(), budget, errstr, sizeof errstr) ||
        rd_kafka_AdminOptions_set_operation_timeout(options.get(), budget, errstr, sizeof errstr))
      return not_sent(RD_KAFKA_RESP_ERR__INVALID_ARG, errstr);
    QueuePtr queue(rd_kafka_queue_new(rk_.get()));
    rd_kafka_CreateTopics(rk_.get(), new_topics.data(), new_topics.size(), options.get(), queue.get());
    EventPtr ev;
    if (const Status err = await_result(queue.get(), timeout, ev)) return err;
    const auto* result = rd_kafka_event_CreateTopics_result(ev.get());
    size_t cnt = 0;
    const rd_kafka_topic_result_t** results = result ? rd_kafka_CreateTopics_result_topics(result, &cnt) : nullptr;
    out.clear();
    for (size_t i = 0; i < cnt; ++i)
      out.push_back({text_of(rd_kafka_topic_result_name(results[i])),
                     status(rd_kafka_topic_result_error(results[i]))
                         .with_detail(text_of(rd_kafka_topic_result_error_string(results[i])))});
    return {};
  }

  Status describe_configs(const std::vector<admin::TopicSpec>& topics, milliseconds timeout,
                          std::vector<TopicConfigs>& out) override {
    std::vector<ConfigResourcePtr> owned;
    std::vector<rd_kafka_ConfigResource_t*> resources;
    for (const auto& t : topics) {
      ConfigResourcePtr res(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.name.c_str()));
      // A describe request names the configs it wants; the value is not sent.
      for (const auto& [key, value] : t.configs) rd_kafka_ConfigResource_set_config(res.get(), key.c_str(), nullptr);
      resources.push_back(res.get());
      owned.push_back(std::move(res));
    }
    Status refused;
    AdminOptionsPtr options = options_for(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout, refused);
    if (!options) return refused;
    QueuePtr queue(rd_kafka_queue_new(rk_.get()));
    rd_kafka_DescribeConfigs(rk_.get(), resources.data(), resources.size(), options.get(), queue.get());
    EventPtr ev;
    if (const Status err = await_result(queue.get(), timeout, ev)) return err;
    size_t cnt = 0;
    const auto* result = rd_kafka_event_DescribeConfigs_result(ev.get());
    const rd_kafka_ConfigResource_t** results = result ? rd_kafka_DescribeConfigs_result_resources(result, &cnt) : nullptr;
    out.clear();
    for (size_t i = 0; i < cnt; ++i) {
      TopicConfigs topic;
      topic.name = text_of(rd_kafka_ConfigResource_name(results[i]));
      topic.status = status(rd_kafka_ConfigResource_error(results[i]))
                         .with_detail(text_of(rd_kafka_ConfigResource_error_string(results[i])));
      if (topic.status.ok()) {
        size_t entry_cnt = 0;
        const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(results[i], &entry_cnt);
        for (size_t j = 0; j < entry_cnt; ++j)
          if (const char* value = rd_kafka_ConfigEntry_value(entries[j]))
            topic.values[rd_kafka_ConfigEntry_name(entries[j])] = value;
      }
      out.push_back(std::move(topic));
    }
    return {};
  }

  Status describe_group(const std::string& group, milliseconds timeout, DescribedGroup& out) override {
    Status refused;
    AdminOptionsPtr options = options_for(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout, refused);
    if (!options) return refused;
    QueuePtr queue(rd_kafka_queue_new(rk_.get()));
    const char* groups[] = {group.c_str()};
    rd_kafka_DescribeConsumerGroups(rk_.get(), groups, 1, options.get(), queue.get());
    EventPtr ev;
    if (const Status err = await_result(queue.get(), timeout, ev)) return err;
    const auto* result = rd_kafka_event_DescribeConsumerGroups_result(ev.get());
    size_t cnt = 0;
    const rd_kafka_ConsumerGroupDescription_t** descs =
        result ? rd_kafka_DescribeConsumerGroups_result_groups(result, &cnt) : nullptr;
    if (cnt != 1 || !descs) return unexpected_answer();
    out.error = error_status(rd_kafka_ConsumerGroupDescription_error(descs[0]));
    if (out.error) return {};
    out.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(descs[0]));
    out.members = members_of(descs[0]);
    return {};
  }

  Status list_group_offsets(const std::string& group, milliseconds timeout, GroupOffsets& out) override {
    ListGroupOffsetsPtr request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr));
    Status refused;
    AdminOptionsPtr options = options_for(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout, refused);
    if (!options) return refused;
    QueuePtr queue(rd_kafka_queue_new(rk_.get()));
    rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
    rd_kafka_ListConsumerGroupOffsets(rk_.get(), requests, 1, options.get(), queue.get());
    EventPtr ev;
    if (const Status err = await_result(queue.get(), timeout, ev)) return err;
    const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev.get());
    if (!result) return unexpected_answer();
    size_t cnt = 0;
    const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &cnt);
    out = group_offsets(groups, cnt);
    return {};
  }

  Status alter_group_offsets(const std::string& group, const std::vector<CommitOffset>& offsets,
                             milliseconds timeout, GroupOffsets& out) override {
    ListPtr list = list_of(offsets);
    AlterGroupOffsetsPtr request(rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get()));
    Status refused;
    AdminOptionsPtr options = options_for(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout, refused);
    if (!options) return refused;
    QueuePtr queue(rd_kafka_queue_new(rk_.get()));
    rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {request.get()};
    rd_kafka_AlterConsumerGroupOffsets(rk_.get(), requests, 1, options.get(), queue.get());
    EventPtr ev;
    if (const Status err = await_result(queue.get(), timeout, ev)) return err;
    const auto* result = rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get());
    size_t cnt = 0;
    const rd_kafka_group_result_t** groups =
        result ? rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &cnt) : nullptr;
    if (cnt != 1) return unexpected_answer();
    out = group_offsets(groups, cnt);
    return {};
  }

  Status committed(std::vector<CommitOffset>& offsets, milliseconds timeout) override {
    auto list = make_list(static_cast<int>(offsets.size()));
    for (const auto& o : offsets) rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition);
    const rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), list.get(), to_ms(timeout));
    if (err) return status(err);
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      auto& o = offsets[static_cast<std::size_t>(i)];
      o.offset = e.offset;
      o.metadata = std::string(metadata_of(e));
      o.status = status(e.err);
    }
    return {};
  }

  Status assign(const std::vector<TopicPartitionOffset>& parts) override {
    auto list = make_list(static_cast<int>(parts.size()));
    for (const auto& p : parts) rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
    return status(rd_kafka_assign(rk_.get(), list.get()));
  }

  Read read(milliseconds timeout) override {
    Read out;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), to_ms(timeout));
    if (!m) return out;
    if (!m->err) {
      out.message = fetched(m);
      return out;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      out.end_of = m->partition;
    else
      out.error = Status(status(m->err).code(), rd_kafka_err2name(m->err), rd_kafka_message_errstr(m),
                         status(m->err).traits(), m->err);
    rd_kafka_message_destroy(m);
    return out;
  }

  Status subscribe(const std::string& topic) override {
    auto list = make_list(1);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    return status(rd_kafka_subscribe(rk_.get(), list.get()));
  }

  std::vector<std::int32_t> assigned() override {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    std::vector<std::int32_t> out;
    if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
    ListPtr list(raw);
    for (int i = 0; i < list->cnt; ++i) out.push_back(list->elems[i].partition);
    std::sort(out.begin(), out.end());
    return out;
  }

  Status store(const std::string& topic, std::int32_t partition, std::int64_t next) override {
    auto list = make_list(1);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = next;
    return status(rd_kafka_offsets_store(rk_.get(), list.get()));
  }

  Status commit_stored(milliseconds) override {
    // Synchronous; librdkafka bounds it by its own request timeouts.
    const rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), nullptr, 0);
    return err == RD_KAFKA_RESP_ERR__NO_OFFSET ? Status{} : status(err);
  }

  Status watermarks(const std::string& topic, std::int32_t partition, milliseconds timeout, std::int64_t& low,
                    std::int64_t& high) override {
    return status(rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition, &low, &high, to_ms(timeout)));
  }

  Status offsets_for_time(std::vector<TimeOffset>& offsets, std::int64_t time_ms, milliseconds timeout) override {
    auto list = make_list(static_cast<int>(offsets.size()));
    for (const auto& o : offsets)
      rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = time_ms;
    if (auto err = rd_kafka_offsets_for_times(rk_.get(), list.get(), to_ms(timeout))) return status(err);
    for (int i = 0; i < list->cnt; ++i) {
      auto& o = offsets[static_cast<std::size_t>(i)];
      o.offset = list->elems[i].offset;
      o.status = status(list->elems[i].err);
    }
    return {};
  }

  Status produce(const std::string& topic, std::int32_t partition, std::optional<std::string_view> key,
                 std::string_view value) override {
    rd_kafka_topic_t* rkt = handle(topic);
    if (!rkt) return not_sent(rd_kafka_last_error());
    // Locals: librdkafka's RD_KAFKA_V_* macros cast their arguments unparenthesised.
    const void* key_data = key ? key->data() : nullptr;
    const std::size_t key_len = key ? key->size() : 0;
    void* value_data = const_cast<char*>(value.data());
    const std::size_t value_len = value.size();
    const std::int32_t to = partition < 0 ? RD_KAFKA_PARTITION_UA : partition;
    return status(rd_kafka_producev(rk_.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(to),
                                    RD_KAFKA_V_KEY(key_data, key_len), RD_KAFKA_V_VALUE(value_data, value_len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END));
  }

  void poll(milliseconds timeout) override { rd_kafka_poll(rk_.get(), to_ms(timeout)); }

  Status flush(milliseconds timeout) override { return status(rd_kafka_flush(rk_.get(), to_ms(timeout))); }

  void purge() override {
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_.get(), 1000);
  }

  std::optional<DeliveryFailure> delivery_failure() const override {
    if (!delivery_failed_.load()) return std::nullopt;
    std::lock_guard lock(mu_);
    return DeliveryFailure{status(delivery_err_), delivery_partition_};
  }

  std::int64_t delivered() const override { return delivered_.load(); }

  std::string fatal_error() override {
    char reason[512] = "";
    rd_kafka_fatal_error(rk_.get(), reason, sizeof reason);
    return reason;
  }

 private:
  // Replaces librdkafka's stderr logger: the admin functions report problems through their
  // errors, and the first error line (the connection failure, usually) goes into them.
  static void log_cb(const rd_kafka_t* rk, int level, const char*, const char* buf) {
    if (level > 3) return;  // LOG_ERR and worse
    auto* self = static_cast<RdKafkaAdminClient*>(rd_kafka_opaque(rk));
    if (!self) return;
    std::string_view line(buf);
    if (line.starts_with("[thrd:"))  // librdkafka's thread tag: noise in an error message
      if (auto end = line.find("]: "); end != std::string_view::npos) line.remove_prefix(end + 3);
    std::lock_guard lock(self->mu_);
    if (self->first_log_error_.empty()) self->first_log_error_ = line;
    if (self->security_failure_.ok()) self->security_failure_ = security_failure_of(line);
  }

  // The log line of a broker connection that failed authentication or its TLS handshake, as
  // an error: librdkafka's error callback says so with a code, but only to a client whose
  // main queue is polled, which an admin client's is not; its log lines come straight from
  // the broker threads. The texts are librdkafka's (rd_kafka_broker_fail's callers, the
  // same in 2.0.2 and 2.14.2).
  static Status security_failure_of(std::string_view line) {
    const auto has = [&](std::string_view what) { return line.find(what) != std::string_view::npos; };
    if (is_transient_security_text(line)) return {};  // a retry can succeed
    if (has("SASL authentication error") || has("SASL authentication failure") ||
        has("mechanism handshake failed") || has("Failed to initialize SASL authentication"))
      return status(RD_KAFKA_RESP_ERR__AUTHENTICATION).with_text(std::string(line));
    // A disconnect during the handshake is librdkafka's guess at a PLAINTEXT listener: a
    // transport failure, not a certificate's.
    if (has("SSL handshake failed") && !has("connecting to a PLAINTEXT broker listener"))
      return status(RD_KAFKA_RESP_ERR__SSL).with_text(std::string(line));
    return {};
  }

  // Called inside poll() and flush(), on the caller's thread.
  static void delivery_cb(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<RdKafkaAdminClient*>(opaque);
    if (!msg->err) {
      self->delivered_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::lock_guard lock(self->mu_);
    if (!self->delivery_failed_.load()) {
      self->delivery_err_ = msg->err;
      self->delivery_partition_ = msg->partition;
      self->delivery_failed_.store(true);
    }
  }

  // The client's handle of `topic`, made at its first use and kept: null when librdkafka
  // refuses the name (rd_kafka_last_error() says why).
  rd_kafka_topic_t* handle(const std::string& topic) {
    auto it = topics_.find(topic);
    if (it != topics_.end()) return it->second.get();
    TopicPtr rkt(rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr));
    if (!rkt) return nullptr;
    return topics_.emplace(topic, std::move(rkt)).first->second.get();
  }

  // A metadata request (of `rkt`, or of all topics when null), asked in slices, the first
  // 500 ms and each next one twice as long: every command's first request, so that a
  // connection the cluster refused for the client's security settings (security_failure)
  // ends it within a slice, with that failure, instead of at `timeout` (librdkafka retries
  // the connection until then). A cluster that answers within a slice sees one request, as
  // before; one slower than 500 ms is answered by a later, longer slice (an answer that
  // comes after its slice ended is dropped).
  Status metadata(rd_kafka_topic_t* rkt, milliseconds timeout, std::vector<TopicMetadata>& out) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    milliseconds next_slice(500);
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
      const milliseconds slice = std::clamp(left, milliseconds(1), next_slice);
      next_slice *= 2;
      const rd_kafka_metadata_t* raw = nullptr;
      const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), rkt ? 0 : 1, rkt, &raw, to_ms(slice));
      MetadataPtr md(raw);
      if (!err) {
        out = topics_of(*md);
        return {};
      }
      if (err != RD_KAFKA_RESP_ERR__TIMED_OUT || left <= slice) return status(err);
      if (Status refused = security_failure(); !refused.ok()) return refused;
    }
  }

  // Options for an admin request of `op`, giving the cluster `timeout` (at least 1 ms); null,
  // with `refused` saying why, when librdkafka refuses the timeout.
  AdminOptionsPtr options_for(rd_kafka_admin_op_t op, milliseconds timeout, Status& refused) {
    AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk_.get(), op));
    char errstr[512];
    if (rd_kafka_AdminOptions_set_request_timeout(options.get(), std::max(1, to_ms(timeout)), errstr, sizeof errstr)) {
      refused = not_sent(RD_KAFKA_RESP_ERR__INVALID_ARG, errstr);
      return nullptr;
    }
    return options;
  }

  // The answer to an admin request on `queue`: the request's own timeout ends it first, the
  // margin lets its answer arrive. Null when none came.
  /// Waits for the answer to a request sent to `queue` (librdkafka's own timeout is in the
  /// request's options; 2 s more here) into `ev`: timed_out when none came, the request's
  /// error when it failed as a whole, ok otherwise.
  static Status await_result(rd_kafka_queue_t* queue, milliseconds timeout, EventPtr& ev) {
    ev.reset(rd_kafka_queue_poll(queue, std::max(1, to_ms(timeout)) + 2000));
    if (!ev) return status(RD_KAFKA_RESP_ERR__TIMED_OUT);
    if (rd_kafka_event_error(ev.get())) return event_status(ev.get());
    return {};
  }

  static GroupOffsets group_offsets(const rd_kafka_group_result_t** groups, size_t cnt) {
    GroupOffsets out;
    for (size_t g = 0; g < cnt; ++g) {
      out.error = error_status(rd_kafka_group_result_error(groups[g]));
      if (out.error) break;
      auto offsets = offsets_of(rd_kafka_group_result_partitions(groups[g]));
      out.offsets.insert(out.offsets.end(), offsets.begin(), offsets.end());
    }
    return out;
  }

  // Read by librdkafka's threads (log_cb) and the delivery reports: declared before rk_,
  // so that they outlive it.
  mutable std::mutex mu_;
  std::string first_log_error_;  // under mu_
  Status security_failure_;      // under mu_
  rd_kafka_resp_err_t delivery_err_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // under mu_
  std::int32_t delivery_partition_ = -1;                           // under mu_
  std::atomic<bool> delivery_failed_{false};
  std::atomic<std::int64_t> delivered_{0};
  KafkaPtr rk_;
  std::map<std::string, TopicPtr> topics_;  // destroyed before rk_
};

}  // namespace

std::unique_ptr<AdminClient> make_admin_client(const std::map<std::string, std::string>& properties, AdminUse use) {
  return std::make_unique<RdKafkaAdminClient>(properties, use);
}

}  // namespace samsa::kafka
