// SPDX-License-Identifier: MIT
// The state one call shares between its future (the user's threads) and whoever
// completes it (the loop, a cancel, a shutdown). It completes exactly once: the first
// complete() wins, later ones are no-ops, so value, error and cancel never race.
// Out of memory (the loop's guarantee, event_loop.hpp): continuations that throw are
// caught in complete(), and then()'s continuation fails its own result when its job
// cannot be made.
#pragma once

#include <http_task/detail/call/uuid.hpp>
#include <http_task/detail/future/outcome.hpp>
#include <http_task/detail/future/unique_function.hpp>
#include <http_task/error.hpp>
#include <http_task/executor.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class CallState;

// Runs other work while the current thread waits for a result: a completion thread whose
// queue may hold the very continuation that result waits for (completion_queue.hpp).
class WaitHelper {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // Waits until state.ready() or the deadline (null: none), running queued work
  // meanwhile; returns state.ready().
  virtual bool help_until(const CallState& state, const TimePoint* deadline) = 0;

 protected:
  ~WaitHelper() = default;
};

// What the current thread does for the library, so that a wait that could never end
// is refused or made to progress instead (docs/blocking.md).
struct ThreadRole {
  // How many Client loops this thread runs right now (their role, run_once()/run(), or
  // code those run: log hook, signer, decoder, inline continuations). A wait here would
  // stop the very loop that must answer, so it throws instead.
  int loops = 0;
  // The completion queue this thread works for, which it runs while it waits.
  WaitHelper* helper = nullptr;
};
inline ThreadRole& this_thread_role() noexcept {
  thread_local ThreadRole role;
  return role;
}

// While alive, the current thread runs a Client's loop.
class LoopRoleScope {
 public:
  LoopRoleScope() noexcept { ++this_thread_role().loops; }
  ~LoopRoleScope() { --this_thread_role().loops; }
  LoopRoleScope(const LoopRoleScope&) = delete;
  LoopRoleScope& operator=(const LoopRoleScope&) = delete;
};

// The refusal of a wait on the thread that runs a loop: it would never end, since the
// answer can only come from the loop this wait stops.
inline void refuse_wait_on_loop_thread() {
  if (this_thread_role().loops > 0)
    throw std::logic_error(
        "http_task: waiting for an unfinished result (get, wait, wait_for, wait_until) on a "
        "thread that runs a Client's event loop (an inline_executor continuation, the "
        "on_call_finished hook, a RequestSigner, a Dispatcher, or code run by "
        "run_once()/run()) would never end: continue with then() or co_await instead, or run "
        "this code on another executor");
}

class CallState {
 public:
  explicit CallState(std::string id) : id_(std::move(id)), id_made_(true) {}
  // A new call: its id is a fresh UUID, written out on first use (uuid.hpp).
  explicit CallState(Uuid4 uuid) : uuid_(uuid) {}
  CallState(const CallState&) = delete;
  CallState& operator=(const CallState&) = delete;
  virtual ~CallState() = default;

  // HTTP attempts made so far; results that are not a call (then, when_all) made none.
  virtual int attempts() const noexcept { return 0; }

