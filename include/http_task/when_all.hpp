// SPDX-License-Identifier: MIT
// Fan-in over many results without a thread per result (or any thread at all): each
// input tells a shared counter when it finishes, and the last (or, for when_any, the
// first) completes the combined result.
//
//   std::vector<http_task::AsyncResult<int>> calls;
//   for (int i = 0; i < 1000; ++i) calls.push_back(multiply.get_async<int>({{"x", i}, {"y", 2}}));
//   http_task::when_all(std::move(calls)).then([](std::vector<http_task::AsyncResult<int>> done) {
//     for (auto& r : done) use(r.get());  // each one's value, or its own error
//   });
#pragma once

#include <http_task/async_result.hpp>
#include <http_task/detail/future/call_state.hpp>
#include <http_task/detail/future/value_state.hpp>

#include <atomic>
#include <cstddef>
#include <future>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {

/// What when_any() gives: every input, and which one finished first. Move-only.
template <class T>
struct WhenAnyResult {
  /// The #index when there were no inputs.
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// No inputs: #index is npos.
  WhenAnyResult() = default;
  /// Input `i` of `r` finished first.
  WhenAnyResult(std::size_t i, std::vector<AsyncResult<T>> r) : index(i), results(std::move(r)) {}
  /// Moves the inputs.
  WhenAnyResult(WhenAnyResult&&) noexcept = default;
  /// Moves the inputs.
  WhenAnyResult& operator=(WhenAnyResult&&) noexcept = default;

  std::size_t index = npos;  ///< Which input finished first; npos only when there were none.
  std::vector<AsyncResult<T>> results;  ///< Every input, in the order given.
};

namespace detail {

template <class T>
std::vector<std::shared_ptr<CallState>> states_of(const std::vector<AsyncResult<T>>& results) {
  std::vector<std::shared_ptr<CallState>> states;
  states.reserve(results.size());
  for (const auto& r : results) {
    if (!r.valid()) throw std::future_error(std::future_errc::no_state);
    states.push_back(ResultAccess::state(r));
  }
  return states;
}

template <class T>
struct FanIn {
  explicit FanIn(std::vector<AsyncResult<T>> r) : inputs(std::move(r)), left(inputs.size()) {}
  std::vector<AsyncResult<T>> inputs;  // moved out by whoever completes the combined result
  std::atomic<std::size_t> left;
};

// Cancelling the combined result cancels every input: nobody else holds them.
template <class T, class U>
void cancel_inputs_with(ValueState<U>& out, const std::shared_ptr<FanIn<T>>& fan_in) {
  out.on_cancel([weak = std::weak_ptr<FanIn<T>>(fan_in)] {
    if (auto f = weak.lock())
      for (auto& r : f->inputs) r.cancel();
  });
}

}  // namespace detail

/// Completes once every input has finished, with all of them, in order, each holding
/// its own value or error (the combined result itself fails only when cancelled).
///
/// Empty input: ready at once. Throws std::future_error for an invalid (empty) input.
/// cancel() on the combined result cancels every input still running. The combined
/// result continues (then(), co_await) on the first input's executor. No thread waits:
/// the last input to finish completes it.
template <class T>
AsyncResult<std::vector<AsyncResult<T>>> when_all(std::vector<AsyncResult<T>> results) {
  using Results = std::vector<AsyncResult<T>>;
  auto states = detail::states_of(results);
  auto out = std::make_shared<detail::ValueState<Results>>();
  if (states.empty()) {
    out->set_value(Results());
    return detail::ResultAccess::make_typed<Results>(std::move(out));
  }
  out->set_executor(states.front()->executor());
  out->set_wait_helper(states.front()->wait_helper());
  auto fan_in = std::make_shared<detail::FanIn<T>>(std::move(results));
  detail::cancel_inputs_with(*out, fan_in);
  for (auto& state : states)
    state->on_complete([fan_in, out] {
      if (fan_in->left.fetch_sub(1, std::memory_order_acq_rel) == 1)
        out->set_value(std::move(fan_in->inputs));
    });
  return detail::ResultAccess::make_typed<Results>(std::move(out));
}

/// The same over a range of `AsyncResult<T>`, whose elements are moved from.
template <class It>
auto when_all(It first, It last) {
  using Result = typename std::iterator_traits<It>::value_type;
  return when_all(
      std::vector<Result>(std::make_move_iterator(first), std::make_move_iterator(last)));
}

/// Completes as soon as one input finishes (value or error), with its index and all
/// the inputs; the others keep running (cancel them if they are no longer wanted).
///
/// Empty input: ready at once with index WhenAnyResult::npos. Throws std::future_error
/// for an invalid (empty) input. cancel() on the combined result, before it completed,
/// cancels every input. The combined result continues on the first input's executor.
template <class T>
AsyncResult<WhenAnyResult<T>> when_any(std::vector<AsyncResult<T>> results) {
  auto states = detail::states_of(results);
  auto out = std::make_shared<detail::ValueState<WhenAnyResult<T>>>();
  if (states.empty()) {
    out->set_value(WhenAnyResult<T>());
    return detail::ResultAccess::make_typed<WhenAnyResult<T>>(std::move(out));
  }
  out->set_executor(states.front()->executor());
  out->set_wait_helper(states.front()->wait_helper());
  auto fan_in = std::make_shared<detail::FanIn<T>>(std::move(results));
  detail::cancel_inputs_with(*out, fan_in);
  for (std::size_t i = 0; i < states.size(); ++i)
    states[i]->on_complete([fan_in, out, i] {
      if (out->ready()) return;  // another input won, or the combined result was cancelled
      // The inputs move inside set_value, only if this input wins.
      out->set_value(i, std::move(fan_in->inputs));
    });
  return detail::ResultAccess::make_typed<WhenAnyResult<T>>(std::move(out));
}

/// The same over a range of `AsyncResult<T>`, whose elements are moved from.
template <class It>
auto when_any(It first, It last) {
  using Result = typename std::iterator_traits<It>::value_type;
  return when_any(
      std::vector<Result>(std::make_move_iterator(first), std::make_move_iterator(last)));
}

}  // namespace v1
}  // namespace http_task
