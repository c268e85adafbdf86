// SPDX-License-Identifier: MIT
// Who drives a Client without its own thread (own_thread = false). The application
// does, with run_once()/run(). But a thread that waits for one of its results while
// nobody drives (the application's thread between two run_once() calls, or any other
// thread) would wait forever: answers only come from turns of the loop. So driving is
// a role, held under a mutex, and a waiter takes it while it is free: it runs turns,
// and the continuations queued for the driving thread (so a then()-result completes
// too), until its result is ready or its deadline passes, then gives the role back.
// While another thread drives, a waiter sleeps until its result is ready or the role
// is given back (then it takes it). Two threads never drive at once.
//
// run_once()/run() never take the role from a waiter in the middle of a turn: they
// claim it (no waiter takes it afterwards), wake the waiter's turn through the
// eventfd, and wait until the waiter gives it back. Two run_once()/run() at once are
// refused with std::logic_error, as is run_once()/run() from code the loop runs.
#pragma once

#include <http_task/detail/future/call_state.hpp>
#include <http_task/detail/future/completion_queue.hpp>
#include <http_task/detail/loop/event_loop.hpp>
#include <http_task/detail/loop/inbox.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

class UserDriver final : public WaitHelper, public std::enable_shared_from_this<UserDriver> {
 public:
  UserDriver(EventLoop& loop, std::shared_ptr<CompletionQueue> completions)
      : loop_(&loop), completions_(std::move(completions)), inbox_(loop.inbox()) {}
  UserDriver(const UserDriver&) = delete;
  UserDriver& operator=(const UserDriver&) = delete;

  // run_once()/run() start: takes the role, waiting for a waiter that holds it to give
  // it back after its current turn.
  void acquire_for_app() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (held_ && holder_ == std::this_thread::get_id())
      throw std::logic_error(
          "http_task::Client: run_once()/run() called from code its own loop runs");
    if (app_) throw std::logic_error("http_task::Client: driven from two threads at once");
    app_ = true;  // from now on no waiter takes the role
    if (held_) {
      inbox_->notify();  // ends the waiter's turn early
      cv_.wait(lock, [&] { return !held_; });
    }
    held_ = true;
    holder_ = std::this_thread::get_id();
  }

  void release_for_app() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = false;
      app_ = false;
      holder_ = std::thread::id();
    }
    cv_.notify_all();  // a waiter may take the role now
  }

  // Whether the current thread holds the role (the loop is on its stack).
  bool held_here() {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_ && holder_ == std::this_thread::get_id();
  }

  // A thread waiting for one of this Client's results (CallState::sleep): drives the
  // loop while nobody else does, sleeps otherwise. Returns state.ready().
  bool help_until(const CallState& state, const TimePoint* deadline) override {
    // Wakes this thread, asleep here or in the loop, when the result completes
    // elsewhere (another driver, an executor of the application's).
    const_cast<CallState&>(state).on_complete([self = shared_from_this()] { self->wake(); });
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (state.ready()) return true;
      if (deadline && std::chrono::steady_clock::now() >= *deadline) return false;
      if (closed_) {
        // The Client is being destroyed: it cancels the calls itself.
        lock.unlock();
        return state.sleep_here(deadline);
      }
      if (held_ || app_) {
        if (deadline)
          cv_.wait_until(lock, *deadline);
        else
          cv_.wait(lock);
        continue;
      }
      held_ = true;
      holder_ = std::this_thread::get_id();
      lock.unlock();
      try {
        turn(deadline);
      } catch (...) {  // out of memory in the loop: give the role back, then fail
        lock.lock();
        give_back();
        throw;
      }
      lock.lock();
      give_back();
    }
  }

  // ~Client, before the loop goes: no waiter drives it afterwards. A waiter in a turn
  // is woken and gives the role back at its end.
  void close() {
    std::unique_lock<std::mutex> lock(mutex_);
    closed_ = true;
    inbox_->notify();
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_ || app_; });
    loop_ = nullptr;
  }

 private:
  void wake() {
    { std::lock_guard<std::mutex> lock(mutex_); }  // not between a waiter's check and sleep
    cv_.notify_all();
    inbox_->notify();
  }

  // mutex_ held.
  void give_back() {
    held_ = false;
    holder_ = std::thread::id();
    cv_.notify_all();
  }

  // One turn, as run_once() takes it: the network, then the continuations queued for
  // the driving thread. Waits inside them are refused (LoopRoleScope), as in run_once().
  void turn(const TimePoint* deadline) {
    LoopRoleScope role;
    int ms = -1;
    if (deadline) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now())
              .count();
      ms = static_cast<int>(std::clamp<long long>(left, 0, 24LL * 3600 * 1000));
    }
    completions_->set_driver(std::this_thread::get_id());
    struct Unset {
      CompletionQueue& q;
      ~Unset() { q.set_driver(std::thread::id()); }
    } unset{*completions_};
    loop_->turn(completions_->has_pending() ? 0 : ms);
    completions_->run_pending();
  }

  EventLoop* loop_;  // null once closed
  std::shared_ptr<CompletionQueue> completions_;
  std::shared_ptr<Inbox> inbox_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool held_ = false;
  bool app_ = false;  // run_once()/run() holds the role or waits for it
  std::thread::id holder_;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
