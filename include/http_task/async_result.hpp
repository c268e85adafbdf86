// The future of one call: like std::future, move-only, plus the call's id, ready()
// and cancel(). get() may be called more than once; each time it returns the value or
// throws the call's error.
#pragma once

#include <http_task/detail/future/call_state.hpp>
#include <http_task/json.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace http_task {

template <class T>
class AsyncResult;

namespace detail {
// Lets the library make and read results without a public constructor.
struct ResultAccess {
  template <class T>
  static AsyncResult<T> make(std::shared_ptr<CallState> state) {
    return AsyncResult<T>(std::move(state));
  }
  template <class T>
  static const std::shared_ptr<CallState>& state(const AsyncResult<T>& r) {
    return r.state_;
  }
};
}  // namespace detail

template <class T = Json>
class AsyncResult {
 public:
  using value_type = T;

  // An empty result (valid() is false), as a default-constructed std::future.
  AsyncResult() noexcept = default;
  AsyncResult(AsyncResult&&) noexcept = default;
  AsyncResult& operator=(AsyncResult&&) noexcept = default;
  AsyncResult(const AsyncResult&) = delete;
  AsyncResult& operator=(const AsyncResult&) = delete;

  // Waits, then returns the retval as T (via Json::as<T>(); nothing for T = void) or
  // throws: RemoteExecuteError, InvalidResponseError, HttpError, TransportError,
  // TimeoutError, CancelledError, RequestError, or http_task::Error when the retval
  // does not convert to T.
  T get() {
    const detail::Outcome& outcome = checked_state().outcome_after_wait();
    if (!outcome.ok()) std::rethrow_exception(outcome.error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else if constexpr (std::is_same_v<T, Json>) {
      return outcome.value;
    } else {
      return outcome.value.template as<T>();
    }
  }

  void wait() const { checked_state().wait(); }

  template <class Rep, class Period>
  std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    const auto& s = checked_state();
    if (s.ready()) return std::future_status::ready;
    if (timeout <= timeout.zero()) return std::future_status::timeout;
    // A century is forever; beyond it now() + timeout would overflow the clock.
    if (timeout > std::chrono::hours(24 * 365 * 100)) {
      s.wait();
      return std::future_status::ready;
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::ceil<std::chrono::steady_clock::duration>(timeout);
    return s.wait_until(deadline) ? std::future_status::ready : std::future_status::timeout;
  }

  template <class Clock, class Duration>
  std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
    return checked_state().wait_until(deadline) ? std::future_status::ready
                                                : std::future_status::timeout;
  }

  bool valid() const noexcept { return state_ != nullptr; }
  bool ready() const noexcept { return state_ && state_->ready(); }
  const std::string& id() const { return checked_state().id(); }

  // Stops the call: its transfer is taken off the wire (a queued call is never sent)
  // and the result completes with CancelledError. Returns false when the call had
  // already finished; then its outcome stays as it was. Thread-safe, idempotent.
  bool cancel() { return checked_state().cancel(); }

 private:
  friend struct detail::ResultAccess;
  explicit AsyncResult(std::shared_ptr<detail::CallState> state) noexcept
      : state_(std::move(state)) {}

  detail::CallState& checked_state() const {
    if (!state_) throw std::future_error(std::future_errc::no_state);
    return *state_;
  }

  std::shared_ptr<detail::CallState> state_;
};

}  // namespace http_task
