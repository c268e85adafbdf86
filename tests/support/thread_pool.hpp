// SPDX-License-Identifier: MIT
// A small thread pool, the kind of executor users bring: both post(job) and job-taking
// call syntax, so tests can hand it over either way.
#pragma once

#include <http_task/executor.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace http_task_test {

class TestThreadPool {
 public:
  explicit TestThreadPool(int n) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
          cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          http_task::Job job = std::move(jobs_.front());
          jobs_.pop_front();
          lock.unlock();
          job();
          ++ran;
          lock.lock();
        }
      });
  }
  TestThreadPool(const TestThreadPool&) = delete;
  TestThreadPool& operator=(const TestThreadPool&) = delete;
  ~TestThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void post(http_task::Job job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  void operator()(http_task::Job job) { post(std::move(job)); }

  bool owns(std::thread::id id) const {
    for (auto& t : threads_)
      if (t.get_id() == id) return true;
    return false;
  }

  std::atomic<long> ran{0};  // jobs run so far

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<http_task::Job> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace http_task_test
