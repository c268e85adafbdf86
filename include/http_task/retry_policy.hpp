// When a failed call is tried again. Off by default, as in Celery: a webhook call
// may have effects, and only the caller knows whether repeating it is safe.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

namespace http_task {

/// When a failed call is tried again (ClientOptions::retry, CallOptions::retry).
///
/// Off by default (one attempt). POST and PATCH are retried only when the call is
/// declared idempotent (CallOptions::idempotent); GET, HEAD, PUT, DELETE and OPTIONS are
/// idempotent by definition. No attempt starts past the call's deadline (its timeout),
/// nor a backoff that would end past it. The result's error is the last attempt's;
/// AsyncResult::attempts() tells how many were made.
struct RetryPolicy {
  /// Attempts in all, the first included: 1 means no retry.
  int max_attempts = 1;

  /// The upper bound of the first backoff.
  ///
  /// Backoff before attempt n+1 is a random duration in [0, min(max_backoff,
  /// initial_backoff * 2^(n-1))] ("full jitter"), so that many callers of a
  /// recovering server do not come back in step.
  std::chrono::milliseconds initial_backoff{200};
  /// The upper bound of every backoff (see #initial_backoff).
  std::chrono::milliseconds max_backoff{10'000};

  /// The longest wait a Retry-After header (429, 503) is honoured for: such a header
  /// makes the backoff at least as long as it asks, up to this.
  std::chrono::milliseconds max_retry_after{60'000};

  /// Each attempt's own time limit; unset: none.
  ///
  /// The call's timeout stays the deadline for all attempts together; without this, an
  /// attempt may use all the time that is left.
  std::optional<std::chrono::milliseconds> attempt_timeout;

  /// Whether transport errors are retried: connection failures, resets, truncated
  /// answers and timeouts.
  bool retry_transport_errors = true;
  /// The HTTP statuses that are retried. Answers the webhook gave (failure, invalid
  /// JSON) never are.
  std::vector<long> retry_statuses{429, 502, 503, 504};

  /// A policy of `n` attempts in all, the other fields at their defaults.
  static RetryPolicy attempts(int n) {
    RetryPolicy p;
    p.max_attempts = n;
    return p;
  }
};

}  // namespace http_task
