#include "admin/groups.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "kafka/handle.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {
namespace detail {

using kafka::AdminOptionsPtr;

namespace {

// librdkafka may hand back null for a member's client id or host (KIP-848 members before
// their first heartbeat answer): an empty text, not a crash.
std::string text_of(const char* s) { return s ? s : ""; }

std::vector<GroupMember> members_of(const rd_kafka_ConsumerGroupDescription_t* desc) {
  std::vector<GroupMember> out;
  const size_t n = rd_kafka_ConsumerGroupDescription_member_count(desc);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(desc, i);
    if (!m) continue;
    GroupMember member;
    member.member_id = text_of(rd_kafka_MemberDescription_consumer_id(m));
    member.client_id = text_of(rd_kafka_MemberDescription_client_id(m));
    member.host = text_of(rd_kafka_MemberDescription_host(m));
    if (const rd_kafka_MemberAssignment_t* a = rd_kafka_MemberDescription_assignment(m))
      if (const rd_kafka_topic_partition_list_t* parts = rd_kafka_MemberAssignment_partitions(a))
        for (int j = 0; j < parts->cnt; ++j)
          member.assignment.emplace_back(text_of(parts->elems[j].topic), parts->elems[j].partition);
    std::sort(member.assignment.begin(), member.assignment.end());
    out.push_back(std::move(member));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.member_id < b.member_id; });
  return out;
}

GroupDescription unsupported(const std::string& detail) {
  GroupDescription d;
  d.reason = "the broker does not support DescribeConsumerGroups (" + detail + ")";
  return d;
}

// Asks once; nullopt when the coordinator is moving or loading (ask again).
std::optional<GroupDescription> describe_group_once(rd_kafka_t* rk, const std::string& brokers,
                                                    const std::string& group, ClientState& st,
                                                    const Deadline& dl) {
  const std::string what = "cannot describe group '" + group + "'";
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS));
  set_request_timeout(options.get(), dl, what);
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk, groups, 1, options.get(), queue.get());
  // The request's own timeout ends it first; the margin lets its answer arrive.
  kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), std::max(1, dl.remaining_ms()) + 2000));
  if (!ev) throw failure(what, RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl);
  if (auto err = rd_kafka_event_error(ev.get())) {
    if (is_unsupported(err)) return unsupported(rd_kafka_event_error_string(ev.get()));
    if (is_coordinator_moving(err)) return std::nullopt;
    throw failure(what + " (" + rd_kafka_event_error_string(ev.get()) + ")", err, brokers, st, dl);
  }
  const auto* result = rd_kafka_event_DescribeConsumerGroups_result(ev.get());
  size_t cnt = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs =
      result ? rd_kafka_DescribeConsumerGroups_result_groups(result, &cnt) : nullptr;
  if (cnt != 1 || !descs) throw KafkaError(what + ": unexpected answer", RD_KAFKA_RESP_ERR__FAIL, false);
  if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(descs[0])) {
    const rd_kafka_resp_err_t code = rd_kafka_error_code(e);
    if (is_unsupported(code)) return unsupported(rd_kafka_error_string(e));
    if (is_coordinator_moving(code)) return std::nullopt;
    // KIP-848's ConsumerGroupDescribe answers so for a group it does not know; the classic
    // DescribeGroups says "Dead" without an error.
    if (code == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) return GroupDescription{true, {}, "Dead", {}};
    throw KafkaError(what + ": " + rd_kafka_error_name(e) + " (" + rd_kafka_error_string(e) + ")",
                     static_cast<int>(code), false);
  }
  return GroupDescription{true, {},
                          rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(descs[0])),
                          members_of(descs[0])};
}

}  // namespace

GroupDescription describe_group(rd_kafka_t* rk, const std::string& brokers, const std::string& group,
                                ClientState& st, const Deadline& dl) {
  // librdkafka 2.0.2's mock cluster has no DescribeGroups, and its client then fails an
  // assertion (rd_kafka_enq_once_del_source_return) and aborts: never ask it.
  if (is_mock_cluster(rk, dl)) {
    GroupDescription d;
    d.reason = "the embedded broker (librdkafka's mock cluster) cannot describe consumer groups";
    return d;
  }
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    if (auto gs = describe_group_once(rk, brokers, group, st, dl)) return *gs;
    if (dl.remaining_ms() <= backoff.count())
      throw failure("cannot describe group '" + group + "'", RD_KAFKA_RESP_ERR__TIMED_OUT, brokers, st, dl);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace detail

GroupDescription describe_group(const Cluster& cluster, const std::string& group, std::chrono::milliseconds timeout) {
  detail::Deadline dl(timeout);
  detail::ClientState st;
  kafka::KafkaPtr rk = detail::make_client(cluster, st, {});
  return detail::describe_group(rk.get(), cluster.bootstrap_servers(), group, st, dl);
}

}  // namespace samsa::admin
