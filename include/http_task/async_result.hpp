// SPDX-License-Identifier: MIT
// The future of one call: like std::future, move-only, plus the call's id, ready(),
// cancel(), and then() to continue on an executor without any thread waiting. get()
// may be called more than once; each time it returns the value or throws the call's
// error. Under C++20, `co_await` works on it too (coroutine.hpp).
#pragma once

#include <http_task/detail/future/call_state.hpp>
#include <http_task/detail/future/outcome.hpp>
#include <http_task/detail/future/value_state.hpp>
#include <http_task/error.hpp>
#include <http_task/executor.hpp>
#include <http_task/json.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {

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
  static AsyncResult<T> make_typed(std::shared_ptr<ValueState<T>> state) {
    ValueState<T>* typed = state.get();
    return AsyncResult<T>(std::move(state), typed);
  }
  template <class T>
  static const std::shared_ptr<CallState>& state(const AsyncResult<T>& r) {
    return r.state_;
  }
};

// The types Json::as<T> knows, which a call's result can be read as.
template <class T>
struct JsonReadable
    : std::bool_constant<std::is_same_v<T, Json> || std::is_arithmetic_v<T> ||
                         std::is_same_v<T, std::string> || HasJsonConverter<T>::value> {};
template <class T, class A>
struct JsonReadable<std::vector<T, A>> : JsonReadable<T> {};
template <class T, class C, class A>
struct JsonReadable<std::map<std::string, T, C, A>> : JsonReadable<T> {};
template <class T>
struct JsonReadable<std::optional<T>> : JsonReadable<T> {};

template <class R>
struct IsAsyncResult : std::false_type {};
template <class U>
struct IsAsyncResult<AsyncResult<U>> : std::true_type {};

// What then(f) makes of f: whether it takes the finished result or only the value, and
// the value type of the result then() returns (an AsyncResult f returns is flattened).
template <class T, class F>
struct ValueCall {
  using type = std::invoke_result_t<F&, T>;
};
template <class F>
struct ValueCall<void, F> {
  using type = std::invoke_result_t<F&>;
};
template <class R>
struct Flattened {
  using type = R;
};
template <class U>
struct Flattened<AsyncResult<U>> {
  using type = U;
};
template <class T, class F, bool ByResult = std::is_invocable_v<F&, AsyncResult<T>&&>>
struct ThenCall {
  static constexpr bool by_result = true;
  using type = std::decay_t<std::invoke_result_t<F&, AsyncResult<T>&&>>;
  using value_type = typename Flattened<type>::type;
};
template <class T, class F>
struct ThenCall<T, F, false> {
  static constexpr bool by_result = false;
  using type = std::decay_t<typename ValueCall<T, F>::type>;
  using value_type = typename Flattened<type>::type;
};
template <class T, class F>
struct TakesValue : std::is_invocable<F&, T> {};
template <class F>
struct TakesValue<void, F> : std::is_invocable<F&> {};
// Whether then(f) accepts f. The result form is asked first and the value form only if
// it fails (std::disjunction stops there): asking a generic lambda whether it takes an
// int instantiates its body with int, a hard error when the body calls r.get().
template <class T, class F>
inline constexpr bool then_accepts_v =
    std::disjunction_v<std::is_invocable<F&, AsyncResult<T>&&>, TakesValue<T, F>>;

template <class T, class Fn, class U>
struct ContinuationTask;
template <class U>
void forward_result(AsyncResult<U> from, const std::shared_ptr<ValueState<U>>& to);
}  // namespace detail

