#pragma once
// The worker threads shared by every consumer group of an app.
//
// Jobs are submitted in a JobGroup, which counts the unfinished ones so that their submitter
// can wait for them. Each partition has its own group and at most one job in flight (the
// listener starts the next only after the previous one ended), so the jobs of a partition
// never overlap and stay in order; the jobs of different partitions run in parallel on
// the pool's threads, first come first served.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace samsa::runtime {

/// Counts the unfinished jobs of one submitter.
class JobGroup {
 public:
  /// Blocks until every job submitted in this group finished.
  void wait();
  /// Waits at most `timeout`; returns true when every job finished.
  bool wait_for(std::chrono::milliseconds timeout);
  std::size_t pending() const;

 private:
  friend class WorkerPool;
  void add();
  void done();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t pending_ = 0;
};

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  /// Finishes the queued jobs, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues `job` in `group`. `job` must not throw (the runtime wraps user code).
  void submit(JobGroup& group, std::function<void()> job);
  /// Queues `job` ahead of every queued job (a revocation's revoked() must not wait behind
  /// the backlog of partitions that stay).
  void submit_front(JobGroup& group, std::function<void()> job);
  /// Takes `group`'s jobs that have not started out of the queue (each counts as finished
  /// in the group); returns how many. A job already running is not touched.
  std::size_t cancel(JobGroup& group);
  std::size_t size() const { return threads_.size(); }
  /// The calling thread's index in its pool (0 to size() - 1; what a worker keeps for its
  /// life, e.g. its transactional producer); -1 on a thread of no pool.
  static int slot();

 private:
  void work();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<JobGroup*, std::function<void()>>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace samsa::runtime
