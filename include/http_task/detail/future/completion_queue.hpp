// SPDX-License-Identifier: MIT
// A Client's own executor for continuations nobody gave an executor to. User code
// must not run on the loop thread (a slow continuation would stall every call), so
// jobs go to a queue that is run either by one completion thread, started on first use,
// or, for a Client without its own thread, by the thread driving it (run_once()).
#pragma once

#include <http_task/detail/future/call_state.hpp>
#include <http_task/detail/future/unique_function.hpp>
#include <http_task/detail/loop/fork_generation.hpp>
#include <http_task/detail/loop/inbox.hpp>
#include <http_task/error.hpp>
#include <http_task/executor.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class CompletionQueue final : public std::enable_shared_from_this<CompletionQueue>,
                              public WaitHelper {
 public:
  // own_thread: jobs run on a thread of this queue; otherwise run_pending() runs them.
  explicit CompletionQueue(bool own_thread) : own_thread_(own_thread) {}
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;
  ~CompletionQueue() = default;

  // Called after a job is queued from a thread other than the driver's, so that a
  // driver asleep in the loop wakes up to run it (user-driven mode only).
  void set_wake(UniqueFunction wake) { wake_ = std::move(wake); }
  // Where queued jobs are counted, against the Client's max_pending_calls.
  void count_in(std::shared_ptr<Inbox> inbox) { counter_ = std::move(inbox); }

  void set_driver(std::thread::id id) {
    std::lock_guard<std::mutex> lock(mutex_);
    driver_ = id;
  }

  // Throws http_task::Error when the completion thread cannot be started (EAGAIN: out
  // of threads or memory); the job is then not queued, so its result fails with that
  // error, and a later post tries again.
  void post(Job job) {
    // In a forked child the completion thread is not there and the lock may have been
    // held by it at the fork: the job runs here rather than never.
    if (generation_ != ForkGeneration::current()) {
      run(job);
      return;
    }
    bool queued = false;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!done_) {
        queued = true;
        jobs_.push_back(std::move(job));
        if (counter_) counter_->job_queued();
        if (own_thread_) {
          if (!started_) {
            try {
              worker_ = std::thread([self = shared_from_this()] { self->work(); });
            } catch (const std::exception& e) {
              // Not started: nothing would ever run this queue, so the job goes back to
              // its poster as an error rather than wait here forever.
              job = std::move(jobs_.back());
              jobs_.pop_back();
              if (counter_) counter_->job_done();
              throw Error(std::string("http_task: could not start the Client's completion "
                                      "thread: ") +
                          e.what());
            }
            started_ = true;
          } else if (jobs_.size() == 1) {
            cv_.notify_one();
          }
        } else {
          wake = jobs_.size() == 1 && std::this_thread::get_id() != driver_;
        }
      }
    }
    if (queued) {
      if (wake && wake_) wake_();
      return;
    }
    // Closed: the Client is gone, so the job runs here rather than never.
    try {
      job();
    } catch (...) {
    }
  }

  bool has_pending() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !jobs_.empty();
  }

  // The completion thread, waiting in one of its jobs for a result: runs the jobs queued
  // behind that job meanwhile, one at a time, since the result may wait for one of them.
  bool help_until(const CallState& state, const TimePoint* deadline) override {
    // Wakes this thread when the result completes; the state is shared, only its
    // continuation list changes.
    const_cast<CallState&>(state).on_complete([self = shared_from_this()] {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->cv_.notify_all();
    });
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (state.ready()) return true;
      Job job;
      if (next_ < batch_.size()) {
        job = std::move(batch_[next_++]);
      } else if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.erase(jobs_.begin());
      } else if (!deadline) {
        cv_.wait(lock);
        continue;
      } else if (cv_.wait_until(lock, *deadline) == std::cv_status::timeout) {
        return state.ready();
      } else {
        continue;
      }
      lock.unlock();
      run(job);
      job = Job();  // its captures may post again: not under the lock
      lock.lock();
    }
  }

  // Driver thread: runs the jobs queued so far (not those they queue in turn, so a job
  // that keeps posting cannot starve the loop). Returns how many ran.
  std::size_t run_pending() {
    std::vector<Job> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch.swap(jobs_);
    }
    for (auto& job : batch) run(job);
    return batch.size();
  }

  // Runs or waits for every job queued, including those they queue; afterwards post()
  // runs jobs inline. From the completion thread itself (a continuation destroying its
  // Client), that thread finishes the queue on its own after the caller returns.
  void close() {
    std::thread worker;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
      if (own_thread_) {
        if (!started_) done_ = true;
        worker = std::move(worker_);
      }
    }
    if (own_thread_) {
      cv_.notify_one();
      if (!worker.joinable()) return;
      if (worker.get_id() == std::this_thread::get_id())
        worker.detach();
      else
        worker.join();
      return;
    }
    for (;;) {
      std::vector<Job> batch;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (jobs_.empty()) {
          done_ = true;
          return;
        }
        batch.swap(jobs_);
      }
      for (auto& job : batch) run(job);
    }
  }

 private:
  void run(Job& job) noexcept {
    if (counter_) counter_->job_done();
    try {
      job();
    } catch (...) {
      // The library's jobs catch everything themselves; a stray one must not end us.
    }
  }

  void work() {
    this_thread_role().helper = this;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return !jobs_.empty() || closing_; });
      if (jobs_.empty()) {
        done_ = true;
        return;
      }
      // A member, so that a job waiting for a result (help_until) can run the jobs
      // behind it; only this thread touches it.
      batch_.swap(jobs_);
      next_ = 0;
      lock.unlock();
      while (next_ < batch_.size()) {
        Job job = std::move(batch_[next_++]);
        run(job);
      }  // a job's captures may post again: destroyed here, not under the lock
      batch_.clear();
      next_ = 0;
      lock.lock();
    }
  }

  const bool own_thread_;
  std::shared_ptr<Inbox> counter_;  // set before the first post, read-only afterwards
  UniqueFunction wake_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Job> jobs_;
  std::vector<Job> batch_;  // being run by the completion thread
  std::size_t next_ = 0;    // the next job of batch_ to run
  std::thread worker_;
  std::thread::id driver_;
  bool started_ = false;
  bool closing_ = false;
  bool done_ = false;
  const unsigned generation_ = ForkGeneration::current();  // the process it was made in
};

// The Executor face of a CompletionQueue.
struct CompletionQueueExecutor {
  std::shared_ptr<CompletionQueue> queue;
  void operator()(Job job) const { queue->post(std::move(job)); }
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
