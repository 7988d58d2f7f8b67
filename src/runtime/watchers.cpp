// Listener (listener.hpp): the watchers, threads of their own beside the listener thread
// (start() starts them, the destructor joins them; both end soon after stop):
// - watch_watermarks, only while observed and with a lag_interval: every lag_interval the
//   assigned partitions' committed offsets and high watermarks (EventType::watermarks),
//   then the group's description (EventType::group_described). Each request blocks up to
//   5 s on this thread, never the listener's poll.
// - watch_missing_topics, only under the consumer group protocol (KIP-848), where
//   librdkafka reports nothing for a subscribed topic that does not exist: the topics'
//   metadata every 10 s until each one exists (then the thread ends).
// warn_missing_topic() warns once per topic, from any thread (the topic watcher, or the
// listener's on_consumer_error for librdkafka's own report).
#include <errno.h>  // program_invocation_short_name
#include <spdlog/fmt/fmt.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/listener.hpp"

namespace samsa::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

void Listener::watch_watermarks() {
  while (!stop_.load()) {
    std::vector<TopicPartition> parts;
    {
      std::lock_guard lock(partitions_mu_);
      for (const auto& [key, p] : partitions_) parts.push_back(key);
    }
    Event e{EventType::watermarks, name(), {}, 0, {}};
    e.at = std::chrono::system_clock::now();
    std::vector<std::int64_t> committed;
    // One OffsetFetch for all of them; -1 for each when the coordinator does not answer.
    if (!parts.empty() && client_->committed_offsets(parts, milliseconds(5000), committed))
      committed.assign(parts.size(), -1);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (stop_.load()) return;
      const auto& [topic, partition] = parts[i];
      std::int64_t low = -1, high = -1;
      // One ListOffsets round trip; a partition whose broker does not answer is left out
      // (its lag keeps its last value), the broker being away is reported by the loop.
      if (!client_->watermarks(topic, partition, milliseconds(5000), low, high)) {
        e.offsets.push_back({topic, partition, high});
        e.committed.push_back(committed[i]);
      }
    }
    if (!e.offsets.empty()) publish(e);
    if (!stop_.load()) publish_group_description();
    const auto until = Clock::now() + settings_.lag_interval;
    while (!stop_.load() && Clock::now() < until) std::this_thread::sleep_for(milliseconds(50));
  }
}

void Listener::publish_group_description() {
  Event e{EventType::group_described, name(), {}, 0, {}};
  e.at = std::chrono::system_clock::now();
  // Even with no partition assigned here: the other members are what the page shows.
  admin::GroupDescription d = client_->describe_group(milliseconds(5000));
  if (d.known) {
    e.reason = std::move(d.state);
    e.members = std::move(d.members);
  } else {
    e.error = d.reason.empty() ? std::string("the broker did not say") : std::move(d.reason);
  }
  publish(e);
}

void Listener::warn_missing_topic(const std::string& topic) {
  {
    std::lock_guard lock(warned_mu_);
    if (!warned_topics_.insert(topic).second) return;
  }
  // glibc's name of the running program (argv[0]'s last part): the command to suggest.
  logger_.warn(fmt::format(
      "consumer group {}: topic '{}' does not exist (yet); Samsa waits for it. Create it "
      "with `{} topics create` or your usual tooling",
      name(), topic, program_invocation_short_name));
}

void Listener::watch_missing_topics() {
  std::vector<std::string> unknown;
  for (const auto& t : group_.topics()) unknown.push_back(t->name());
  while (!unknown.empty() && !stop_.load()) {
    for (auto it = unknown.begin(); it != unknown.end() && !stop_.load();) {
      // A broker that does not answer is reported by the poll loop; only a definite
      // "unknown topic" counts here.
      const std::optional<bool> exists = client_->topic_exists(*it, milliseconds(3000));
      if (exists == false) warn_missing_topic(*it);
      it = exists == true ? unknown.erase(it) : it + 1;
    }
    for (int i = 0; i < 100 && !stop_.load(); ++i) std::this_thread::sleep_for(milliseconds(100));
  }
}

}  // namespace samsa::runtime
