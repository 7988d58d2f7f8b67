#include "kafka/transactional_producer.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/fmt/fmt.h>

#include <thread>

#include "kafka/connection_log.hpp"
#include "kafka/handle.hpp"
#include "kafka/producer_client.hpp"
#include "log_text.hpp"

namespace samsa::kafka {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

// One classification of librdkafka's transactional errors (rdkafka.h, "Transactional
// producer API"): retriable, abortable (txn_requires_abort) or fatal; an error with none of
// these flags is fatal too (librdkafka's own advice).
TxnStatus classify(ErrorPtr error) {
  TxnStatus s;
  if (!error) return s;
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error.get());
  s.code = code;
  s.text = fmt::format("{} ({})", rd_kafka_error_name(error.get()), rd_kafka_error_string(error.get()));
  if (rd_kafka_error_is_retriable(error.get()))
    s.kind = TxnStatus::Kind::retriable;
  else if (rd_kafka_error_txn_requires_abort(error.get()))
    s.kind = TxnStatus::Kind::abortable;
  else
    s.kind = TxnStatus::Kind::fatal;
  // The group coordinator's refusal of a stale member (KIP-447): librdkafka keeps these
  // codes as they came and makes them abortable.
  s.ownership_lost = code == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION || code == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
                     code == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
  // librdkafka normalises PRODUCER_FENCED and INVALID_PRODUCER_EPOCH to _FENCED.
  s.fenced = code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
             code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
  return s;
}

TxnStatus from_code(rd_kafka_resp_err_t err) {
  if (!err) return {};
  TxnStatus s;
  s.code = err;
  s.text = fmt::format("{} ({})", rd_kafka_err2name(err), rd_kafka_err2str(err));
  // A produce refused at once: the producer is fenced or failed fatally (_FATAL, _FENCED,
  // _STATE after one), else the message (too large, an unknown partition): abort either way,
  // and the runtime tells a fatal producer by its next call.
  s.kind = err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__FENCED ? TxnStatus::Kind::fatal
                                                                                 : TxnStatus::Kind::abortable;
  s.fenced = err == RD_KAFKA_RESP_ERR__FENCED;
  return s;
}

void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque);
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

}  // namespace

struct TransactionalProducer::Impl {
  Impl(const std::map<std::string, std::string>& props, Logger& l) : logger(l), redactor(props) {}
  Logger& logger;
  SecretRedactor redactor;
  std::string id;
  KafkaPtr rk;
};

namespace {

void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* impl = static_cast<TransactionalProducer::Impl*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  impl->logger.error(fmt::format("transactional producer {}: {}: {}", impl->id, rd_kafka_err2name(code),
                                 impl->redactor.redact(reason)));
}

void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto* impl = static_cast<TransactionalProducer::Impl*>(rd_kafka_opaque(rk));
  if (!impl) return;
  const std::string_view text(buf);
  if (text.find("is a consumer property and will be ignored by this producer") != std::string_view::npos) return;
  const LogLevel l = log_level(level);
  // Its FAIL lines are kept (unlike the other clients'): its error callback runs only inside
  // rd_kafka_poll, which a transaction's begin/commit/abort calls, so an idle producer's
  // connection failures would otherwise go unsaid.
  if (l < impl->logger.level()) return;
  impl->logger.write(l, fmt::format("librdkafka transactional producer {} {}: {}", impl->id, fac,
                                    impl->redactor.redact(text)));
}

}  // namespace

