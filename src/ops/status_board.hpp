#pragma once
// StatusBoard: what the operations surface knows about each consumer group of this
// process, built from the monitor's events only (no I/O, no clock of its own: the caller
// passes the time), and the detectors that read it.
//
// Threads: apply() on the monitor's thread; check(), groups(), warnings() from any thread
// (the HTTP server's, the detectors'); one mutex guards everything.
//
// Offsets are Kafka's "next offset to consume": committed 42 means 0..41 are done.
// Lag is the high watermark minus the committed offset, both read from the brokers
// (EventType::watermarks), as kafka-consumer-groups.sh reports it.
// The group's members (of every process) are the latest EventType::group_described; a
// reading that could not say replaces them with its reason, never with an empty list.
//
// Detectors (each raises a Warning once when it starts to hold, and again only after it
// stopped holding):
//  - committed_backwards: a partition's committed offset went below one confirmed
//    earlier (a commit of this process, or the coordinator's answer to a reading that
//    began after that confirmation): another member, a zombie or an offset reset moved it.
//  - paused_lag_growing: a paused partition whose lag grew at 3 readings while it stayed
//    paused (readings with no change in between do not count; a smaller lag starts over).
//  - stuck_partition: an assigned, unpaused partition with lag > 0 whose consumer
//    handled no batch for stuck_partition_after.
// (Stuck jobs, loops and rebalances come from the listeners' own state: ops/health.hpp.)
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "samsa/instrumentation.hpp"
#include "samsa/topic_partition.hpp"

namespace samsa::ops {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

struct Warning {
  SystemClock::time_point at;
  std::string kind;  ///< "committed_backwards", "paused_lag_growing", "stuck_partition", ...
  std::string group, topic;
  std::int32_t partition = -1;
  std::string message;  ///< one sentence for the log and the status page
};

struct PartitionStatus {
  std::string topic;
  std::int32_t partition = 0;
  bool assigned = false;
  std::int64_t consumed = -1;   ///< after the last batch consumed (its last offset + 1)
  std::int64_t marked = -1;     ///< the last mark handed to librdkafka
  std::int64_t committed = -1;  ///< the last committed offset confirmed by the broker
  std::int64_t high_watermark = -1;
  /// high_watermark - committed when both are known, else -1.
  std::int64_t lag() const { return high_watermark >= 0 && committed >= 0 ? std::max<std::int64_t>(0, high_watermark - committed) : -1; }
  bool paused = false;
  std::string pause_reason;
  int attempt = 0;  ///< consecutive failures (0: none since the last success)
  std::string last_error;
  SystemClock::time_point last_error_at{};
  std::uint64_t messages = 0, bytes = 0;
  SteadyClock::time_point last_progress{};  ///< last batch consumed, or the assignment
  // Detectors.
  SystemClock::time_point committed_at{};  ///< when `committed` was confirmed
  std::int64_t last_paused_lag = -1;
  int lag_growth = 0;
  bool lag_growing = false;
  bool stuck = false;
  bool went_backwards = false;
};

struct RebalanceRecord {
  SystemClock::time_point at;
  std::string kind;  ///< "assigned", "revoked", "lost"
  std::vector<TopicPartitionOffset> partitions;
  std::chrono::nanoseconds duration{0};
};

struct GroupStatus {
  std::string name;
  std::map<TopicPartition, PartitionStatus> partitions;  ///< assigned or seen
  std::deque<RebalanceRecord> rebalances;  ///< the latest kRecentRebalances
  std::uint64_t rebalance_count = 0;
  std::string last_error;
  SystemClock::time_point last_error_at{};
  /// The latest EventType::group_described: when it was read (epoch: not yet), and either
  /// the coordinator's state and members (members_error empty) or why they are unknown.
  SystemClock::time_point described_at{};
  std::string group_state;
  std::vector<GroupMember> members;
  std::string members_error;
  /// True when a reading said who the members are (an empty list then means none).
  bool members_known() const { return described_at != SystemClock::time_point{} && members_error.empty(); }
};

class StatusBoard {
 public:
  static constexpr std::size_t kRecentRebalances = 20;
  static constexpr std::size_t kRecentWarnings = 50;
  static constexpr int kLagGrowthReadings = 3;

  explicit StatusBoard(std::chrono::milliseconds stuck_partition_after) : stuck_after_(stuck_partition_after) {}

  /// Records `e`; returns the warnings it raised. `now`: the steady time it arrived.
  std::vector<Warning> apply(const Event& e, SteadyClock::time_point now);
  /// The time-based detectors (stuck_partition); returns the warnings raised now.
  std::vector<Warning> check(SteadyClock::time_point now);

  /// Records a warning raised elsewhere (the health detectors).
  void report(const Warning& w);

  std::vector<GroupStatus> groups() const;
  /// The latest kRecentWarnings warnings, oldest first.
  std::vector<Warning> warnings() const;
  /// How many times each detector fired since start, by kind.
  std::map<std::string, std::uint64_t> warning_counts() const;
  /// Whether the shutdown started.
  bool stopping() const;

 private:
  PartitionStatus& part(const std::string& group, const std::string& topic, std::int32_t partition);
  void raise(std::vector<Warning>& out, Warning w);  // under mu_
  void committed(const std::string& group, const TopicPartitionOffset& o, SystemClock::time_point at,
                 SystemClock::time_point known_before, std::vector<Warning>& out);  // under mu_

  const std::chrono::milliseconds stuck_after_;
  mutable std::mutex mu_;
  std::map<std::string, GroupStatus> groups_;
  std::deque<Warning> warnings_;
  std::map<std::string, std::uint64_t> warning_counts_;
  bool stopping_ = false;
};

}  // namespace samsa::ops
