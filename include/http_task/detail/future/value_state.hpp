// SPDX-License-Identifier: MIT
// The state of a result that no HTTP call fills: a then() continuation, when_all,
// when_any, a coroutine, make_ready_result. It holds a T itself (a call's state holds
// Json, converted at get()), and knows what to cancel upstream when it is cancelled.
#pragma once

#include <http_task/detail/future/call_state.hpp>
#include <http_task/detail/future/outcome.hpp>
#include <http_task/detail/future/unique_function.hpp>

#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

// Whether get() may copy a T: std::vector claims to be copyable even when its elements
// (AsyncResults, from when_all) are not.
template <class T>
struct Copyable : std::is_copy_constructible<T> {};
template <class T, class A>
struct Copyable<std::vector<T, A>> : Copyable<T> {};

template <class T>
class ValueState final : public CallState {
 public:
  explicit ValueState(std::string id = {}) : CallState(std::move(id)) {}

  template <class... A>
  bool set_value(A&&... a) {
    return complete_with(Outcome(), [&] {
      if constexpr (!std::is_void_v<T>) value_.emplace(std::forward<A>(a)...);
    });
  }
  bool set_error(std::exception_ptr e) { return complete(Outcome::failure(std::move(e))); }

  // Valid once ready() and ok(). A move-only T moves out: get() once.
  decltype(auto) value() {
    if constexpr (std::is_void_v<T>) {
      return;
    } else if constexpr (Copyable<T>::value) {
      return static_cast<const T&>(*value_);
    } else {
      return static_cast<T&&>(*value_);
    }
  }

  // What cancelling this result must also stop (the call it waits for, the inputs of
  // when_all...). Runs h now if this result was already cancelled. Replaces any earlier h.
  void on_cancel(UniqueFunction h) {
    {
      std::lock_guard<std::mutex> lock(hook_mutex_);
      if (!cancelled_) {
        hook_ = std::move(h);
        return;
      }
    }
    h();
  }

 protected:
  void on_cancelled() override {
    UniqueFunction h;
    {
      std::lock_guard<std::mutex> lock(hook_mutex_);
      cancelled_ = true;
      h = std::move(hook_);
    }
    if (h) h();
  }

 private:
  struct Nothing {};
  std::optional<std::conditional_t<std::is_void_v<T>, Nothing, T>> value_;
  std::mutex hook_mutex_;
  bool cancelled_ = false;
  UniqueFunction hook_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