TransactionalProducer::TransactionalProducer(const std::map<std::string, std::string>& props, Logger& logger)
    : impl_(std::make_unique<Impl>(props, logger)) {
  const auto it = props.find("transactional.id");
  id_ = it == props.end() ? std::string() : it->second;
  impl_->id = id_;
  auto conf = make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_error_cb(conf.get(), &error_cb);
  rd_kafka_conf_set_log_cb(conf.get(), &log_cb);
  // No delivery report callback: a failed delivery fails commit_transaction, which is where
  // the runtime learns of it.
  impl_->rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

TransactionalProducer::~TransactionalProducer() {
  // Nothing is left open by the runtime (each transaction() commits or aborts); whatever a
  // failure left queued is purged so that rd_kafka_destroy does not wait for it.
  rd_kafka_purge(impl_->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(impl_->rk.get(), 0);
  impl_->rk.reset();
}

TxnStatus TransactionalProducer::init(milliseconds timeout) {
  return classify(ErrorPtr(rd_kafka_init_transactions(impl_->rk.get(), to_ms(timeout))));
}

TxnStatus TransactionalProducer::begin() {
  // Serves what an idle producer's main queue gathered (errors, an OAUTHBEARER refresh):
  // nothing else polls it between transactions.
  rd_kafka_poll(impl_->rk.get(), 0);
  return classify(ErrorPtr(rd_kafka_begin_transaction(impl_->rk.get())));
}

TxnStatus TransactionalProducer::produce(const OutgoingMessage& m, milliseconds room_timeout) {
  rd_kafka_headers_t* headers = make_headers(m.headers);
  const char* key = m.key ? m.key->data() : nullptr;
  const std::size_t key_len = m.key ? m.key->size() : 0;
  char* value = m.payload ? const_cast<char*>(m.payload->data()) : nullptr;
  const std::size_t value_len = m.payload ? m.payload->size() : 0;
  const auto deadline = Clock::now() + room_timeout;
  rd_kafka_resp_err_t err;
  for (;;) {
    rd_kafka_headers_t* attempt = headers ? rd_kafka_headers_copy(headers) : nullptr;
    err = rd_kafka_producev(impl_->rk.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()), RD_KAFKA_V_PARTITION(m.partition),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                            RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_HEADERS(attempt), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (attempt) rd_kafka_headers_destroy(attempt);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= deadline) break;
    rd_kafka_poll(impl_->rk.get(), 5);  // deliveries make room (no callbacks to serve)
  }
  if (headers) rd_kafka_headers_destroy(headers);
  if (err) {
    TxnStatus s = from_code(err);
    s.text = fmt::format("producing to {}: {}", m.topic, s.text);
    return s;
  }
  return {};
}

TxnStatus TransactionalProducer::send_offsets(const std::string& topic, std::int32_t partition,
                                              std::int64_t next_offset, const GroupMetadata& group,
                                              milliseconds timeout) {
  ListPtr list = make_list(1);
  add_offset(list.get(), topic, partition, next_offset, {});
  return classify(
      ErrorPtr(rd_kafka_send_offsets_to_transaction(impl_->rk.get(), list.get(), group.get(), to_ms(timeout))));
}

TxnStatus TransactionalProducer::commit(milliseconds timeout) {
  TxnStatus s = classify(ErrorPtr(rd_kafka_commit_transaction(impl_->rk.get(), to_ms(timeout))));
  rd_kafka_poll(impl_->rk.get(), 0);  // serve the error and log events of the commit
  return s;
}

TxnStatus TransactionalProducer::abort(milliseconds timeout) {
  TxnStatus s = classify(ErrorPtr(rd_kafka_abort_transaction(impl_->rk.get(), to_ms(timeout))));
  rd_kafka_poll(impl_->rk.get(), 0);
  return s;
}

std::map<std::string, std::string> transactional_properties(const Settings& settings, const std::string& brokers,
                                                            int slot) {
  auto props = producer_properties(settings, brokers);
  // librdkafka derives message.timeout.ms from transaction.timeout.ms (and refuses a larger
  // one): the app producer's 30 s default stays out unless the user set it.
  if (!settings.kafka.count("message.timeout.ms") && !settings.producer_kafka.count("message.timeout.ms"))
    props.erase("message.timeout.ms");
  props["transactional.id"] = fmt::format("{}-{}", settings.transactional_id, slot);
  // Below the 45 s session timeout (a member that lost its partitions gets no further than
  // the coordinator's abort) and librdkafka's 60 s default: a transaction left open by a
  // killed process that does not come back blocks the partition's next owner (its offset
  // fetch waits for the transaction's end) and read_committed readers this long at most.
  props.emplace("transaction.timeout.ms", "30000");
  // A transaction that begins right after the previous one committed meets the coordinator
  // still completing that one (CONCURRENT_TRANSACTIONS) and is retried after
  // retry.backoff.ms: librdkafka's 100 ms made every transaction wait about 100 ms (4,300
  // messages/s in batches of 100 on 4 partitions; 20 ms: 5,950). Java's producer retries
  // this case after 20 ms too.
  props.emplace("retry.backoff.ms", "20");
  return props;
}

void check_transactional_producer(const Settings& settings) {
  check_client_properties(RD_KAFKA_PRODUCER, transactional_properties(settings, {}, 0),
                          "the transactional producers: ");
}

}  // namespace samsa::kafka
