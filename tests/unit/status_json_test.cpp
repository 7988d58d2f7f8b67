// /status.json's members of each group (Operations::respond), from group_described events
// published on a monitor: the members with their partitions and the group's state, or
// members null with members_error when the broker could not say.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "ops/operations.hpp"

namespace samsa::ops {
namespace {

struct StatusJson : ::testing::Test {
  Settings settings;
  std::ostringstream log;
  std::shared_ptr<Logger> logger = make_stream_logger(log, LogLevel::warn);
  Monitor monitor;
  Operations ops{settings, *logger, monitor};

  nlohmann::json group(const Event& e) {
    monitor.publish(e);
    EXPECT_TRUE(monitor.flush());
    const HttpResponse r = ops.respond("/status.json");
    EXPECT_EQ(r.status, 200);
    const auto doc = nlohmann::json::parse(r.body);
    EXPECT_EQ(doc["groups"].size(), 1u);
    return doc["groups"].at(0);
  }
};

Event described() {
  Event e{EventType::group_described, "orders", {}, 0, {}};
  e.at = SystemClock::time_point(std::chrono::seconds(1800000000));
  return e;
}

TEST_F(StatusJson, ListsTheMembersWithTheirPartitionsAndTheGroupState) {
  Event e = described();
  e.reason = "Stable";
  e.members = {{"a-1", "billing", "/10.0.0.1", {{"orders", 0}, {"orders", 2}}}, {"b-2", "billing", "/10.0.0.2", {}}};
  const auto g = group(e);
  EXPECT_EQ(g["group_state"], "Stable");
  EXPECT_EQ(g["members_error"], "");
  EXPECT_EQ(g["members_read_at"], "2027-01-15T08:00:00.000Z");
  ASSERT_EQ(g["members"].size(), 2u);
  EXPECT_EQ(g["members"][0], nlohmann::json::parse(R"({"member_id": "a-1", "client_id": "billing", "host": "/10.0.0.1",
      "partitions": [{"topic": "orders", "partition": 0}, {"topic": "orders", "partition": 2}]})"));
  EXPECT_EQ(g["members"][1]["partitions"], nlohmann::json::array());
}

TEST_F(StatusJson, MembersTheBrokerCannotDescribeAreNullWithTheReason) {
  Event e = described();
  e.error = "the broker does not support DescribeConsumerGroups (Unsupported feature)";
  const auto g = group(e);
  EXPECT_TRUE(g["members"].is_null()) << "never an empty list for members nobody knows";
  EXPECT_TRUE(g["group_state"].is_null());
  EXPECT_EQ(g["members_error"], e.error);
  EXPECT_EQ(g["members_read_at"], "2027-01-15T08:00:00.000Z");
}

TEST_F(StatusJson, MembersNotReadYetAreUnknown) {
  Event e{EventType::partitions_assigned, "orders", {{"orders", 0, -1001}}, 0, {}};
  const auto g = group(e);
  EXPECT_TRUE(g["members"].is_null());
  EXPECT_EQ(g["members_error"], "not read yet");
  EXPECT_EQ(g["members_read_at"], "");
}

}  // namespace
}  // namespace samsa::ops
