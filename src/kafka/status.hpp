#pragma once
// The outcome of a call to Kafka, in the terms Samsa decides on. Nothing outside src/kafka/
// decides on librdkafka's error codes: src/kafka/status.cpp classifies each one once, into
// a code and traits, and keeps librdkafka's name, description and number for the logs, the
// messages and KafkaError::code().
#include <string>
#include <string_view>
#include <utility>

#include "samsa/errors.hpp"

namespace samsa::kafka {

class Status {
 public:
  /// What callers tell apart by equality; every other error is `other`.
  enum class Code {
    ok,
    timed_out,              // no answer within the caller's time
    no_offset,              // a commit had nothing to commit
    state,                  // the call does not apply now (e.g. a partition not owned)
    rebalance_in_progress,  // the group is rebalancing: a commit is refused until it ends
    illegal_generation,     // the member's generation is stale (a rejoin is under way)
    stale_member_epoch,     // KIP-848: the commit carried an epoch the member has left behind
    unknown_topic,          // a topic does not exist (yet)
    leader_not_available,   // a topic exists, its leaders are still being elected
    topic_already_exists,   // a topic to create exists already
    group_id_not_found,     // a group the coordinator does not know (KIP-848's describe)
    queue_full,             // the producer's queue is full: wait for deliveries
    all_brokers_down,       // no broker answers; librdkafka keeps trying
    fatal,                  // the client cannot go on (e.g. a fenced idempotent member)
    authentication,         // SASL: the broker refused the credentials (or the mechanism)
    tls,                    // TLS: the handshake failed (an untrusted broker certificate, ...)
    unexpected_answer,      // librdkafka's answer lacks what was asked for (never seen)
    other,
  };

  /// What an error means beyond its code; several may hold. kafka::status() sets them from
  /// librdkafka's code; a fake sets them by hand.
  struct Traits {
    /// This member no longer owns the partitions concerned.
    bool ownership_lost = false;
    /// A commit or an offset fetch that failed so may succeed when tried again shortly.
    bool retriable = false;
    /// The cluster did not answer: a timeout, a transport failure, no broker or no
    /// coordinator reachable.
    bool unreachable = false;
    /// The broker lacks the API or the version the request needs.
    bool unsupported = false;
    /// The group coordinator is moving or loading: ask again shortly.
    bool coordinator_moving = false;
    /// How a broker refuses an offset commit from outside a group (no member id, no
    /// generation) while the group has members.
    bool refused_by_active_group = false;
    /// librdkafka refused the request before sending it (an argument out of its range);
    /// text() is its reason.
    bool not_sent = false;
  };

  /// Success.
  Status() = default;
  /// An error. `number`: librdkafka's code (for KafkaError::code), -1 when none.
  Status(Code code, std::string name, std::string text, Traits traits, int number = -1)
      : code_(code), name_(std::move(name)), text_(std::move(text)), traits_(traits), number_(number) {}
  /// An error with the two traits the runtime decides on.
  Status(Code code, std::string name, std::string text, bool ownership_lost = false, bool retriable = false,
         int number = -1)
      : Status(code, std::move(name), std::move(text), Traits{.ownership_lost = ownership_lost, .retriable = retriable},
               number) {}

  bool ok() const { return code_ == Code::ok; }
  /// True for an error, as librdkafka's error codes read in a condition.
  explicit operator bool() const { return !ok(); }
  Code code() const { return code_; }
  /// librdkafka's name ("REBALANCE_IN_PROGRESS") and description; "Success" for ok.
  const std::string& name() const { return ok() ? kOkName : name_; }
  const std::string& text() const { return ok() ? kOkText : text_; }
  /// librdkafka's own sentence about this occurrence (an admin request's error string),
  /// beside text()'s description of the code; empty when it gave none.
  const std::string& detail() const { return detail_; }
  bool ownership_lost() const { return traits_.ownership_lost; }
  bool retriable() const { return traits_.retriable; }
  bool unreachable() const { return traits_.unreachable; }
  bool unsupported() const { return traits_.unsupported; }
  bool coordinator_moving() const { return traits_.coordinator_moving; }
  bool refused_by_active_group() const { return traits_.refused_by_active_group; }
  bool not_sent() const { return traits_.not_sent; }
  const Traits& traits() const { return traits_; }
  int number() const { return ok() ? 0 : number_; }

  /// This status with another text (redacted, or librdkafka's more precise one).
  Status with_text(std::string text) const {
    Status s = *this;
    s.text_ = std::move(text);
    return s;
  }
  /// This status with librdkafka's sentence about the occurrence.
  Status with_detail(std::string detail) const {
    Status s = *this;
    s.detail_ = std::move(detail);
    return s;
  }

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
  std::string detail_;
  Traits traits_;
  int number_ = -1;
};

/// librdkafka's error `number` (an rd_kafka_resp_err_t value) classified as kafka::status()
/// does, for code outside src/kafka/ (an admin function's own timeout, fakes, tests).
Status status_of(int number);

/// A connection problem during a SASL or TLS handshake that librdkafka reports as an
/// authentication or TLS failure although a retry can succeed: the connection dropped or
/// timed out mid-handshake ("... mechanism handshake failed: Local: Broker transport failure:
/// broker's supported mechanisms: (n/a)", a broker restarting), an OAUTHBEARER token its
/// provider did not hand out in time, or a socket error inside TLS ("SSL transport error").
inline bool is_transient_security_text(std::string_view text) {
  return text.find("Local: ") != std::string_view::npos || text.find("(n/a)") != std::string_view::npos ||
         text.find("Failed to acquire") != std::string_view::npos ||
         text.find("SSL transport error") != std::string_view::npos;
}

/// A failure that no retry can fix: the client's security settings do not fit the broker's
/// listener (Code::authentication or Code::tls, but not is_transient_security_text).
/// librdkafka reports these through its error callback, each once, and then keeps
/// reconnecting and failing the same way.
inline bool is_security_failure(const Status& s) {
  return (s.code() == Status::Code::authentication || s.code() == Status::Code::tls) &&
         !is_transient_security_text(s.text());
}

/// For a security failure: what failed and the settings to fix, by their Samsa names
/// (`kafka.sasl.password`, `kafka.ssl.ca.location`, ...: what apps and the `samsa` tool
/// take), then librdkafka's own sentence, e.g. "SASL authentication failed: check
/// kafka.sasl.username and kafka.sasl.password (...) (librdkafka: ...)". Empty for any
/// other status.
std::string security_failure_text(const Status& s);

}  // namespace samsa::kafka
