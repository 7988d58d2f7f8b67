#include "runtime/transactional_producers.hpp"

#include <spdlog/fmt/fmt.h>

#include <stdexcept>
#include <thread>

#include "runtime/worker_pool.hpp"
#include "samsa/kafka_transaction.hpp"

namespace samsa::runtime {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

TransactionalProducers::TransactionalProducers(const Settings& settings, std::string brokers, Logger& logger,
                                               std::size_t workers)
    : settings_(settings), brokers_(std::move(brokers)), logger_(logger), producers_(workers) {
  kafka::check_transactional_producer(settings_);
}

TransactionalProducers::~TransactionalProducers() = default;

int TransactionalProducers::slot() const {
  const int n = WorkerPool::slot();
  if (n < 0 || static_cast<std::size_t>(n) >= producers_.size())
    throw std::logic_error(
        "transaction() with a KafkaTransaction runs on a worker: call it from consume(), tick(), initialized(), "
        "revoked() or before_stop(), not from before_poll()/after_poll() or a thread of your own");
  return n;
}

kafka::TransactionalProducer& TransactionalProducers::mine(Deadline deadline) {
  auto& producer = producers_[static_cast<std::size_t>(slot())];
  if (!producer) producer = make(slot(), deadline);
  return *producer;
}

std::unique_ptr<kafka::TransactionalProducer> TransactionalProducers::make(int n, Deadline deadline) {
  auto made = std::make_unique<kafka::TransactionalProducer>(kafka::transactional_properties(settings_, brokers_, n),
                                                             logger_);
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    const kafka::TxnStatus s = made->init(std::max(left, milliseconds(1)));
    if (!s) break;
    if (s.kind == kafka::TxnStatus::Kind::retriable && Clock::now() < deadline) continue;
    throw TransactionError(
        fmt::format("transactional producer {}: init_transactions failed: {}{}", made->id(), s.text,
                    s.fenced ? "; another running process uses the same transactional_id setting (each needs its own)"
                             : ""),
        s.code, s.kind == kafka::TxnStatus::Kind::retriable);
  }
  logger_.info(fmt::format("transactional producer {} ready", made->id()));
  return made;
}

void TransactionalProducers::prepare(Deadline deadline) {
  for (std::size_t n = 0; n < producers_.size(); ++n) {
    if (producers_[n]) continue;
    try {
      producers_[n] = make(static_cast<int>(n), deadline);
    } catch (const std::exception& e) {
      logger_.warn(fmt::format("{}; tried again by the worker's first transaction", e.what()));
    }
  }
}

void TransactionalProducers::discard() { producers_[static_cast<std::size_t>(slot())].reset(); }

}  // namespace samsa::runtime