  // Any thread. Never changes once made, so the reference stays valid.
  const std::string& id() const {
    if (!id_made_.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!id_made_.load(std::memory_order_relaxed)) {
        id_ = uuid_.str();
        id_made_.store(true, std::memory_order_release);
      }
    }
    return id_;
  }
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  // Every wait throws std::logic_error when it would block the thread running a loop
  // (refuse_wait_on_loop_thread); a wait with no time left only looks.
  void wait() const {
    if (ready()) return;
    refuse_wait_on_loop_thread();
    block(nullptr);
  }

  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    if (ready()) return true;
    if (timeout <= timeout.zero()) return false;
    refuse_wait_on_loop_thread();
    // A century is forever; beyond it now() + timeout would overflow the clock.
    if (timeout > std::chrono::hours(24 * 365 * 100)) {
      block(nullptr);
      return true;
    }
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::ceil<std::chrono::steady_clock::duration>(timeout);
    return block(&until);
  }

  template <class Clock, class Duration>
  bool wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
    return ready() || wait_for(deadline - Clock::now());
  }

  // Valid once ready(): never written again after that.
  const Outcome& outcome() const noexcept { return outcome_; }
  const Outcome& outcome_after_wait() const {
    wait();
    return outcome_;
  }

  // Returns false when the call had already completed (someone else won).
  bool complete(Outcome outcome) {
    return complete_with(std::move(outcome), [] {});
  }

  // As complete(), and runs store() under the lock when this completion wins: a typed
  // value is written there, so the loser of a race never touches it.
  template <class Store>
  bool complete_with(Outcome outcome, Store&& store) {
    std::vector<UniqueFunction> continuations;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (completed_) return false;
      completed_ = true;
      store();
      outcome_ = std::move(outcome);
      ready_.store(true, std::memory_order_release);
      continuations.swap(continuations_);
    }
    cv_.notify_all();
    for (auto& f : continuations) {
      try {
        f();
      } catch (...) {
        // The library's continuations answer their own results; whatever escapes (out
        // of memory) must not stop the others, nor the loop completing this call.
      }
    }
    return true;
  }

  // Runs f once the call completes: right now, on this thread, if it already has;
  // otherwise on the thread that completes it, which is often the loop thread: f must
  // be quick and must not throw (AsyncResult::then hands user code to an executor).
  void on_complete(UniqueFunction f) {
    bool queued = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!completed_) {
        continuations_.push_back(std::move(f));
        queued = true;
      }
    }
    if (queued)
      on_continuation_added();
    else
      f();
  }

  // Where continuations of this call run when none is named (the Client's executor).
  // Set before the state is shared; read-only afterwards.
  void set_executor(Executor executor) noexcept { executor_ = std::move(executor); }
  const Executor& executor() const noexcept { return executor_; }

  // Who makes this result progress while a thread waits for it, when the waiting
  // thread is not a completion thread: a Client without its own thread
  // (user_driver.hpp), null otherwise. Set before the state is shared, like the
  // executor, and passed on to the results made from this one (then, when_all).
  void set_wait_helper(std::shared_ptr<WaitHelper> helper) noexcept {
    wait_helper_ = std::move(helper);
  }
  const std::shared_ptr<WaitHelper>& wait_helper() const noexcept { return wait_helper_; }

  // Completes the call with CancelledError and, when that won, stops its work.
  bool cancel() {
    if (!complete(Outcome::failure(CancelledError()))) return false;
    on_cancelled();
    return true;
  }

 protected:
  // What a cancel must undo besides completing (a transfer releases its connection).
  virtual void on_cancelled() {}

  // Waits until ready or the deadline (null: none); returns ready(). A call's state
  // runs the loop itself meanwhile when it can (Transfer).
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual bool block(const TimePoint* deadline) const { return sleep(deadline); }

  // A continuation was queued before completion: someone now depends on it finishing.
  virtual void on_continuation_added() {}

  bool sleep(const TimePoint* deadline) const {
    // On a completion thread, the continuation this waits for may be queued behind the
    // one waiting: run the queue meanwhile.
    if (WaitHelper* helper = this_thread_role().helper) return helper->help_until(*this, deadline);
    // A Client without its own thread: the waiting thread drives it while nobody does.
    if (wait_helper_) return wait_helper_->help_until(*this, deadline);
    return sleep_here(deadline);
  }

 public:
  // Sleeps until ready or the deadline, without running anything else.
  bool sleep_here(const TimePoint* deadline) const {
    auto done = [&] { return ready(); };
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1, std::memory_order_relaxed);
    bool ok = true;
    if (deadline)
      ok = cv_.wait_until(lock, *deadline, done);
    else
      cv_.wait(lock, done);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return ok;
  }

 public:
  // Whether a thread sleeps on this state (read by whoever completed it).
  bool has_sleepers() const noexcept { return sleepers_.load(std::memory_order_relaxed) > 0; }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::atomic<bool> ready_{false};
  mutable std::atomic<int> sleepers_{0};
  bool completed_ = false;
  Outcome outcome_;
  std::vector<UniqueFunction> continuations_;
  Executor executor_;
  std::shared_ptr<WaitHelper> wait_helper_;
  mutable std::string id_;
  Uuid4 uuid_;
  mutable std::atomic<bool> id_made_{false};
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
