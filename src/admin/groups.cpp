#include "admin/groups.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "kafka/error_code.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {
namespace detail {

namespace {

GroupDescription unsupported(const std::string& detail) {
  GroupDescription d;
  d.reason = "the broker does not support DescribeConsumerGroups (" + detail + ")";
  return d;
}

// Asks once; nullopt when the coordinator is moving or loading (ask again).
std::optional<GroupDescription> describe_group_once(kafka::AdminClient& client, const std::string& brokers,
                                                    const std::string& group, const Deadline& dl) {
  const std::string what = "cannot describe group '" + group + "'";
  kafka::DescribedGroup answer;
  const kafka::Status s = client.describe_group(group, dl.remaining(), answer);
  if (s.not_sent()) throw KafkaError(what + ": " + s.text(), s.number(), false);
  if (s.code() == kafka::Status::Code::unexpected_answer)
    throw KafkaError(what + ": unexpected answer", s.number(), false);
  if (s) {
    if (s.unsupported()) return unsupported(s.detail());
    if (s.coordinator_moving()) return std::nullopt;
    throw failure(s.detail().empty() ? what : what + " (" + s.detail() + ")", s, brokers, client, dl);
  }
  if (const kafka::Status& e = answer.error) {
    if (e.unsupported()) return unsupported(e.detail());
    if (e.coordinator_moving()) return std::nullopt;
    // KIP-848's ConsumerGroupDescribe answers so for a group it does not know; the classic
    // DescribeGroups says "Dead" without an error.
    if (e.code() == kafka::Status::Code::group_id_not_found) return GroupDescription{true, {}, "Dead", {}};
    throw KafkaError(what + ": " + e.name() + " (" + e.detail() + ")", e.number(), false);
  }
  return GroupDescription{true, {}, std::move(answer.state), std::move(answer.members)};
}

}  // namespace

GroupDescription describe_group(kafka::AdminClient& client, const std::string& brokers, const std::string& group,
                                const Deadline& dl) {
  // librdkafka 2.0.2's mock cluster has no DescribeGroups, and its client then fails an
  // assertion (in its enq_once_del_source_return) and aborts: never ask it.
  if (client.is_mock_cluster(dl.remaining())) {
    GroupDescription d;
    d.reason = "the embedded broker (librdkafka's mock cluster) cannot describe consumer groups";
    return d;
  }
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    if (auto gs = describe_group_once(client, brokers, group, dl)) return *gs;
    if (dl.remaining_ms() <= backoff.count())
      throw failure("cannot describe group '" + group + "'", kafka::status_of(kafka::error_code::timed_out), brokers,
                    client, dl);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace detail

GroupDescription describe_group(const Cluster& cluster, const std::string& group, std::chrono::milliseconds timeout) {
  detail::Deadline dl(timeout);
  auto client = detail::make_client(cluster, kafka::AdminUse::cluster);
  return detail::describe_group(*client, cluster.bootstrap_servers(), group, dl);
}

}  // namespace samsa::admin
