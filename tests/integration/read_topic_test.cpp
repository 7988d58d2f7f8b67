// admin::read_topic (what `samsa consume` prints): a topic read back without a consumer
// group, each record with its key, value, headers and position.
#include "harness.hpp"

namespace samsa::test {
namespace {

class ReadTopicTest : public BrokerTest {
 protected:
  std::vector<admin::ReadRecord> read(const admin::ReadOptions& options) {
    std::vector<admin::ReadRecord> out;
    admin::read_topic(Broker::get().cluster(), topic, options, [&](const admin::ReadRecord& r) {
      out.push_back(r);
      return true;
    });
    return out;
  }
};

TEST_F(ReadTopicTest, ReadsEveryPartitionFromTheBeginningToItsEndInOrder) {
  Broker::get().create_topic(topic, 2);
  produce(topic, 0, 10, 2);
  const auto records = read({.from_beginning = true, .until_end = true});
  ASSERT_EQ(records.size(), 10u);
  std::map<std::int32_t, std::int64_t> next;
  for (const auto& r : records) {
    EXPECT_EQ(r.offset, next[r.partition]++) << "in order within partition " << r.partition;
    EXPECT_EQ(r.topic, topic);
    ASSERT_TRUE(r.key && r.value);
    const auto id = nlohmann::json::parse(*r.value).at("id").get<std::int64_t>();
    EXPECT_EQ(*r.key, std::to_string(id));
    EXPECT_EQ(id % 2, r.partition);
    EXPECT_GT(r.timestamp_ms, 0);
  }
  EXPECT_EQ(next[0], 5);
  EXPECT_EQ(next[1], 5);
  // Nothing was joined or committed: the reader leaves no group offsets behind.
  EXPECT_EQ(committed("samsa-consume", topic, 0), -1);
}

TEST_F(ReadTopicTest, HeadersNullValuesAndOnePartitionFromAnOffset) {
  Broker::get().create_topic(topic, 1);
  App app;
  app.setup([](Settings& s) {
    s.kafka = Broker::get().properties();
    s.kafka["bootstrap.servers"] = Broker::get().bootstrap();
  });
  for (int i = 0; i < 4; ++i)
    app.producer().produce_sync(OutgoingMessage{topic, std::nullopt, i == 3 ? std::nullopt : std::optional<std::string_view>("v"),
                                                {{"original_offset", std::to_string(i)}, {"empty", std::nullopt}}, 0});
  const auto records = read({.partition = 0, .offset = 2, .until_end = true});
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].offset, 2);
  EXPECT_FALSE(records[0].key);
  ASSERT_EQ(records[0].headers.size(), 2u);
  EXPECT_EQ(records[0].headers[0].first, "original_offset");
  EXPECT_EQ(records[0].headers[0].second, std::optional<std::string>("2"));
  EXPECT_EQ(records[0].headers[1].first, "empty");
  EXPECT_FALSE(records[0].headers[1].second);
  EXPECT_FALSE(records[1].value) << "a tombstone";
}

TEST_F(ReadTopicTest, CountStopsAndTheCallbackCanStop) {
  Broker::get().create_topic(topic, 1);
  produce(topic, 0, 20);
  EXPECT_EQ(read({.from_beginning = true, .count = 7}).size(), 7u);
  int seen = 0;
  const auto n = admin::read_topic(Broker::get().cluster(), topic, {.from_beginning = true},
                                   [&](const admin::ReadRecord&) { return ++seen < 3; });
  EXPECT_EQ(n, 3);
  // From the end: nothing comes, and the stop function ends the wait.
  const auto start = std::chrono::steady_clock::now();
  const auto none = admin::read_topic(
      Broker::get().cluster(), topic, {}, [](const admin::ReadRecord&) { return true; },
      [&] { return std::chrono::steady_clock::now() - start > 2s; });
  EXPECT_EQ(none, 0);
}

TEST_F(ReadTopicTest, BadRequestsAreClearErrors) {
  Broker::get().create_topic(topic, 2);
  EXPECT_THROW(read({.offset = 3}), std::invalid_argument);
  EXPECT_THROW(read({.partition = 2, .until_end = true}), std::invalid_argument);
  try {
    admin::read_topic(Broker::get().cluster(), unique_name("missing"), {.until_end = true},
                      [](const admin::ReadRecord&) { return true; });
    ADD_FAILURE() << "a missing topic was read";
  } catch (const KafkaError& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace samsa::test
