#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "admin/client.hpp"
#include "kafka/handle.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;
using kafka::MetadataPtr;
using kafka::TopicPtr;

// Produces `count` records, each filled in by `fill(i, key, has_key, value, partition)`,
// and waits until all are delivered. Throws on the first failure.
template <class Fill>
void produce_stream(const Cluster& cluster, const std::string& topic, std::int64_t count,
                    std::chrono::milliseconds timeout, Fill&& fill) {
  if (topic.empty())
    throw KafkaError("cannot produce: empty topic name", RD_KAFKA_RESP_ERR__INVALID_ARG,
                     false);
  if (count <= 0) return;
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  ClientState st;
  KafkaPtr rk = make_client(cluster, st,
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
                      kafka::status(st.delivery_err).retriable());
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

}  // namespace

void produce(const Cluster& cluster, const std::string& topic,
             const std::vector<Record>& records, std::chrono::milliseconds timeout) {
  produce_stream(cluster, topic, static_cast<std::int64_t>(records.size()), timeout,
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

void produce_events(const Cluster& cluster, const std::string& topic, std::int64_t first,
                    std::int64_t count, int partitions, std::size_t payload_bytes,
                    std::chrono::milliseconds timeout) {
  const std::string pad(payload_bytes, 'x');
  produce_stream(cluster, topic, count, timeout,
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

}  // namespace samsa::admin
