#include <algorithm>
#include <charconv>
#include <climits>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "admin/client.hpp"
#include "kafka/error_code.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {

namespace {

using namespace detail;
using Code = kafka::Status::Code;

// Produces `count` records, each filled in by `fill(i, key, has_key, value, partition)`,
// and waits until all are delivered. Throws on the first failure.
template <class Fill>
void produce_stream(const Cluster& cluster, const std::string& topic, std::int64_t count,
                    std::chrono::milliseconds timeout, Fill&& fill) {
  if (topic.empty())
    throw KafkaError("cannot produce: empty topic name", kafka::error_code::invalid_arg, false);
  if (count <= 0) return;
  Deadline dl(timeout);
  const std::string brokers = cluster.bootstrap_servers();
  const auto message_timeout = std::clamp<long long>(timeout.count(), 1000, INT_MAX);
  auto client = make_client(cluster, kafka::AdminUse::produce,
                            {{"enable.idempotence", "true"},
                             {"acks", "all"},
                             {"linger.ms", "5"},
                             // The deadline below bounds the wait; this bounds librdkafka's
                             // retries of each message to the same budget.
                             {"message.timeout.ms", std::to_string(message_timeout)}});
  auto where = [&] { return "topic '" + topic + "' at " + brokers; };

  // Ask for the topic's metadata before producing: a client learns about a topic it has
  // not asked for only at its next 1 s topic scan, which would delay every short run.
  // This also fails fast, and clearly, when the cluster cannot be reached.
  // A topic just created may be unknown to the broker asked for a moment (metadata
  // propagates between brokers): ask again for up to 10 s before calling it missing.
  for (const auto unknown_until = Deadline::Clock::now() + std::chrono::seconds(10);;) {
    std::vector<kafka::TopicMetadata> topics;
    if (kafka::Status err = client->topic(topic, dl.remaining(), topics))
      throw failure("cannot produce to " + where(), err, brokers, *client, dl);
    bool unknown = false;
    for (const auto& t : topics) unknown |= topic == t.name && t.status.code() == Code::unknown_topic;
    if (!unknown) break;
    if (Deadline::Clock::now() >= unknown_until || dl.expired())
      throw KafkaError("cannot produce to " + where() +
                           ": the topic does not exist and the broker does not auto-create "
                           "it (create it first, e.g. with admin::create_topics)",
                       kafka::error_code::unknown_topic_or_part, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  // Gives up: drops what is still queued (so that destroying the client does not wait for
  // it) and builds the exception.
  auto abort_with = [&](KafkaError e) {
    client->purge();
    return e;
  };
  auto delivery_error = [&] {
    const kafka::DeliveryFailure failed = *client->delivery_failure();
    const kafka::Status& err = failed.error;
    std::string msg = "delivery to " + where() + " failed";
    if (failed.partition >= 0) msg += " (partition " + std::to_string(failed.partition) + ")";
    msg += ": " + err.name() + " (" + err.text() + ")";
    if (err.code() == Code::fatal) msg += ": " + client->fatal_error();
    if (const kafka::Status sec = client->security_failure(); !sec.ok()) return refused(msg, brokers, sec);
    if (err.unreachable()) {
      if (auto log = client->first_log_error(); !log.empty()) msg += "; librdkafka says: " + log;
      msg += " (is a broker running at that address?)";
    }
    return KafkaError(std::move(msg), err.number(), err.retriable());
  };

  std::string key, value;
  for (std::int64_t i = 0; i < count; ++i) {
    bool has_key = false;
    std::int32_t partition = -1;
    key.clear();
    value.clear();
    fill(i, key, has_key, value, partition);
    for (;;) {
      const kafka::Status err =
          client->produce(topic, partition, has_key ? std::optional<std::string_view>(key) : std::nullopt, value);
      if (!err) break;
      if (err.code() != Code::queue_full)
        throw abort_with(err.error("cannot produce to " + where() +
                                   (partition >= 0 ? " (partition " + std::to_string(partition) + ")" : "")));
      if (client->delivery_failure()) throw abort_with(delivery_error());
      if (dl.expired())
        throw abort_with(failure("cannot produce to " + where(), kafka::status_of(kafka::error_code::timed_out),
                                 brokers, *client, dl));
      client->poll(std::chrono::milliseconds(50));  // serves delivery reports, which frees queue space
    }
    if ((i & 1023) == 0) {
      client->poll(std::chrono::milliseconds(0));
      if (client->delivery_failure()) throw abort_with(delivery_error());
    }
  }

  // Flush in slices so that a delivery failure ends the wait at once.
  for (;;) {
    const kafka::Status err = client->flush(std::min(std::chrono::milliseconds(200), dl.remaining()));
    if (client->delivery_failure()) throw abort_with(delivery_error());
    if (!err) break;
    if (dl.expired()) {
      auto delivered = client->delivered();
      throw abort_with(failure("cannot produce to " + where() + " (" + std::to_string(delivered) + " of " +
                                   std::to_string(count) + " delivered)",
                               kafka::status_of(kafka::error_code::timed_out), brokers, *client, dl));
    }
  }
  if (client->delivery_failure()) throw abort_with(delivery_error());
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
