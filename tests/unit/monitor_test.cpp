// Monitor: inline subscribers on the publishing thread, the others on the monitor's thread
// in publish order; flush(); a throwing subscriber; a full queue drops and counts.
#include "samsa/instrumentation.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace samsa {
namespace {

Event numbered(std::size_t n) { return {EventType::poll, "g", {}, n, {}}; }

TEST(Monitor, AsynchronousSubscribersGetEveryEventInOrderOnTheMonitorsThread) {
  Monitor monitor;
  std::mutex mu;
  std::vector<std::size_t> seen;
  std::set<std::thread::id> threads;
  monitor.subscribe([&](const Event& e) {
    std::lock_guard lock(mu);
    seen.push_back(e.count);
    threads.insert(std::this_thread::get_id());
  });
  for (std::size_t i = 0; i < 1000; ++i) monitor.publish(numbered(i));
  ASSERT_TRUE(monitor.flush());
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 1000u);
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i);
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_NE(*threads.begin(), std::this_thread::get_id());
}

TEST(Monitor, InlineSubscribersRunBeforePublishReturnsAndEventsAreStamped) {
  Monitor monitor;
  std::thread::id where;
  std::chrono::system_clock::time_point at{};
  monitor.subscribe_inline([&](const Event& e) {
    where = std::this_thread::get_id();
    at = e.at;
  });
  const auto before = std::chrono::system_clock::now();
  monitor.publish(numbered(1));
  EXPECT_EQ(where, std::this_thread::get_id());
  EXPECT_GE(at, before);
}

TEST(Monitor, AThrowingSubscriberDoesNotStopTheOthers) {
  Monitor monitor;
  std::atomic<int> inline_calls{0}, async_calls{0};
  monitor.subscribe_inline([](const Event&) { throw std::runtime_error("subscriber bug"); });
  monitor.subscribe_inline([&](const Event&) { ++inline_calls; });
  monitor.subscribe([](const Event&) { throw std::runtime_error("subscriber bug"); });
  monitor.subscribe([&](const Event&) { ++async_calls; });
  EXPECT_NO_THROW(monitor.publish(numbered(1)));
  EXPECT_NO_THROW(monitor.publish(numbered(2)));
  ASSERT_TRUE(monitor.flush());
  EXPECT_EQ(inline_calls, 2);
  EXPECT_EQ(async_calls, 2);
}

TEST(Monitor, ASubscriberTooFarBehindLosesNewerEventsCountedAndNeverBlocksPublish) {
  Monitor monitor;
  std::atomic<bool> release{false};
  std::atomic<std::size_t> delivered{0};
  monitor.subscribe([&](const Event&) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++delivered;
  });
  const std::size_t n = Monitor::kQueueCapacity + 500;
  // A publish that waited for the subscriber would hang here (the test's timeout fails it).
  for (std::size_t i = 0; i < n; ++i) monitor.publish(numbered(i));
  // kQueueCapacity wait or are in the subscriber's hands: the rest dropped.
  EXPECT_GE(monitor.dropped(), 499u);
  EXPECT_LE(monitor.dropped(), 500u);
  release = true;
  ASSERT_TRUE(monitor.flush(std::chrono::milliseconds(30000)));
  EXPECT_EQ(delivered + monitor.dropped(), n);
}

TEST(Monitor, WithoutSubscribersItIsEmpty) {
  Monitor monitor;
  EXPECT_TRUE(monitor.empty());
  monitor.subscribe_inline([](const Event&) {});
  EXPECT_FALSE(monitor.empty());
}

}  // namespace
}  // namespace samsa