/// The future of one call (or of a result made from calls: then(), when_all(),
/// when_any(), a coroutine, celery::Gateway): like std::future, move-only, plus the
/// call's id, ready(), cancel(), and then() to continue on an executor without any
/// thread waiting.
///
/// get() may be called more than once; each time it returns the value or throws the
/// call's error. Under C++20, `co_await` works on it too (coroutine.hpp).
///
/// Threads: one AsyncResult object is not to be used by two threads at once, except
/// that cancel() is thread-safe. Waits (get(), wait(), wait_for(), wait_until()) on an
/// unfinished result throw std::logic_error on a thread that runs a Client's loop (a log
/// hook, a signer, a Dispatcher, an inline_executor continuation, code run by
/// run_once()), where the wait could never end: use then() or co_await there. On an
/// empty result (valid() false), every member function but valid(), ready() and the
/// moves throws std::future_error (no_state).
///
/// Dropping a result does not cancel its call; cancel() does.
///
/// \tparam T the value type: Json (the default), anything Json::as<T>() converts to,
///   or void.
template <class T = Json>
class AsyncResult {
 public:
  using value_type = T;  ///< The value get() returns.

  /// An empty result (valid() is false), as a default-constructed std::future.
  AsyncResult() noexcept = default;
  /// Takes over other's call; other is left empty.
  AsyncResult(AsyncResult&& other) noexcept
      : state_(std::move(other.state_)), typed_(std::exchange(other.typed_, nullptr)) {}
  /// Takes over other's call; other is left empty. The call this result held goes on.
  AsyncResult& operator=(AsyncResult&& other) noexcept {
    state_ = std::move(other.state_);
    typed_ = std::exchange(other.typed_, nullptr);
    return *this;
  }
  AsyncResult(const AsyncResult&) = delete;
  AsyncResult& operator=(const AsyncResult&) = delete;

  /// Waits, then returns the retval as T or throws the call's error.
  ///
  /// The retval is converted via Json::as<T>() (nothing for T = void). Throws:
  /// RemoteExecuteError, InvalidResponseError, HttpError, TransportError, TimeoutError,
  /// CancelledError, RequestError, or http_task::Error when the retval does not convert
  /// to T. A result made by then(), when_all() or a coroutine returns the value it was
  /// given (moved out when T cannot be copied: get() once then), or throws the exception
  /// that ended it.
  ///
  /// For a Client without its own thread, a get() while nobody drives it drives it
  /// meanwhile.
  T get() {
    const detail::Outcome& outcome = checked_state().outcome_after_wait();
    if (!outcome.ok()) std::rethrow_exception(outcome.error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      if (typed_) return typed_->value();
      if constexpr (std::is_same_v<T, Json>) {
        return outcome.value;
      } else if constexpr (detail::JsonReadable<T>::value) {
        return outcome.value.template as<T>();
      } else {
        throw std::logic_error("http_task: an HTTP call's result cannot be read as this type");
      }
    }
  }

  /// Waits until the result is ready, without reading it.
  void wait() const { checked_state().wait(); }

