// admin::group_offsets on the fake admin client: the lag of each partition, the topics a
// group has offsets for, and what is refused.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "admin/offsets.hpp"
#include "fake_admin_client.hpp"
#include "kafka/status.hpp"
#include "samsa/admin.hpp"
#include "samsa/errors.hpp"

namespace samsa::admin {
namespace {

using namespace std::chrono_literals;
using test::FakeAdminClient;

constexpr const char* kBrokers = "kafka-1:9092";
constexpr int kUnknownTopicOrPart = 3;   // UNKNOWN_TOPIC_OR_PART
constexpr int kUnsupportedFeature = -165;  // _UNSUPPORTED_FEATURE

struct GroupOffsets : ::testing::Test {
  FakeAdminClient cluster;

  std::vector<PartitionOffsets> offsets(const std::vector<std::string>& topics) {
    return detail::group_offsets(cluster, kBrokers, "g", topics, detail::Deadline(30s));
  }

  std::string refusal(const std::vector<std::string>& topics, int* code = nullptr) {
    try {
      offsets(topics);
    } catch (const KafkaError& e) {
      if (code) *code = e.code();
      return e.what();
    }
    ADD_FAILURE() << "nothing was refused";
    return {};
  }
};

TEST_F(GroupOffsets, TheLagIsTheLogEndLessTheCommittedOffsetOrTheLogStart) {
  cluster.topics["b"] = {{0, 9, 4, "batch-7"}};
  cluster.topics["a"] = {{5, 20, -1, ""}, {0, 3, 3, ""}};
  const auto rows = offsets({"b", "a", "b"});
  ASSERT_EQ(rows.size(), 3u);  // sorted, each topic once
  EXPECT_EQ(rows[0].topic, "a");
  EXPECT_EQ(rows[0].committed, -1);
  EXPECT_EQ(rows[0].end, 20);
  EXPECT_EQ(rows[0].lag, 15);
  EXPECT_EQ(rows[1].partition, 1);
  EXPECT_EQ(rows[1].lag, 0);
  EXPECT_EQ(rows[2].topic, "b");
  EXPECT_EQ(rows[2].committed, 4);
  EXPECT_EQ(rows[2].metadata, "batch-7");
  EXPECT_EQ(rows[2].lag, 5);
  // One OffsetFetch for every partition.
  EXPECT_EQ(cluster.calls_of("committed"), std::vector<std::string>{"committed a/0 a/1 b/0"});
}

TEST_F(GroupOffsets, ATopicNamedThatDoesNotExistIsRefused) {
  cluster.topics["a"] = {{0, 1, 0, ""}};
  int code = 0;
  EXPECT_EQ(refusal({"a", "gone"}, &code), "topic 'gone' does not exist at kafka-1:9092");
  EXPECT_EQ(code, kUnknownTopicOrPart);
}

TEST_F(GroupOffsets, WithoutTopicsTheGroupsOwnAreListed) {
  cluster.topics["a"] = {{0, 4, 2, ""}};
  cluster.topics["idle"] = {{0, 4, -1, ""}};
  const auto rows = offsets({});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].topic, "a");
  EXPECT_EQ(cluster.calls_of("list_group_offsets"), std::vector<std::string>{"list_group_offsets g"});
}

TEST_F(GroupOffsets, TheEmbeddedBrokersEmptyListIsNotReadAsNoOffsets) {
  cluster.mock_cluster = true;
  int code = 0;
  EXPECT_EQ(refusal({}, &code),
            "cannot list the topics group 'g' has offsets for at kafka-1:9092: the embedded broker answers every "
            "such request with an empty list (pass the topic(s) explicitly: `samsa offsets --topic NAME`, or the "
            "`topics` argument of admin::group_offsets; librdkafka 2.0.2's embedded broker cannot list a group's "
            "offsets)");
  EXPECT_EQ(code, kUnsupportedFeature);
}

}  // namespace
}  // namespace samsa::admin
