// SPDX-License-Identifier: MIT
// What the loop asks of the per-origin policies, in one place: the rate limit
// (rate_limiter.hpp), the circuit breaker and statistics (origin_table.hpp), and the
// delivery rules that follow an attempt's answer (the dead-letter hook, a 410 Gone
// opening its origin's breaker; delivery_rules.hpp). The loop calls it at each step of a
// call's way: before the attempt (admit_rate, then admit_to_send once the call leaves any
// hold), when the attempt is off the wire (release, attempt_ended), when no retry
// follows (gave_up), when the call is done (release, retired), each turn (run_limited,
// next_due), and at shutdown (drain). A feature that is off costs the loop a flag or
// null test here. The loop's driving thread only, but for origins(), whose stats() and
// state() any thread may read.
//
// Out of memory (the loop's guarantee, event_loop.hpp: every call completes):
//   - admit_rate: the limiter's admit() fails the call (no_memory, the loop fails it)
//     when its line cannot grow; a call let through later from the line is moved,
//     which cannot allocate.
//   - run_limited: a call whose time ran out in the line completes with
//     out_of_memory when its error's words cannot be made.
//   - admit_to_send, attempt_ended, retired: a new origin the table cannot file goes on
//     unwatched (origin_table.hpp); gave_up's hook and the breaker's trip catch their own.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/future/outcome.hpp>
#include <http_task/detail/loop/retry_queue.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/policy/delivery_rules.hpp>
#include <http_task/detail/policy/origin_table.hpp>
#include <http_task/detail/policy/rate_limiter.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

class OriginPolicies {
 public:
  using Clock = std::chrono::steady_clock;
  using Admission = RateLimiter::Admission;

  // out_of_memory: the loop's error made up front, for a call whose error's words
  // cannot be made.
  OriginPolicies(const ClientOptions& options, std::exception_ptr out_of_memory)
      : options_(options), out_of_memory_(std::move(out_of_memory)) {}

  // Any thread: stats() and state(); trip() is the loop's (gave_up).
  const OriginTable& origins() const noexcept { return origins_; }

  // Before an attempt, ahead of the router's hold: over the rate limit, the call waits
  // in its origin's line (wait); no_memory: the loop fails it. admitted: let through
  // already (run_limited). A call released from its origin's hold (origin_router.hpp)
  // keeps the place it was admitted to.
  Admission admit_rate(const std::shared_ptr<Transfer>& call, bool admitted) noexcept {
    if (!limiter_ || admitted || call->limit_origin != RateLimiter::kNone) return Admission::go;
    return limiter_->admit(call, Clock::now());
  }

  // Before an attempt goes on the wire, after the hold, so that a held call is
  // admitted once, when it is sent. False: the circuit breaker refused, the call is
  // complete (CircuitOpenError) and the loop retires it.
  bool admit_to_send(Transfer& call) noexcept {
    return !origins_.on() || origins_.admit(call, Clock::now());
  }

  // The attempt is off the wire, or never got on it: its place in the origin's flight
  // is free. Called again at retire, where it does nothing for a call already released.
  void release(Transfer& call) noexcept {
    if (limiter_) limiter_->release(call);
  }

  // A cancelled call waiting in its origin's line (call.waiting_limit) leaves it; the
  // loop retires it.
  void leave_line(Transfer& call) noexcept {
    if (limiter_) limiter_->forget(call);
  }

  // The attempt's answer is in (rc, call.http_status): the breaker counts it.
  void attempt_ended(Transfer& call, CURLcode rc) noexcept {
    if (origins_.on()) origins_.attempt_ended(call, rc, Clock::now());
  }

  // The call completed with its attempt's answer or error and no retry follows.
  // Standard Webhooks delivery: a call its policy would retry, with no retry left, goes
  // to the dead-letter hook. A 410 Gone (delivery_rules.hpp) opens the origin's breaker,
  // when it is on.
  void gave_up(const Transfer& call, CURLcode rc, bool closing,
               const curl_slist* default_headers) noexcept {
    if (options_.on_dead_letter && call.may_retry && !closing && RetryQueue::retryable(call, rc))
      send_dead_letter(options_, call, default_headers);
    if (call.http_status == 410 && rc == CURLE_OK && options_.circuit_breaker.enabled &&
        call.retry && call.retry->retry_any_status)
      origins_.trip(call.url, Clock::now() + options_.circuit_breaker.open_for, call.unix_socket);
  }

  // The call is done for the loop: the breaker and statistics count its result.
  void retired(Transfer& call) noexcept {
    if (origins_.on()) origins_.retired(call, Clock::now());
  }

  // Each turn, rate limit: the waiting calls whose turn came go to start(shared_ptr);
  // those whose deadline passed while they waited end here with TimeoutError, as on
  // the wire, and go to retire(Transfer&).
  template <class Start, class Retire>
  void run_limited(const curl_slist* default_headers, Start&& start, Retire&& retire) {
    if (!limiter_) return;
    limiter_->run(Clock::now(), start, [&](std::shared_ptr<Transfer> call) {
      try {
        call->complete(
            Outcome::failure(TimeoutError(CURLE_OPERATION_TIMEDOUT,
                                          "the call's timeout passed while it waited for its "
                                          "origin's rate limit (attempt " +
                                              std::to_string(call->attempts_made + 1) + ")")));
      } catch (...) {  // the error's words ran out of memory
        call->complete(Outcome::failure(out_of_memory_));
      }
      // A retry whose time ran out in the line: its policy gave up on it.
      if (options_.on_dead_letter && call->attempts_made > 0 && call->may_retry)
        send_dead_letter(options_, *call, default_headers);
      retire(*call);
    });
  }

  // When the loop must wake for run_limited: the next token or deadline of a waiting
  // call; none when nothing waits.
  std::optional<Clock::time_point> next_due() const noexcept {
    if (!limiter_) return std::nullopt;
    return limiter_->next_due();
  }

  // Shutdown: every call waiting in a line, once, to f(shared_ptr) (the loop cancels
  // and retires each).
  template <class F>
  void drain(F&& f) {
    if (limiter_) limiter_->drain(f);
  }

 private:
  const ClientOptions& options_;
  const std::exception_ptr out_of_memory_;
  OriginTable origins_{options_};  // per-origin circuit breaker and statistics
  // Rate limit: none when it is off, which then costs a null test.
  std::unique_ptr<RateLimiter> limiter_ =
      options_.rate_limit.enabled() ? std::make_unique<RateLimiter>(options_.rate_limit) : nullptr;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
