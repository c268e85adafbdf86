// SPDX-License-Identifier: MIT
// The only door into the loop: threads queue commands here and wake whoever runs the
// loop (driver.hpp) through a WakeSignal (an eventfd, or a pipe on the portable
// backend, wake_signal.hpp); libcurl handles are never touched by two
// threads at once.
#pragma once

#include <http_task/detail/loop/wake_signal.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class Transfer;

class Inbox {
 public:
  enum class Kind { start, cancel };
  struct Command {
    Kind kind;
    std::shared_ptr<Transfer> call;
  };

  // use_pipe: wake through a pipe rather than an eventfd (the portable backend).
  explicit Inbox(bool use_pipe = false) : wake_(use_pipe) {}
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  int fd() const noexcept { return wake_.fd(); }

  // Returns false when the loop is closed: the caller must answer the call itself.
  // Out of memory, it throws, and the caller (start_with()) answers the call too: the
  // call is counted only once it is queued.
  bool push(Command command) {
    bool write_wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return false;
      const bool start = command.kind == Kind::start;
      queue_.push_back(std::move(command));  // may throw (memory): then not counted
      if (start) call_started();
      if (std::this_thread::get_id() == loop_thread_.load(std::memory_order_relaxed)) {
        // The loop drains this before it sleeps again: no syscall needed.
        self_posted_.store(true, std::memory_order_relaxed);
      } else if (!wake_pending_) {
        // One wake-up per batch: calls queued while one is pending ride along.
        wake_pending_ = true;
        write_wake = true;
      }
    }
    if (write_wake) wake();
    return true;
  }

  // Wakes the loop without a command (a driver asleep in run() has other work).
  void notify() noexcept { wake(); }

  // Refuses every later command and wakes the loop so it can wind down.
  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    wake();
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
  }

  // The loop's driver: takes everything queued so far. fd_readable: the wait reported the
  // descriptor, which must then be read or it stays readable. Otherwise it is read only
  // when a wake-up was written: a syscall saved per call queued by the thread that runs
  // the loop. The descriptor is read before the queue is taken, never after: a wake-up
  // written for a command pushed after the queue was taken must stay for the next turn.
  void take(std::vector<Command>& out, bool fd_readable) {
    self_posted_.store(false, std::memory_order_relaxed);
    bool read = fd_readable;
    if (!read) {
      std::lock_guard<std::mutex> lock(mutex_);
      read = wake_pending_;
    }
    if (read) wake_.drain();
    std::lock_guard<std::mutex> lock(mutex_);
    out.swap(queue_);
    wake_pending_ = false;
  }

  // Calls started and not yet retired by the loop: the queue-length limit.
  std::size_t calls() const noexcept { return calls_.load(std::memory_order_relaxed); }
  void call_started() noexcept { calls_.fetch_add(1, std::memory_order_relaxed); }
  void call_retired() noexcept { calls_.fetch_sub(1, std::memory_order_relaxed); }

  // Jobs queued on the Client's completion queue and not yet run: they hold answers too,
  // so they count against the same limit (ClientOptions::max_pending_calls).
  std::size_t backlog() const noexcept { return backlog_.load(std::memory_order_relaxed); }
  void job_queued() noexcept { backlog_.fetch_add(1, std::memory_order_relaxed); }
  void job_done() noexcept { backlog_.fetch_sub(1, std::memory_order_relaxed); }

  // Calls a continuation waits for (then, when_all, co_await), not yet retired.
  void watch() noexcept { watched_.fetch_add(1, std::memory_order_relaxed); }
  void unwatch() noexcept { watched_.fetch_sub(1, std::memory_order_relaxed); }
  long watched() const noexcept { return watched_.load(std::memory_order_relaxed); }

  // Whether the calling thread holds the loop's role right now.
  bool on_loop_thread() const noexcept {
    return loop_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

  bool self_posted() const noexcept { return self_posted_.load(std::memory_order_relaxed); }
  void set_loop_thread(std::thread::id id) noexcept {
    loop_thread_.store(id, std::memory_order_relaxed);
  }

 private:
  void wake() noexcept { wake_.signal(); }

  WakeSignal wake_;
  mutable std::mutex mutex_;
  std::vector<Command> queue_;
  bool wake_pending_ = false;
  bool closed_ = false;
  std::atomic<bool> self_posted_{false};
  std::atomic<std::size_t> calls_{0};
  std::atomic<std::size_t> backlog_{0};
  std::atomic<long> watched_{0};
  std::atomic<std::thread::id> loop_thread_{};
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
