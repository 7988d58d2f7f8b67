#pragma once
// A partition of a topic, by name and number: the key Samsa uses wherever it names one
// partition (a member's assignment, the runtime's partitions, the committed offsets asked
// for). Ordered by topic, then partition.
#include <compare>
#include <cstdint>
#include <string>

namespace samsa {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;

  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
};

}  // namespace samsa
