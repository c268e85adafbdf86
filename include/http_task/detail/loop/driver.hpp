// SPDX-License-Identifier: MIT
// Who runs the EventLoop. libcurl handles may be used by any thread, one at a time, so
// running the loop is a role, held under a mutex, rather than a thread.
//
// A Client with its own thread keeps that thread as the fallback. But a thread waiting
// for a call (get(), wait()) runs the loop itself while nobody else does, and a call
// started while nobody runs it is handed to libcurl by the starting thread. The answer
// then wakes the thread that wants it, once, as in hand-written libcurl. Without this,
// each call costs two more thread switches: an eventfd wake-up of the loop thread to
// send it and a futex wake-up of the waiter to hand the answer back. On 2 cores shared
// with the server that was a third of the throughput at 1 call in flight.
//
// Nothing is left without a driver: a thread that lets the role go with calls still
// running leaves them to the loop thread, which takes over at once when another thread
// sleeps on a call or a continuation waits for one (then, when_all, co_await), and
// otherwise within kHandback unless a waiter has taken the role back by then.
#pragma once

#include <http_task/detail/future/call_state.hpp>
#include <http_task/detail/loop/inbox.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

class Driver {
 public:
  using Clock = std::chrono::steady_clock;

  // What the role gives the right to run: the EventLoop.
  class Engine {
   public:
    // Waits at most max_wait_ms (-1: until something happens) and does what is ready;
    // false once the loop is closing.
    virtual bool turn(int max_wait_ms) = 0;
    // Takes in one command that never went through the Inbox, without waiting.
    virtual void start_now(Inbox::Command command) = 0;
    // How many calls that a thread sleeps on were answered since the last ask.
    virtual int take_answered_sleepers() = 0;
    // Answers every call left with CancelledError.
    virtual void shutdown() = 0;

   protected:
    ~Engine() = default;
  };

  // helpers: whether waiting threads may run the loop (a Client with its own thread).
  Driver(std::shared_ptr<Inbox> inbox, bool helpers)
      : inbox_(std::move(inbox)), helpers_(helpers) {}
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  Inbox& inbox() noexcept { return *inbox_; }
  void attach(Engine& engine) { engine_ = &engine; }

  // Any thread: hands a command to the loop, running it here when nobody holds the
  // role. False once the loop is closed: the caller must answer the call itself.
  bool submit(Inbox::Command command) {
    if (!helpers_) return inbox_->push(std::move(command));
    std::unique_lock<std::mutex> lock(mutex_);
    // Pushed under the lock when someone holds the role, so that a holder letting it
    // go sees this call and cannot leave it behind.
    if (held_ || closed_) return inbox_->push(std::move(command));
    // Straight to the loop: the Inbox's lock, queue and wake-up are for handing a
    // command to another thread, and there is none. (Commands others queue meanwhile
    // wake the next turn through the eventfd.) Not closed: closing takes mutex_.
    Holding holding(*this, lock);
    engine_->start_now(std::move(command));
    return true;
  }