  /// Waits until the result is ready or `timeout` has passed; returns
  /// std::future_status::ready or std::future_status::timeout. A zero or negative
  /// timeout only looks.
  template <class Rep, class Period>
  std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    return checked_state().wait_for(timeout) ? std::future_status::ready
                                             : std::future_status::timeout;
  }

  /// Waits until the result is ready or `deadline` has come; returns
  /// std::future_status::ready or std::future_status::timeout.
  template <class Clock, class Duration>
  std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
    return checked_state().wait_until(deadline) ? std::future_status::ready
                                                : std::future_status::timeout;
  }

  /// Whether this result refers to a call (false when default-constructed or moved from).
  bool valid() const noexcept { return state_ != nullptr; }
  /// Whether the result is finished (get() will not wait); false on an empty result.
  bool ready() const noexcept { return state_ && state_->ready(); }
  /// The call's id: a UUID for an HTTP call, the Celery task id for a celery::Gateway
  /// result, the input's id for a result made by then(); empty for results of
  /// when_all(), when_any(), make_ready_result() and coroutines. Never changes.
  const std::string& id() const { return checked_state().id(); }

  /// Stops the call; returns false when it had already finished (its outcome then stays
  /// as it was). Thread-safe, idempotent.
  ///
  /// The call's transfer is taken off the wire (a queued call is never sent) and the
  /// result completes with CancelledError. Over HTTP/1.1 that closes the call's
  /// connection; over HTTP/2 (https calls libcurl runs on an h2 connection) it resets the
  /// call's stream, and the connection stays open for the other calls on it. On a result
  /// made by then(), this also cancels the call it waits for, when that is still
  /// running, and f is not run if it had not started (a running f finishes; what it
  /// returns is dropped). On when_all() and when_any(), it cancels every input.
  bool cancel() { return checked_state().cancel(); }

  /// How many HTTP attempts the call made so far: 1 without retries, 0 while it is still
  /// queued or when it was refused before sending; 0 for results made by then() and
  /// when_all(), which are not calls themselves.
  int attempts() const { return checked_state().attempts(); }

  /// Continues with f once this result is finished, without any thread waiting for it;
  /// returns the result of f. Consumes this result (use std::move(r).then(...)).
  ///
  /// f takes either the finished `AsyncResult<T>&&` (get() returns the value or throws
  /// the error: f sees both), or the value T (nothing for T = void): then errors skip f
  /// and flow to the returned result. What f returns, or throws, completes the returned
  /// `AsyncResult<R>`; when f returns an `AsyncResult<U>`, the returned result is an
  /// `AsyncResult<U>` that follows it. A generic lambda gets the `AsyncResult<T>&&`.
  ///
  /// f runs on the executor of this result: its Client's (ClientOptions::executor, or by
  /// default the Client's completion thread; for a Client without its own thread, the
  /// thread calling run_once()). Never on the loop thread unless asked for
  /// (inline_executor). On a result with no executor (make_ready_result, when_all of
  /// those, coroutines) f runs where that result completes: right away when it is
  /// already finished. An executor that throws, or drops the job without running it,
  /// completes the returned result with that error.
  template <class F>
  auto then(F&& f) && {
    Executor executor = checked_state().executor();
    return std::move(*this).then(std::move(executor), std::forward<F>(f));
  }

  /// As then(f), with f run on `executor` (anything is_executor_v accepts; held as an
  /// Executor).
  template <class E, class F, std::enable_if_t<is_executor_v<E>, int> = 0>
  auto then(E&& executor, F&& f) && {
    using Fn = std::decay_t<F>;
    static_assert(detail::then_accepts_v<T, Fn>,
                  "then(f): f must take AsyncResult<T>&& or T (nothing for T = void)");
    using U = typename detail::ThenCall<T, Fn>::value_type;
    detail::CallState& upstream = checked_state();
    auto out = std::make_shared<detail::ValueState<U>>(upstream.id());
    out->set_executor(upstream.executor());
    out->set_wait_helper(upstream.wait_helper());
    out->on_cancel([weak = std::weak_ptr<detail::CallState>(state_)] {
      if (auto s = weak.lock()) s->cancel();
    });
    Executor ex(std::forward<E>(executor));
    upstream.on_complete(
        [input = std::move(*this), out, ex = std::move(ex), fn = Fn(std::forward<F>(f))]() mutable {
          if (out->ready()) return;  // cancelled downstream: f is not run
          try {
            Job job(detail::ContinuationTask<T, Fn, U>{std::move(input), out, std::move(fn)});
            Job keep = job;  // the task stays alive if post() throws, so the throw wins
            try {
              ex.post(std::move(job));
            } catch (...) {
              out->set_error(std::current_exception());
            }
          } catch (...) {  // the job could not be made (out of memory)
            out->set_error(std::current_exception());
          }
        });
    return detail::ResultAccess::make_typed<U>(std::move(out));
  }

 private:
  friend struct detail::ResultAccess;
  explicit AsyncResult(std::shared_ptr<detail::CallState> state) noexcept
      : state_(std::move(state)) {}
  AsyncResult(std::shared_ptr<detail::CallState> state, detail::ValueState<T>* typed) noexcept
      : state_(std::move(state)), typed_(typed) {}

  detail::CallState& checked_state() const {
    if (!state_) throw std::future_error(std::future_errc::no_state);
    return *state_;
  }

  std::shared_ptr<detail::CallState> state_;
  detail::ValueState<T>* typed_ = nullptr;  // into state_, when no HTTP call fills it
};

