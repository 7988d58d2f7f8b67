#include "kafka/producer_client.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/fmt/fmt.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "kafka/connection_log.hpp"
#include "kafka/handle.hpp"
#include "log_text.hpp"

namespace samsa::kafka {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class RdKafkaProducer final : public Producer {
 public:
  RdKafkaProducer(const std::map<std::string, std::string>& props, Logger& logger)
      : logger_(logger), redactor_(props) {
    auto conf = make_conf(props);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &RdKafkaProducer::delivery_cb);
    rd_kafka_conf_set_error_cb(conf.get(), &RdKafkaProducer::error_cb);
    rd_kafka_conf_set_log_cb(conf.get(), &RdKafkaProducer::log_cb);
    char value[32];
    size_t size = sizeof value;
    if (rd_kafka_conf_get(conf.get(), "message.timeout.ms", value, &size) == RD_KAFKA_CONF_OK)
      message_timeout_ = milliseconds(std::atol(value));
    rk_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
    poller_ = std::thread([this] {
      // Delivery reports and errors are served here, so that callbacks never run on the
      // caller's thread (a consume() waiting in produce_sync would otherwise serve them).
      while (!stop_.load(std::memory_order_acquire)) rd_kafka_poll(rk_.get(), 100);
    });
  }

  ~RdKafkaProducer() override {
    stop_.store(true, std::memory_order_release);
    poller_.join();
    // Anything still queued fails now (its callback says so) instead of holding
    // rd_kafka_destroy for message.timeout.ms.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const auto until = Clock::now() + milliseconds(2000);
    while (in_flight_.load() > 0 && Clock::now() < until) rd_kafka_poll(rk_.get(), 10);
    rk_.reset();
    // Whatever librdkafka did not report (it does not serve reports once destroyed) fails
    // now, so that no future is left waiting forever.
    std::unordered_map<std::uintptr_t, Callback> left;
    {
      std::lock_guard lock(mu_);
      left.swap(pending_);
    }
    DeliveryReport gone;
    gone.error = "_DESTROY (the producer was destroyed before the message was delivered)";
    for (auto& [id, cb] : left)
      if (cb) cb(gone);
  }

