#pragma once
// A kafka::AdminClient with no Kafka behind it, for unit tests of src/admin/: a cluster of
// topics (each partition's watermarks and one group's committed offset), what a
// DescribeConsumerGroups of that group answers, errors to answer with, and a record of every
// request made, in order. The test sets the public fields before the call under test.
//
// Errors: each queue is taken from the front, one error per call of its kind; an empty queue
// answers from the cluster. Not thread-safe: one call at a time, as the interface says.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kafka/admin_client.hpp"

namespace samsa::test {

class FakeAdminClient final : public kafka::AdminClient {
 public:
  struct Partition {
    std::int64_t low = 0;
    std::int64_t high = 0;
    /// The group's committed offset; -1: none.
    std::int64_t committed = -1;
    std::string metadata;
  };

  /// The cluster's topics and their partitions.
  std::map<std::string, std::vector<Partition>> topics;
  /// Answers as librdkafka's mock cluster (the embedded broker).
  bool mock_cluster = false;
  int controller = 1;
  /// What describe_group answers for the group (state "Empty", no members, unless set).
  kafka::DescribedGroup group{{}, "Empty", {}};
  /// The first offset at or after a time, per partition (-1: none); none when unset.
  std::function<std::int64_t(const std::string& topic, std::int32_t partition, std::int64_t time_ms)> offset_at;
  /// first_log_error().
  std::string log_error;
  /// security_failure() (ok: none).
  kafka::Status security;

  /// Request errors, one per call of the kind.
  std::deque<kafka::Status> all_topics_errors, describe_errors, committed_errors, alter_errors;
  /// The group's error in an AlterConsumerGroupOffsets answer, one per call.
  std::deque<kafka::Status> alter_group_errors;

  /// Every request, in order: "all_topics", "is_mock_cluster", "describe_group g",
  /// "watermarks t/0", "committed t/0 t/1", "offsets_for_time t/0 t/1 @T",
  /// "alter g t/0@5 t/1@0", "list_group_offsets g".
  std::vector<std::string> calls;

  /// The calls that start with `prefix`.
  std::vector<std::string> calls_of(const std::string& prefix) const;

  std::string first_log_error() const override { return log_error; }
  kafka::Status security_failure() const override { return security; }
  kafka::Status all_topics(milliseconds timeout, std::vector<kafka::TopicMetadata>& out) override;
  kafka::Status topic(const std::string& topic, milliseconds timeout, std::vector<kafka::TopicMetadata>& out) override;
  bool is_mock_cluster(milliseconds timeout) override;
  int controller_id(milliseconds timeout) override;
  kafka::Status create_topics(const std::vector<admin::TopicSpec>& topics, milliseconds timeout,
                              std::vector<kafka::CreatedTopic>& out) override;
  kafka::Status describe_configs(const std::vector<admin::TopicSpec>& topics, milliseconds timeout,
                                 std::vector<kafka::TopicConfigs>& out) override;
  kafka::Status describe_group(const std::string& group, milliseconds timeout, kafka::DescribedGroup& out) override;
  kafka::Status list_group_offsets(const std::string& group, milliseconds timeout, kafka::GroupOffsets& out) override;
  kafka::Status alter_group_offsets(const std::string& group, const std::vector<kafka::CommitOffset>& offsets,
                                    milliseconds timeout, kafka::GroupOffsets& out) override;
  kafka::Status committed(std::vector<kafka::CommitOffset>& offsets, milliseconds timeout) override;
  kafka::Status watermarks(const std::string& topic, std::int32_t partition, milliseconds timeout, std::int64_t& low,
                           std::int64_t& high) override;
  kafka::Status offsets_for_time(std::vector<kafka::TimeOffset>& offsets, std::int64_t time_ms,
                                 milliseconds timeout) override;
  kafka::Status produce(const std::string& topic, std::int32_t partition, std::optional<std::string_view> key,
                        std::string_view value) override;
  void poll(milliseconds) override {}
  kafka::Status flush(milliseconds) override { return {}; }
  void purge() override {}
  std::optional<kafka::DeliveryFailure> delivery_failure() const override { return std::nullopt; }
  std::int64_t delivered() const override { return delivered_; }
  std::string fatal_error() override { return {}; }
  // Reading a topic is tested against a broker (tests/integration/read_topic_test.cpp).
  kafka::Status assign(const std::vector<TopicPartitionOffset>&) override {
    return kafka::Status(kafka::Status::Code::other, "_NOT_IMPLEMENTED", "the fake admin client does not read topics");
  }
  Read read(milliseconds) override { return {}; }
  kafka::Status subscribe(const std::string&) override { return assign({}); }
  std::vector<std::int32_t> assigned() override { return {}; }
  kafka::Status store(const std::string&, std::int32_t, std::int64_t) override { return assign({}); }
  kafka::Status commit_stored(milliseconds) override { return assign({}); }

 private:
  /// The partition, or null when the cluster has no such partition.
  Partition* find(const std::string& topic, std::int32_t partition);
  std::int64_t delivered_ = 0;
};

}  // namespace samsa::test
