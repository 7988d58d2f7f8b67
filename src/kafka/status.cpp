// The one classification of librdkafka's error codes (kafka::Status): everything in Samsa
// that decides on an error decides on what this file says of it.
#include "kafka/status.hpp"

#include "kafka/error_code.hpp"
#include "kafka/handle.hpp"

namespace samsa::kafka {

static_assert(error_code::fail == RD_KAFKA_RESP_ERR__FAIL);
static_assert(error_code::unknown_partition == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION);
static_assert(error_code::invalid_arg == RD_KAFKA_RESP_ERR__INVALID_ARG);
static_assert(error_code::timed_out == RD_KAFKA_RESP_ERR__TIMED_OUT);
static_assert(error_code::unsupported_feature == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE);
static_assert(error_code::unknown_broker == RD_KAFKA_RESP_ERR__UNKNOWN_BROKER);
static_assert(error_code::offset_out_of_range == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
static_assert(error_code::unknown_topic_or_part == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
static_assert(error_code::topic_exception == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
static_assert(error_code::invalid_partitions == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
static_assert(error_code::invalid_replication_factor == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR);
static_assert(error_code::non_empty_group == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP);

namespace {

// librdkafka >= 2.12 names it; 2.0.2's headers do not have it (KIP-848's OffsetCommit answer
// to a member epoch that is not the member's).
constexpr int kStaleMemberEpoch = 113;

bool is_ownership_lost(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
      return true;
    default:
      return false;
  }
}

// The errors a commit (or an offset fetch) may hit transiently: coordinator moving, loading;
// under KIP-848 a stale member epoch, retriable once the member's epoch is current
// (Committer::commit_sync), which librdkafka does not do for a manual commit
// (rd_kafka_cgrp_op_handle_OffsetCommit). Not a loss of ownership: the broker refuses a
// commit that carried an epoch the member has since left behind (a heartbeat moved it on),
// which says nothing of the partitions.
bool is_retriable(rd_kafka_resp_err_t err) {
  switch (static_cast<int>(err)) {
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case kStaleMemberEpoch:
      return true;
    default:
      return false;
  }
}

bool is_unreachable(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

bool is_unsupported(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
         err == RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
}

bool is_coordinator_moving(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS || err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
}

bool is_refused_by_active_group(rd_kafka_resp_err_t err) {
  switch (static_cast<int>(err)) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
    case kStaleMemberEpoch:
      return true;
    default:
      return false;
  }
}

Status::Code code_of(rd_kafka_resp_err_t err) {
  using Code = Status::Code;
  if (static_cast<int>(err) == kStaleMemberEpoch) return Code::stale_member_epoch;
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: return Code::timed_out;
    case RD_KAFKA_RESP_ERR__NO_OFFSET: return Code::no_offset;
    case RD_KAFKA_RESP_ERR__STATE: return Code::state;
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS: return Code::rebalance_in_progress;
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION: return Code::illegal_generation;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC: return Code::unknown_topic;
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE: return Code::leader_not_available;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: return Code::topic_already_exists;
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND: return Code::group_id_not_found;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL: return Code::queue_full;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: return Code::all_brokers_down;
    case RD_KAFKA_RESP_ERR__FATAL: return Code::fatal;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED: return Code::authentication;
    case RD_KAFKA_RESP_ERR__SSL: return Code::tls;
    default: return Code::other;
  }
}

}  // namespace

Status status(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return Status(code_of(err), rd_kafka_err2name(err), rd_kafka_err2str(err),
                Status::Traits{.ownership_lost = is_ownership_lost(err),
                               .retriable = is_retriable(err),
                               .unreachable = is_unreachable(err),
                               .unsupported = is_unsupported(err),
                               .coordinator_moving = is_coordinator_moving(err),
                               .refused_by_active_group = is_refused_by_active_group(err)},
                static_cast<int>(err));
}

Status status_of(int number) { return status(static_cast<rd_kafka_resp_err_t>(number)); }

std::string security_failure_text(const Status& s) {
  const std::string& text = s.text();
  const auto says = [&](const char* what) { return text.find(what) != std::string::npos; };
  std::string advice;
  if (s.code() == Status::Code::authentication) {
    // librdkafka lists the broker's mechanisms when the mechanism is what it refused
    // ("SASL SCRAM-SHA-512 mechanism handshake failed: ...: broker's supported mechanisms:").
    if (says("mechanism handshake failed") || says("supported mechanisms"))
      advice = "SASL authentication failed: the broker does not offer this mechanism: set kafka.sasl.mechanism to one "
               "it lists";
    else
      advice = "SASL authentication failed: check kafka.sasl.username and kafka.sasl.password (and "
               "kafka.sasl.mechanism, kafka.security.protocol)";
  } else if (s.code() == Status::Code::tls) {
    if (says("certificate has expired"))
      advice = "TLS: the broker's certificate has expired (or this machine's clock is wrong): renew the broker's "
               "certificate";
    else if (says("certificate verify failed") || says("could not be verified"))
      advice = "TLS: the broker's certificate is not trusted: set kafka.ssl.ca.location to the PEM file of the CA "
               "that signed it (and check that the certificate names the host of the bootstrap servers)";
    else if (says("client SSL authentication might be required"))
      advice = "TLS: the broker asks for a client certificate: set kafka.ssl.certificate.location and "
               "kafka.ssl.key.location";
    else
      advice = "TLS handshake failed: check kafka.security.protocol and kafka.ssl.ca.location (and the other "
               "kafka.ssl.* settings)";
  } else {
    return {};
  }
  return advice + " (librdkafka: " + text + ")";
}

Status not_sent(rd_kafka_resp_err_t err, std::string reason) {
  const Status s = status(err);
  Status::Traits traits = s.traits();
  traits.not_sent = true;
  return Status(s.code(), s.name(), reason.empty() ? s.text() : std::move(reason), traits, s.number());
}

KafkaError error(const std::string& what, rd_kafka_resp_err_t err) { return status(err).error(what); }

}  // namespace samsa::kafka