  void produce(const OutgoingMessage& m, Callback on_delivery) override {
    // The callback waits in pending_ under mu_, and librdkafka carries only its id: the
    // handoff to the poller thread is ordered by that lock (ThreadSanitizer does not see
    // librdkafka's own queues as an ordering).
    std::uintptr_t id;
    {
      std::lock_guard lock(mu_);
      id = ++next_id_;
      pending_.emplace(id, std::move(on_delivery));
    }
    void* cb = reinterpret_cast<void*>(id);
    rd_kafka_headers_t* headers = make_headers(m.headers);
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    const auto deadline = Clock::now() + message_timeout_;
    rd_kafka_resp_err_t err;
    // Locals: librdkafka's RD_KAFKA_V_* macros cast their arguments unparenthesised.
    const char* key = m.key ? m.key->data() : nullptr;
    const std::size_t key_len = m.key ? m.key->size() : 0;
    char* value = m.payload ? const_cast<char*>(m.payload->data()) : nullptr;
    const std::size_t value_len = m.payload ? m.payload->size() : 0;
    for (;;) {
      // The headers are librdkafka's once produced; a copy is needed to try again.
      rd_kafka_headers_t* attempt = headers ? rd_kafka_headers_copy(headers) : nullptr;
      err = rd_kafka_producev(
          rk_.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()), RD_KAFKA_V_PARTITION(m.partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
          RD_KAFKA_V_HEADERS(attempt), RD_KAFKA_V_OPAQUE(cb), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (attempt) rd_kafka_headers_destroy(attempt);
      // Full: wait for deliveries to make room (the poller serves them), up to the
      // delivery timeout the message would have had.
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(milliseconds(5));
    }
    if (headers) rd_kafka_headers_destroy(headers);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    DeliveryReport report;
    report.topic = m.topic;
    report.partition = m.partition;
    report.error = fmt::format("{} ({})", rd_kafka_err2name(err), rd_kafka_err2str(err));
    finish(cb, report);
  }

  std::size_t flush(milliseconds timeout) override {
    // Not rd_kafka_flush: it serves the delivery reports itself, so the callbacks would run
    // on the caller's thread, beside the poller's. The poller serves them; this waits for
    // the count of those outstanding (decremented after each callback) to reach 0.
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return in_flight_.load() == 0; });
    return in_flight_.load();
  }

  std::size_t in_flight() const override { return in_flight_.load(); }
  std::uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  void finish(void* cb_id, const DeliveryReport& report) {
    (report.ok() ? delivered_ : failed_).fetch_add(1, std::memory_order_relaxed);
    Callback cb;
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(reinterpret_cast<std::uintptr_t>(cb_id));
      if (it != pending_.end()) {
        cb = std::move(it->second);
        pending_.erase(it);
      }
    }
    try {
      if (cb) cb(report);
    } catch (const std::exception& e) {
      logger_.error(fmt::format("producer: a delivery callback threw: {}", escape_for_log(e.what())));
    } catch (...) {
      logger_.error("producer: a delivery callback threw an exception not derived from std::exception");
    }
    {
      std::lock_guard lock(mu_);
      in_flight_.fetch_sub(1);
    }
    cv_.notify_all();
  }

  static void delivery_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<RdKafkaProducer*>(opaque);
    DeliveryReport report;
    report.topic = rd_kafka_topic_name(m->rkt);
    report.partition = m->partition;
    if (m->err) {
      report.error = fmt::format("{} ({})", rd_kafka_err2name(m->err), rd_kafka_err2str(m->err));
    } else {
      report.offset = m->offset;
      self->connection_log_.note_answer();  // a broker answered: its errors are news again
    }
    self->finish(m->_private, report);
  }

  static void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<RdKafkaProducer*>(opaque);
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    // Logged when news only (kafka/connection_log.hpp): librdkafka repeats them.
    if (!self->connection_log_.note_error(status(code).with_text(reason), Clock::now())) return;
    self->logger_.error(fmt::format("producer: {}: {}", rd_kafka_err2name(code), self->redactor_.redact(reason)));
  }

  static void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    auto* self = static_cast<RdKafkaProducer*>(rd_kafka_opaque(rk));
    if (!self) return;
    // The app's properties serve its consumers and its producer alike: librdkafka's note
    // that a consumer property is ignored by a producer is expected, not a warning.
    const std::string_view text(buf);
    if (text.find("is a consumer property and will be ignored by this producer") != std::string_view::npos) return;
    const LogLevel l = log_level(level);
    if (l < self->logger_.level() || is_error_callback_log_line(fac, l)) return;  // error_cb has the text
    self->logger_.write(l, fmt::format("librdkafka producer {}: {}", fac, self->redactor_.redact(text)));
  }

  Logger& logger_;
  SecretRedactor redactor_;
  ConnectionLog connection_log_;  // error_cb's errors: which are news
  milliseconds message_timeout_{300000};
  KafkaPtr rk_;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::uint64_t> delivered_{0}, failed_{0};  // every finish(), by outcome
  std::mutex mu_;
  std::condition_variable cv_;
  std::uintptr_t next_id_ = 0;                     // under mu_
  std::unordered_map<std::uintptr_t, Callback> pending_;  // under mu_: by the id librdkafka carries
};

}  // namespace

ProducerCounts counts_of(const Producer& producer) {
  if (const auto* p = dynamic_cast<const RdKafkaProducer*>(&producer)) return {p->delivered(), p->failed(), p->in_flight()};
  return {0, 0, producer.in_flight()};
}

std::map<std::string, std::string> producer_properties(const Settings& settings, const std::string& brokers) {
  auto props = settings.kafka;
  if (!brokers.empty()) props["bootstrap.servers"] = brokers;
  for (const auto& [k, v] : settings.producer_kafka) props[k] = v;
  props.emplace("enable.idempotence", "true");
  // librdkafka's 300 s would hold a dead-letter dispatch (and a produce_sync) five minutes
  // while no broker answers; 30 s, then the failure is reported (and retried by the caller).
  props.emplace("message.timeout.ms", "30000");
  props.emplace("client.id", settings.client_id);
  return props;
}

std::unique_ptr<Producer> make_producer(const Settings& settings, const std::string& brokers, Logger& logger) {
  auto props = producer_properties(settings, brokers);
  require_bootstrap_servers(props);
  return std::make_unique<RdKafkaProducer>(props, logger);
}

void check_producer(const Settings& settings) {
  check_client_properties(RD_KAFKA_PRODUCER, producer_properties(settings, {}), "the producer: ");
}

}  // namespace samsa::kafka
