// When a failed call is tried again. Off by default, as in Celery: a webhook call
// may have effects, and only the caller knows whether repeating it is safe.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

namespace http_task {

struct RetryPolicy {
  // Attempts in all, the first included: 1 means no retry.
  int max_attempts = 1;

  // Backoff before attempt n+1 is a random duration in [0, min(max_backoff,
  // initial_backoff * 2^(n-1))] ("full jitter"), so that many callers of a
  // recovering server do not come back in step.
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};

  // A Retry-After header (429, 503) is honoured, up to this long.
  std::chrono::milliseconds max_retry_after{60'000};

  // Each attempt's own time limit. The call's timeout stays the deadline for all
  // attempts together; without this, an attempt may use all the time that is left.
  std::optional<std::chrono::milliseconds> attempt_timeout;

  // What is retried: connection failures, resets, truncated answers and timeouts...
  bool retry_transport_errors = true;
  // ...and these HTTP statuses. Answers the webhook gave (failure, invalid JSON) never.
  std::vector<long> retry_statuses{429, 502, 503, 504};

  // POST and PATCH are retried only when the call is declared idempotent
  // (CallOptions::idempotent); GET, HEAD, PUT, DELETE and OPTIONS are by definition.

  static RetryPolicy attempts(int n) {
    RetryPolicy p;
    p.max_attempts = n;
    return p;
  }
};

}  // namespace http_task
