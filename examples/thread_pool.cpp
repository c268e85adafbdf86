// SPDX-License-Identifier: MIT
// Fans out 1,000 webhook calls and continues each one on a plain std::thread pool: no
// thread ever blocks waiting for an answer. when_all() then reports once, on the pool.
//
//   thread_pool [http://127.0.0.1:8000/multiply]
#include <http_task/http_task.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// The pool an application already has. http_task needs only post(job).
class ThreadPool {
 public:
  explicit ThreadPool(unsigned n) {
    for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void post(http_task::Job job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      http_task::Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<http_task::Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

int main(int argc, char** argv) {
  std::string endpoint = argc > 1 ? argv[1] : "http://127.0.0.1:8000/multiply";
  ThreadPool pool(4);

  // Every continuation of this Client's results runs on the pool.
  http_task::ClientOptions options;
  options.executor = std::ref(pool);
  http_task::Client client(options);
  http_task::URL multiply(endpoint, client);

  std::atomic<long> total{0};
  std::vector<http_task::AsyncResult<int>> calls;
  for (int i = 0; i < 1000; ++i) {
    calls.push_back(multiply.get_async<int>({{"x", i}, {"y", 2}}).then([&total](int product) {
      total += product;  // on a pool thread, as soon as this answer is in
      return product;
    }));
  }

  std::promise<int> finished;  // only main() waits, and only to know when to exit
  http_task::when_all(std::move(calls)).then([&](std::vector<http_task::AsyncResult<int>> done) {
    int failed = 0;
    for (auto& r : done) {
      try {
        r.get();
      } catch (const http_task::Error& e) {
        if (++failed == 1) std::cerr << "thread_pool: first failure: " << e.what() << "\n";
      }
    }
    std::cout << "1000 calls, " << failed << " failed, sum of products " << total << "\n";
    finished.set_value(failed);
  });
  return finished.get_future().get() == 0 ? 0 : 1;
}