/// A result that is already finished with this value. It has no executor, so
/// continuations attached to it run right away unless given one.
template <class T>
AsyncResult<std::decay_t<T>> make_ready_result(T&& value) {
  auto state = std::make_shared<detail::ValueState<std::decay_t<T>>>();
  state->set_value(std::forward<T>(value));
  return detail::ResultAccess::make_typed<std::decay_t<T>>(std::move(state));
}
/// A result of type void that is already finished (successfully); as
/// make_ready_result(T&&).
inline AsyncResult<void> make_ready_result() {
  auto state = std::make_shared<detail::ValueState<void>>();
  state->set_value();
  return detail::ResultAccess::make_typed<void>(std::move(state));
}
/// A result that is already finished with this error, which get() throws. No executor,
/// as make_ready_result(). A null `error` throws std::invalid_argument.
template <class T>
AsyncResult<T> make_exceptional_result(std::exception_ptr error) {
  if (!error) throw std::invalid_argument("make_exceptional_result: null exception_ptr");
  auto state = std::make_shared<detail::ValueState<T>>();
  state->set_error(std::move(error));
  return detail::ResultAccess::make_typed<T>(std::move(state));
}

namespace detail {

// Completes `to` from a finished `from`.
template <class U>
void settle_from(AsyncResult<U>& from, ValueState<U>& to) noexcept {
  try {
    if constexpr (std::is_void_v<U>) {
      from.get();
      to.set_value();
    } else {
      to.set_value(from.get());
    }
  } catch (...) {
    to.set_error(std::current_exception());
  }
}

// `to` follows `from`: completes when it does, and cancelling `to` cancels `from`.
template <class U>
void forward_result(AsyncResult<U> from, const std::shared_ptr<ValueState<U>>& to) {
  if (!from.valid()) {
    to->set_error(std::make_exception_ptr(std::future_error(std::future_errc::no_state)));
    return;
  }
  std::shared_ptr<CallState> state = ResultAccess::state(from);
  to->on_cancel([weak = std::weak_ptr<CallState>(state)] {
    if (auto s = weak.lock()) s->cancel();
  });
  state->on_complete([from = std::move(from), to]() mutable { settle_from(from, *to); });
}

// The job then() posts: runs f on the finished input and completes `out` with what f
// returns or throws. Dropped unrun by its executor, it fails `out` rather than leave it
// pending forever.
template <class T, class Fn, class U>
struct ContinuationTask {
  AsyncResult<T> input;
  std::shared_ptr<ValueState<U>> out;
  Fn fn;
  bool ran = false;

  ContinuationTask(AsyncResult<T> in, std::shared_ptr<ValueState<U>> o, Fn f)
      : input(std::move(in)), out(std::move(o)), fn(std::move(f)) {}
  ContinuationTask(ContinuationTask&&) = default;
  ContinuationTask& operator=(ContinuationTask&&) = delete;
  ~ContinuationTask() {
    if (!out || ran) return;
    try {
      out->set_error(std::make_exception_ptr(
          Error("http_task: the executor dropped a continuation without running it")));
    } catch (...) {
      out->set_error(std::current_exception());  // out of memory: still an error
    }
  }

  void operator()() {
    ran = true;
    if (out->ready()) return;  // cancelled while queued
    try {
      if constexpr (ThenCall<T, Fn>::by_result) {
        deliver([&]() -> decltype(auto) { return std::invoke(fn, std::move(input)); });
      } else if constexpr (std::is_void_v<T>) {
        input.get();
        deliver([&]() -> decltype(auto) { return std::invoke(fn); });
      } else {
        deliver([&]() -> decltype(auto) { return std::invoke(fn, input.get()); });
      }
    } catch (...) {
      out->set_error(std::current_exception());
    }
  }

  template <class G>
  void deliver(G&& g) {
    using R = std::decay_t<decltype(g())>;
    if constexpr (IsAsyncResult<R>::value) {
      forward_result<U>(g(), out);
    } else if constexpr (std::is_void_v<R>) {
      g();
      out->set_value();
    } else {
      out->set_value(g());
    }
  }
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task

#include <http_task/coroutine.hpp>