  // A thread about to wait for a call: runs the loop until `done()` or the deadline
  // (null: none), when nobody else holds the role. Returns false without waiting when
  // it could not take the role: the caller then sleeps, counted by Sleeping.
  template <class Done>
  bool drive_until(Done&& done, const Clock::time_point* deadline) {
    if (!helpers_) return false;
    std::unique_lock<std::mutex> lock(mutex_);
    if (held_ || closed_) return false;
    Holding holding(*this, lock);
    while (!done()) {
      int ms = -1;
      if (deadline) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
        if (left <= 0) break;
        ms = static_cast<int>(std::min<long long>(left, 24LL * 3600 * 1000));
      }
      if (!engine_->turn(ms)) break;  // closing: the loop thread answers what is left
    }
    return true;
  }

  // While alive, the current thread sleeps on one of this loop's calls: whoever lets
  // the role go must hand it to the loop thread rather than leave it free.
  class Sleeping {
   public:
    explicit Sleeping(Driver& d) : d_(d) {
      std::lock_guard<std::mutex> lock(d_.mutex_);
      if (++d_.sleepers_ == 1 && !d_.held_) d_.loop_cv_.notify_one();
    }
    ~Sleeping() {
      std::lock_guard<std::mutex> lock(d_.mutex_);
      --d_.sleepers_;
    }
    Sleeping(const Sleeping&) = delete;
    Sleeping& operator=(const Sleeping&) = delete;

   private:
    Driver& d_;
  };

  // A continuation now waits for a call: the loop thread must drive rather than wait
  // for a helper that may never come.
  void watch() {
    if (!helpers_) return;
    inbox_->watch();
    std::lock_guard<std::mutex> lock(mutex_);
    if (!held_) loop_cv_.notify_one();
  }

  // The loop thread's life: takes the role whenever calls would otherwise be left
  // without a driver, sleeps otherwise; at close, answers whatever is left.
  //
  // Whoever lets the role go with calls left must be sure that they are driven within
  // kHandback. While that happens often (a waiter calling get() in a loop lets the role
  // go twice per call), this thread checks every kHandback, which costs the waiters
  // nothing. After kQuiet without it, this thread sleeps without a timeout, and the
  // next one to let the role go with calls left wakes it (let_go). Checking every
  // kHandback for as long as calls were pending would wake this thread kHandback-often
  // for the whole life of a slow call, although no waiter needed it: a cost per second of
  // waiting, not per call (measured in bench/README.md).
  void serve() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (closed_) {
        loop_cv_.wait(lock, [&] { return !held_; });
        Holding holding(*this, lock);
        engine_->shutdown();
        return;
      }
      auto now = Clock::now();
      bool orphans = !held_ && inbox_->calls() > 0;
      if (orphans && (needed() || now - orphan_since_ >= kHandback)) {
        bool yielded = false;
        {
          Holding holding(*this, lock);
          while (!yielded && engine_->turn(-1) && inbox_->calls() > 0) {
            int answered = engine_->take_answered_sleepers();
            if (answered == 0 || inbox_->watched() > 0) continue;
            // A waiter was just answered and will likely call again: let it drive,
            // unless other threads still sleep on calls.
            std::lock_guard<std::mutex> relock(mutex_);
            yielded = sleepers_ <= answered;
          }
        }
        // The answered waiter still counts as a sleeper until it runs: give it time.
        if (yielded) loop_cv_.wait_for(lock, kHandback);
      } else if (orphans) {
        loop_cv_.wait_until(lock, orphan_since_ + kHandback);
      } else if (now - orphan_since_ < kQuiet) {
        loop_cv_.wait_for(lock, kHandback);
      } else {
        parked_ = true;
        loop_cv_.wait(lock);
        parked_ = false;
      }
    }
  }

  // Refuses every later command and has the loop wind down (the loop thread, or for a
  // Client without one, whoever destroys the EventLoop, answers what is left).
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    inbox_->close();  // wakes a holder asleep in the loop
    loop_cv_.notify_one();
  }

 private:
  // How long calls may run without a driver before the loop thread takes them.
  static constexpr Clock::duration kHandback = std::chrono::milliseconds(1);
  // How long after the role was last let go with calls left the loop thread keeps
  // checking every kHandback rather than sleeping until woken: a few checks cost less
  // than a wake-up from the thread letting go (a futex call) plus the checks after it.
  static constexpr Clock::duration kQuiet = 3 * kHandback;

  // Whether some thread depends on the loop thread rather than on a helper.
  bool needed() const { return sleepers_ > 0 || inbox_->watched() > 0; }

  // Holds the role from construction to destruction; the mutex is released meanwhile.
  class Holding {
   public:
    Holding(Driver& d, std::unique_lock<std::mutex>& lock) : d_(d), lock_(lock) {
      d_.held_ = true;
      d_.inbox_->set_loop_thread(std::this_thread::get_id());
      lock_.unlock();
    }
    ~Holding() {
      lock_.lock();
      d_.held_ = false;
      d_.inbox_->set_loop_thread(std::thread::id());
      d_.let_go();
    }
    Holding(const Holding&) = delete;
    Holding& operator=(const Holding&) = delete;

   private:
    Driver& d_;
    std::unique_lock<std::mutex>& lock_;
    LoopRoleScope role_;  // waits on this thread would stop the loop: refused
  };

  // The role was just let go (mutex held): decide who drives what is left.
  void let_go() {
    if (closed_) {
      loop_cv_.notify_one();
      return;
    }
    if (inbox_->calls() == 0) return;
    orphan_since_ = Clock::now();
    if (needed() || parked_) loop_cv_.notify_one();
  }

  std::shared_ptr<Inbox> inbox_;
  const bool helpers_;
  Engine* engine_ = nullptr;
  std::mutex mutex_;
  std::condition_variable loop_cv_;  // the loop thread sleeps here
  bool held_ = false;
  bool closed_ = false;
  bool parked_ = false;  // the loop thread sleeps until notified
  int sleepers_ = 0;
  Clock::time_point orphan_since_{};  // when the role was last let go with calls left
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
