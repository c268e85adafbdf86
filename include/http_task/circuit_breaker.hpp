// SPDX-License-Identifier: MIT
// The per-origin circuit breaker's options and states (docs/per-origin.md). The breaker
// itself runs in the loop (detail/policy/circuit_breaker.hpp); a call it refuses ends
// with CircuitOpenError (error.hpp).
#pragma once

#include <chrono>
#include <cstddef>

namespace http_task {
inline namespace v1 {

/// Where an origin's circuit breaker stands.
enum class CircuitState {
  closed,     ///< calls go through, and their attempts' outcomes are counted
  open,       ///< calls end at once with CircuitOpenError, nothing sent, until retry_at
  half_open,  ///< one probe call goes through; its outcome closes or re-opens the breaker
};

/// "closed", "open" or "half_open", for logs.
inline const char* to_string(CircuitState state) noexcept {
  switch (state) {
    case CircuitState::closed:
      return "closed";
    case CircuitState::open:
      return "open";
    case CircuitState::half_open:
      return "half_open";
  }
  return "unknown";
}

/// ClientOptions::circuit_breaker: one breaker per origin (scheme, host and port; the Unix
/// socket too when calls go through one). Off by default, and then it costs nothing.
///
/// An attempt counts as a failure when it got no HTTP answer (a TransportError, a
/// TimeoutError) or an answer with status 5xx or 429. Any other answer counts as a
/// success, a webhook's own {"status": "failure"} answer included: the origin answered.
/// Attempts this side stopped (a size limit, the address guard, a cancelled call) do not
/// count either way.
///
/// Closed: once at least minimum_calls attempts ended within the last `window`, and the
/// share of failures among them reaches failure_ratio, the breaker opens. Open: every
/// call (and every retry of a call) to the origin ends at once with CircuitOpenError for
/// open_for. Then half-open: the next call is the probe and goes through, the others end
/// with CircuitOpenError while it runs; a probe that succeeds closes the breaker, one that
/// fails opens it again for open_for.
struct CircuitBreakerOptions {
  /// Off by default.
  bool enabled = false;
  /// Failures / attempts in the window at or above which the breaker opens (0 to 1).
  double failure_ratio = 0.5;
  /// Attempts that must have ended in the window before the ratio is looked at.
  std::size_t minimum_calls = 20;
  /// How far back attempts count (kept in 10 slices: the oldest slice leaves at once).
  std::chrono::milliseconds window{10'000};
  /// How long the breaker stays open before it lets a probe through.
  std::chrono::milliseconds open_for{5'000};
};

}  // namespace v1
}  // namespace http_task
