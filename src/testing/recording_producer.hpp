#pragma once
// A samsa::Producer with no Kafka behind it, the app's producer in samsa::testing::ConsumerTest
// and in the runtime's dead-letter tests: it keeps
// every message it was given (copied), answers at once on the caller's thread, and fails
// the next `fail_next` produces with MSG_TIMED_OUT.
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "samsa/producer.hpp"
#include "samsa/testing/consumer_test.hpp"

namespace samsa::testing {

class RecordingProducer final : public Producer {
 public:
  using Sent = ProducedMessage;

  void produce(const OutgoingMessage& m, Callback on_delivery) override {
    DeliveryReport r;
    r.topic = m.topic;
    {
      std::lock_guard lock(mu_);
      ++attempts_;
      if (fail_next_ > 0) {
        --fail_next_;
        r.error = "_MSG_TIMED_OUT (Local: Message timed out)";
      } else {
        Sent s{m.topic, m.key ? std::optional<std::string>(*m.key) : std::nullopt,
               m.payload ? std::optional<std::string>(*m.payload) : std::nullopt, {}};
        for (const auto& h : m.headers)
          s.headers.emplace_back(std::string(h.name), h.value ? std::optional<std::string>(*h.value) : std::nullopt);
        r.partition = 0;
        r.offset = static_cast<std::int64_t>(sent_.size());
        sent_.push_back(std::move(s));
      }
    }
    on_delivery(r);
  }
  std::size_t flush(std::chrono::milliseconds) override { return 0; }
  std::size_t in_flight() const override { return 0; }

  void fail_next(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  int attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Sent> sent_;
  int fail_next_ = 0;
  int attempts_ = 0;
};

}  // namespace samsa::testing
