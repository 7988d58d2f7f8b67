#pragma once
// The shared setup of the admin helpers' librdkafka clients (src/admin/*.cpp): a call's
// deadline, the state librdkafka's callbacks share with the caller, and the errors they throw.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "kafka/handle.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin::detail {

using Clock = std::chrono::steady_clock;
using kafka::KafkaPtr;

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

// A client of `cluster` for the admin functions: its log goes into `st` (the first error
// line) and, with `delivery_reports`, its delivery reports too. `defaults` are the
// function's tuning, which the cluster's properties override; `owned` are what defines its
// work (group.id, ...), which they do not.
KafkaPtr make_client(const Cluster& cluster, ClientState& st,
                     const std::map<std::string, std::string>& defaults,
                     rd_kafka_type_t type = RD_KAFKA_PRODUCER, bool delivery_reports = false,
                     const std::map<std::string, std::string>& owned = {});

// The classification of src/kafka/status.cpp.
bool is_unreachable(rd_kafka_resp_err_t err);

// True when the broker does not have the API or version a request needs.
bool is_unsupported(rd_kafka_resp_err_t err);

bool is_coordinator_moving(rd_kafka_resp_err_t err);

// The exception for a failed request. Timeouts and transport errors say which cluster did
// not answer, within what time, and librdkafka's own account of the connection failure.
KafkaError failure(const std::string& what, rd_kafka_resp_err_t err, const std::string& brokers,
                   ClientState& st, const Deadline& dl);

// Gives an admin request the deadline's remaining time (at least 1 ms); throws KafkaError
// starting with `what` when librdkafka refuses it.
void set_request_timeout(rd_kafka_AdminOptions_t* options, const Deadline& dl,
                         const std::string& what);

// True when the cluster is librdkafka's mock cluster (the embedded broker).
bool is_mock_cluster(rd_kafka_t* rk, const Deadline& dl);

}  // namespace samsa::admin::detail
