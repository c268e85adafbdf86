// SPDX-License-Identifier: MIT
// C++20 coroutines (nothing here under C++17). `co_await result` suspends without
// blocking a thread and resumes with the value, or throws the error; and a coroutine
// may return AsyncResult<T> itself:
//
//   http_task::AsyncResult<int> square_then_double(http_task::URL multiply, int x) {
//     int squared = co_await multiply.get_async<int>({{"x", x}, {"y", x}});
//     co_return 2 * squared;
//   }
//
// The coroutine resumes on the executor of the result it awaited: its Client's (by
// default the Client's completion thread; for a Client without its own thread, the
// thread calling run_once()), never on the loop thread. A result that is already
// finished does not suspend at all. Cancelling a coroutine's AsyncResult completes it
// with CancelledError and cancels the result the coroutine is awaiting at that moment;
// the coroutine itself runs on (its co_return is then dropped).
#pragma once

#include <http_task/async_result.hpp>

#if defined(__cpp_impl_coroutine) && __has_include(<coroutine>)
#include <coroutine>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

template <class T>
struct ResultPromiseBase {
  std::shared_ptr<ValueState<T>> state = std::make_shared<ValueState<T>>();

  AsyncResult<T> get_return_object() { return ResultAccess::make_typed<T>(state); }
  std::suspend_never initial_suspend() const noexcept { return {}; }
  std::suspend_never final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { state->set_error(std::current_exception()); }
};

template <class T>
struct ResultPromise : ResultPromiseBase<T> {
  void return_value(T value) { this->state->set_value(std::move(value)); }
};
template <>
struct ResultPromise<void> : ResultPromiseBase<void> {
  void return_void() { state->set_value(); }
};

template <class>
struct IsResultPromise : std::false_type {};
template <class T>
struct IsResultPromise<ResultPromise<T>> : std::true_type {};

// Holds the awaited result (by value for `co_await f()`, by pointer for `co_await r`).
template <class T, class Holder>
class ResultAwaiter {
 public:
  explicit ResultAwaiter(Holder holder) : holder_(std::move(holder)) {}

  bool await_ready() const { return result().ready(); }

  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) {
    // Kept here: once the resume job is posted, the frame owning the result may go.
    std::shared_ptr<CallState> state = ResultAccess::state(result());
    if constexpr (IsResultPromise<Promise>::value) {
      h.promise().state->on_cancel([weak = std::weak_ptr<CallState>(state)] {
        if (auto s = weak.lock()) s->cancel();
      });
    }
    state->on_complete([h, executor = state->executor()] {
      Job resume(Resume<Promise>{h});
      try {
        executor.post(resume);
      } catch (...) {
        resume();  // the executor refused: resuming here beats never resuming
      }
    });
  }

  // The job that resumes the coroutine. Dropped by its executor without running (a
  // pool after stop()), it fails the coroutine's result with the error then() gives and
  // destroys the frame, which would otherwise leak with everything it holds. A
  // coroutine of another type is left alone: its frame belongs to its own return object.
  template <class Promise>
  struct Resume {
    std::coroutine_handle<Promise> h;
    bool ran = false;

    explicit Resume(std::coroutine_handle<Promise> handle) noexcept : h(handle) {}
    Resume(Resume&& other) noexcept : h(std::exchange(other.h, nullptr)), ran(other.ran) {}
    Resume& operator=(Resume&&) = delete;
    ~Resume() {
      if constexpr (IsResultPromise<Promise>::value) {
        if (!h || ran) return;
        auto state = h.promise().state;  // outlives the frame
        h.destroy();
        try {
          state->set_error(std::make_exception_ptr(
              Error("http_task: the executor dropped a continuation without running it")));
        } catch (...) {
          state->set_error(std::current_exception());  // out of memory: still an error
        }
      }
    }
    void operator()() {
      ran = true;
      h.resume();
    }
  };

  T await_resume() { return result().get(); }

 private:
  AsyncResult<T>& result() const {
    if constexpr (std::is_pointer_v<Holder>)
      return *holder_;
    else
      return holder_;
  }
  mutable Holder holder_;
};

}  // namespace detail

/// Awaits a temporary result (`co_await url.get_async<int>()`): suspends without
/// blocking a thread until it is finished, then returns its value or throws its error,
/// as get(). Resumes on the result's executor; a finished result does not suspend.
/// Throws std::future_error for an empty result.
template <class T>
auto operator co_await(AsyncResult<T>&& result) {
  if (!result.valid()) throw std::future_error(std::future_errc::no_state);
  return detail::ResultAwaiter<T, AsyncResult<T>>(std::move(result));
}
/// Awaits a result held by the caller (`co_await r`), which must outlive the wait; as
/// the overload for a temporary.
template <class T>
auto operator co_await(AsyncResult<T>& result) {
  if (!result.valid()) throw std::future_error(std::future_errc::no_state);
  return detail::ResultAwaiter<T, AsyncResult<T>*>(&result);
}

}  // namespace v1
}  // namespace http_task

/// \cond HTTP_TASK_INTERNAL
// Makes AsyncResult<T> a coroutine return type; left out of the reference (Doxygen does
// not place a specialization in namespace std).
template <class T, class... Args>
struct std::coroutine_traits<http_task::AsyncResult<T>, Args...> {
  using promise_type = http_task::detail::ResultPromise<T>;
};
/// \endcond

#endif
