// SPDX-License-Identifier: MIT
// When a failed call is tried again. Off by default, as in Celery: a webhook call
// may have effects, and only the caller knows whether repeating it is safe.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

namespace http_task {
inline namespace v1 {

/// When a failed call is tried again (ClientOptions::retry, CallOptions::retry).
///
/// Off by default (one attempt). POST and PATCH are retried only when the call is
/// declared idempotent (CallOptions::idempotent) or carries an Idempotency-Key
/// (#idempotency_key); GET, HEAD, PUT, DELETE and OPTIONS are
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

  /// Retry every non-2xx HTTP answer but 410 Gone, not only retry_statuses: the
  /// Standard Webhooks rule (any failure is tried again; 410 says the endpoint is gone
  /// for good, and ends the call at once).
  bool retry_any_status = false;

  /// When not empty, the wait before attempt n+1 is retry_schedule[n-1] (its last entry
  /// for later ones) times a random factor in [1 - schedule_jitter, 1 + schedule_jitter],
  /// instead of initial_backoff/max_backoff. A Retry-After still wins when longer.
  std::vector<std::chrono::milliseconds> retry_schedule;
  /// How far a scheduled wait may stray either way, as a fraction of it (0 to 1).
  double schedule_jitter = 0.2;

  /// Every attempt of a call carries "Idempotency-Key: <the call's UUID>" (the same
  /// value as the Standard Webhooks signer's webhook-id), unless the call sets that
  /// header itself; the receiver can drop repeats. Such a call is retried whatever its
  /// method, unless CallOptions::idempotent says false.
  bool idempotency_key = false;

  /// A policy of `n` attempts in all, the other fields at their defaults.
  static RetryPolicy attempts(int n) {
    RetryPolicy p;
    p.max_attempts = n;
    return p;
  }

  /// The Standard Webhooks (and Svix) delivery schedule: the first attempt at once, then
  /// after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each within 20 % either way; any
  /// non-2xx answer but 410 Gone and any transient transport failure is retried;
  /// Retry-After is honoured up to 10 h; every attempt carries the call's Idempotency-Key.
  /// scale multiplies the schedule (e.g. 0.001 in tests: 5 ms, 300 ms, ...). The calls'
  /// timeout must leave room for the schedule: it is the deadline of all attempts together
  /// (CallOptions::timeout, ClientOptions::timeout; 0 is none), and attempt_timeout then
  /// bounds each attempt.
  static RetryPolicy standard_webhooks(double scale = 1.0) {
    using std::chrono::milliseconds;
    constexpr long long second = 1000, minute = 60 * second, hour = 60 * minute;
    RetryPolicy p;
    for (long long ms :
         {5 * second, 5 * minute, 30 * minute, 2 * hour, 5 * hour, 10 * hour, 10 * hour})
      p.retry_schedule.push_back(
          milliseconds(static_cast<long long>(static_cast<double>(ms) * scale)));
    p.max_attempts = static_cast<int>(p.retry_schedule.size()) + 1;
    p.retry_any_status = true;
    p.idempotency_key = true;
    p.max_retry_after = milliseconds(10 * hour);
    p.attempt_timeout = milliseconds(15 * second);  // Svix's limit per attempt
    return p;
  }
};

}  // namespace v1
}  // namespace http_task
