#include "runtime/worker_pool.hpp"

#include <pthread.h>

#include <string>

namespace samsa::runtime {
namespace {
thread_local int current_slot = -1;
}  // namespace

int WorkerPool::slot() { return current_slot; }

void JobGroup::add() {
  std::lock_guard lock(mu_);
  ++pending_;
}

void JobGroup::done() {
  std::lock_guard lock(mu_);
  if (--pending_ == 0) cv_.notify_all();
}

void JobGroup::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return pending_ == 0; });
}

bool JobGroup::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pending_ == 0; });
}

std::size_t JobGroup::pending() const {
  std::lock_guard lock(mu_);
  return pending_;
}

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      current_slot = i;
      work();
    });
    std::string name = "samsa-worker-" + std::to_string(i);
    pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(JobGroup& group, std::function<void()> job) {
  group.add();
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(&group, std::move(job));
  }
  cv_.notify_one();
}

void WorkerPool::submit_front(JobGroup& group, std::function<void()> job) {
  group.add();
  {
    std::lock_guard lock(mu_);
    queue_.emplace_front(&group, std::move(job));
  }
  cv_.notify_one();
}

std::size_t WorkerPool::cancel(JobGroup& group) {
  std::size_t n = 0;
  {
    std::lock_guard lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->first != &group) {
        ++it;
        continue;
      }
      it = queue_.erase(it);
      ++n;
    }
  }
  for (std::size_t i = 0; i < n; ++i) group.done();
  return n;
}

void WorkerPool::work() {
  for (;;) {
    std::pair<JobGroup*, std::function<void()>> item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    item.second();
    // The last touch of the group: its owner may destroy it once wait() returned.
    item.first->done();
  }
}

}  // namespace samsa::runtime
