#include "fake_admin_client.hpp"

namespace samsa::test {

namespace {

// librdkafka's UNKNOWN_TOPIC_OR_PART: what a broker answers for a partition it does not have.
constexpr int kUnknownTopicOrPart = 3;

// Takes the next error of `queue`, ok when it is empty.
kafka::Status next(std::deque<kafka::Status>& queue) {
  if (queue.empty()) return {};
  kafka::Status s = queue.front();
  queue.pop_front();
  return s;
}

std::string tp(const std::string& topic, std::int32_t partition) { return topic + "/" + std::to_string(partition); }

}  // namespace

std::vector<std::string> FakeAdminClient::calls_of(const std::string& prefix) const {
  std::vector<std::string> out;
  for (const auto& c : calls)
    if (c.starts_with(prefix)) out.push_back(c);
  return out;
}

FakeAdminClient::Partition* FakeAdminClient::find(const std::string& topic, std::int32_t partition) {
  auto it = topics.find(topic);
  if (it == topics.end() || partition < 0 || partition >= static_cast<std::int32_t>(it->second.size())) return nullptr;
  return &it->second[static_cast<std::size_t>(partition)];
}

kafka::Status FakeAdminClient::all_topics(milliseconds, std::vector<kafka::TopicMetadata>& out) {
  calls.push_back("all_topics");
  if (kafka::Status s = next(all_topics_errors)) return s;
  out.clear();
  for (const auto& [name, parts] : topics) out.push_back({name, {}, static_cast<int>(parts.size()), 1});
  return {};
}

kafka::Status FakeAdminClient::topic(const std::string& topic, milliseconds, std::vector<kafka::TopicMetadata>& out) {
  calls.push_back("topic " + topic);
  auto it = topics.find(topic);
  out = {it == topics.end() ? kafka::TopicMetadata{topic, kafka::status_of(kUnknownTopicOrPart), 0, 0}
                            : kafka::TopicMetadata{topic, {}, static_cast<int>(it->second.size()), 1}};
  return {};
}

bool FakeAdminClient::is_mock_cluster(milliseconds) {
  calls.push_back("is_mock_cluster");
  return mock_cluster;
}

int FakeAdminClient::controller_id(milliseconds) {
  calls.push_back("controller_id");
  return controller;
}

kafka::Status FakeAdminClient::create_topics(const std::vector<admin::TopicSpec>& specs, milliseconds,
                                             std::vector<kafka::CreatedTopic>& out) {
  std::string call = "create_topics";
  out.clear();
  for (const auto& spec : specs) {
    call += " " + spec.name;
    topics[spec.name].resize(static_cast<std::size_t>(spec.partitions));
    out.push_back({spec.name, {}});
  }
  calls.push_back(call);
  return {};
}

kafka::Status FakeAdminClient::describe_configs(const std::vector<admin::TopicSpec>&, milliseconds,
                                                std::vector<kafka::TopicConfigs>& out) {
  calls.push_back("describe_configs");
  out.clear();
  return {};
}

kafka::Status FakeAdminClient::describe_group(const std::string& name, milliseconds, kafka::DescribedGroup& out) {
  calls.push_back("describe_group " + name);
  if (kafka::Status s = next(describe_errors)) return s;
  out = group;
  return {};
}

kafka::Status FakeAdminClient::list_group_offsets(const std::string& name, milliseconds, kafka::GroupOffsets& out) {
  calls.push_back("list_group_offsets " + name);
  out = {};
  for (const auto& [topic, parts] : topics)
    for (std::size_t p = 0; p < parts.size(); ++p)
      if (parts[p].committed >= 0)
        out.offsets.push_back({topic, static_cast<std::int32_t>(p), parts[p].committed, parts[p].metadata, {}});
  return {};
}

kafka::Status FakeAdminClient::alter_group_offsets(const std::string& name, const std::vector<kafka::CommitOffset>& offsets,
                                                   milliseconds, kafka::GroupOffsets& out) {
  std::string call = "alter " + name;
  for (const auto& o : offsets) call += " " + tp(o.topic, o.partition) + "@" + std::to_string(o.offset);
  calls.push_back(call);
  if (kafka::Status s = next(alter_errors)) return s;
  out = {};
  if ((out.error = next(alter_group_errors))) return {};
  for (const auto& o : offsets) {
    kafka::CommitOffset answer = o;
    if (Partition* p = find(o.topic, o.partition)) {
      p->committed = o.offset;
      p->metadata = o.metadata;
    } else {
      answer.status = kafka::status_of(kUnknownTopicOrPart);
    }
    out.offsets.push_back(answer);
  }
  return {};
}

kafka::Status FakeAdminClient::committed(std::vector<kafka::CommitOffset>& offsets, milliseconds) {
  std::string call = "committed";
  for (const auto& o : offsets) call += " " + tp(o.topic, o.partition);
  calls.push_back(call);
  if (kafka::Status s = next(committed_errors)) return s;
  for (auto& o : offsets) {
    const Partition* p = find(o.topic, o.partition);
    o.offset = p ? p->committed : -1;
    o.metadata = p ? p->metadata : "";
    o.status = p ? kafka::Status() : kafka::status_of(kUnknownTopicOrPart);
  }
  return {};
}

kafka::Status FakeAdminClient::watermarks(const std::string& topic, std::int32_t partition, milliseconds,
                                          std::int64_t& low, std::int64_t& high) {
  calls.push_back("watermarks " + tp(topic, partition));
  const Partition* p = find(topic, partition);
  if (!p) return kafka::status_of(kUnknownTopicOrPart);
  low = p->low;
  high = p->high;
  return {};
}

kafka::Status FakeAdminClient::offsets_for_time(std::vector<kafka::TimeOffset>& offsets, std::int64_t time_ms,
                                                milliseconds) {
  std::string call = "offsets_for_time";
  for (const auto& o : offsets) call += " " + tp(o.topic, o.partition);
  calls.push_back(call + " @" + std::to_string(time_ms));
  for (auto& o : offsets) {
    if (!find(o.topic, o.partition)) {
      o.status = kafka::status_of(kUnknownTopicOrPart);
      continue;
    }
    o.offset = offset_at ? offset_at(o.topic, o.partition, time_ms) : -1;
  }
  return {};
}

kafka::Status FakeAdminClient::produce(const std::string& topic, std::int32_t partition, std::optional<std::string_view>,
                                       std::string_view) {
  calls.push_back("produce " + tp(topic, partition));
  ++delivered_;
  return {};
}

}  // namespace samsa::test
