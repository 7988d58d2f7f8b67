#pragma once
// The outcome of a call to Kafka, in the terms the runtime decides on. The runtime never
// sees librdkafka's error codes: the client (kafka::ConsumerClient) classifies each one
// once, here, and keeps librdkafka's name and description for the logs.
#include <string>
#include <utility>

#include "samsa/errors.hpp"

namespace samsa::kafka {

class Status {
 public:
  /// What the runtime tells apart; every other error is `other` (logged, never retried).
  enum class Code {
    ok,
    timed_out,              // no answer within the caller's time
    no_offset,              // a commit had nothing to commit
    state,                  // the call does not apply now (e.g. a partition not owned)
    rebalance_in_progress,  // the group is rebalancing: a commit is refused until it ends
    illegal_generation,     // the member's generation is stale (a rejoin is under way)
    stale_member_epoch,     // KIP-848: the commit carried an epoch the member has left behind
    unknown_topic,          // a subscribed topic does not exist (yet)
    all_brokers_down,       // no broker answers; librdkafka keeps trying
    fatal,                  // the client cannot go on (e.g. a fenced idempotent member)
    other,
  };

  /// Success.
  Status() = default;
  /// An error. `ownership_lost`: this member no longer owns the partitions concerned.
  /// `retriable`: a commit that failed so may succeed when tried again shortly. `number`:
  /// librdkafka's code (for KafkaError::code), -1 when none.
  Status(Code code, std::string name, std::string text, bool ownership_lost = false, bool retriable = false,
         int number = -1)
      : code_(code), name_(std::move(name)), text_(std::move(text)), ownership_lost_(ownership_lost),
        retriable_(retriable), number_(number) {}

  bool ok() const { return code_ == Code::ok; }
  /// True for an error, as librdkafka's error codes read in a condition.
  explicit operator bool() const { return !ok(); }
  Code code() const { return code_; }
  /// librdkafka's name ("REBALANCE_IN_PROGRESS") and description; "Success" for ok.
  const std::string& name() const { return ok() ? kOkName : name_; }
  const std::string& text() const { return ok() ? kOkText : text_; }
  bool ownership_lost() const { return ownership_lost_; }
  bool retriable() const { return retriable_; }
  int number() const { return ok() ? 0 : number_; }
  /// A KafkaError saying `what` failed, with this error's name and description.
  KafkaError error(const std::string& what) const {
    return KafkaError(what + ": " + name() + " (" + text() + ")", number(), retriable());
  }

 private:
  static inline const std::string kOkName = "NO_ERROR";
  static inline const std::string kOkText = "Success";
  Code code_ = Code::ok;
  std::string name_;
  std::string text_;
  bool ownership_lost_ = false;
  bool retriable_ = false;
  int number_ = -1;
};

}  // namespace samsa::kafka
