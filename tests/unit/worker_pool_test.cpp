// The worker pool's contract for the scheduler: jobs of a group can be waited for, queued
// jobs can be taken back (a revoked partition's job that never started), and a job can jump
// the queue (revoked() ahead of the backlog).
#include "runtime/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace samsa::runtime {
namespace {

using namespace std::chrono_literals;

// Holds the pool's only worker until released.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false, entered = false;
  void hold() {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void wait_entered() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

TEST(WorkerPool, CancelTakesBackQueuedJobsOfOneGroupAndNotTheRunningOne) {
  WorkerPool pool(1);
  Gate gate;
  JobGroup running, revoked, other;
  std::atomic<int> ran_revoked{0}, ran_other{0};
  pool.submit(running, [&] { gate.hold(); });
  gate.wait_entered();
  pool.submit(revoked, [&] { ++ran_revoked; });
  pool.submit(other, [&] { ++ran_other; });
  pool.submit(revoked, [&] { ++ran_revoked; });
  EXPECT_EQ(pool.cancel(running), 0u) << "a running job is not taken back";
  EXPECT_EQ(pool.cancel(revoked), 2u);
  EXPECT_TRUE(revoked.wait_for(0ms)) << "cancelled jobs count as finished";
  gate.release();
  running.wait();
  other.wait();
  EXPECT_EQ(ran_revoked, 0);
  EXPECT_EQ(ran_other, 1);
}

TEST(WorkerPool, SubmitFrontRunsAheadOfTheQueue) {
  WorkerPool pool(1);
  Gate gate;
  JobGroup group;
  std::mutex mu;
  std::vector<int> order;
  auto record = [&](int n) {
    return [&, n] {
      std::lock_guard lock(mu);
      order.push_back(n);
    };
  };
  pool.submit(group, [&] { gate.hold(); });
  gate.wait_entered();
  pool.submit(group, record(1));
  pool.submit(group, record(2));
  pool.submit_front(group, record(3));
  gate.release();
  group.wait();
  EXPECT_EQ(order, (std::vector<int>{3, 1, 2}));
}

}  // namespace
}  // namespace samsa::runtime
