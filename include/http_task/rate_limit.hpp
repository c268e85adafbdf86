// SPDX-License-Identifier: MIT
// How fast a Client may call one origin (docs/per-origin.md, "Rate limit"). Off by
// default: a Client without it never looks at origins for this.
#pragma once

#include <chrono>
#include <cstddef>

namespace http_task {
inline namespace v1 {

/// A per-origin limit on calls ("https://host:port", as written in the URL): a token
/// bucket (rate and burst) and a cap on calls in flight. Each attempt takes a token and
/// a place in flight; one over the limit waits in line behind the origin's earlier ones
/// (first in, first out). Waiting never fails a call by itself: its own timeout still
/// counts (TimeoutError), cancel() and the Client's shutdown end it (CancelledError),
/// and calls to other origins go on meanwhile.
struct RateLimit {
  /// Attempts started per second per origin, on average; 0: no token bucket.
  double per_second = 0;
  /// Attempts that may start at once after a quiet time (the bucket's size, at least 1).
  double burst = 1;
  /// Attempts on the wire at once per origin; 0: no cap.
  std::size_t max_in_flight = 0;

  /// An answer 429, 502, 503 or 504 halves the origin's rate (down to a sixteenth of
  /// per_second) for this long; each further one starts the time again. Zero: never.
  std::chrono::milliseconds slow_down_for{30'000};

  /// Whether the limit is on: a rate or a cap.
  bool enabled() const noexcept { return per_second > 0 || max_in_flight > 0; }

  /// rate attempts a second per origin, burst at once, and at most in_flight at a time
  /// (0: no cap).
  static RateLimit of(double rate, double burst_size = 1, std::size_t in_flight = 0) {
    RateLimit limit;
    limit.per_second = rate;
    limit.burst = burst_size;
    limit.max_in_flight = in_flight;
    return limit;
  }
};

}  // namespace v1
}  // namespace http_task
