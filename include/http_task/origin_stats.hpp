// SPDX-License-Identifier: MIT
// What Client::origin_stats() reports for one origin (docs/per-origin.md).
#pragma once

#include <http_task/circuit_breaker.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace http_task {
inline namespace v1 {

/// Counters of one origin since the Client started (ClientOptions::origin_stats). Every
/// call the loop took for the origin is in `calls` and, once finished, in exactly one of
/// successes and the error counts, by the error it ended with:
/// calls == successes + remote_failures + http_errors + invalid_responses + timeouts +
/// transport_errors + circuit_open + cancelled + other_errors + in_flight
/// (read while calls run, the counters are each exact but not taken at one instant).
struct OriginStats {
  /// "scheme://host:port" as called (lowercase, without user:password@), plus
  /// " (unix:PATH)" for calls through a Unix socket.
  std::string origin;

  std::uint64_t calls = 0;              ///< calls started to this origin
  std::uint64_t attempts = 0;           ///< requests sent, retries included
  std::uint64_t successes = 0;          ///< calls that returned a value
  std::uint64_t remote_failures = 0;    ///< RemoteExecuteError: the webhook's failure answer
  std::uint64_t http_errors = 0;        ///< HttpError: a status outside 2xx
  std::uint64_t invalid_responses = 0;  ///< InvalidResponseError (UnknownStatusError too)
  std::uint64_t timeouts = 0;           ///< TimeoutError
  std::uint64_t transport_errors = 0;   ///< other TransportErrors (not CircuitOpenError)
  std::uint64_t circuit_open = 0;       ///< CircuitOpenError: refused by the breaker
  std::uint64_t cancelled = 0;          ///< CancelledError
  std::uint64_t other_errors = 0;       ///< anything else (a dispatcher's or signer's own)
  std::uint64_t in_flight = 0;          ///< started and not finished (waiting retries too)

  /// Duration of the finished calls that were sent (from the call's start to its result,
  /// retries included), from a histogram with 8 buckets per doubling: each percentile is
  /// the top of its bucket (at most 12.5 % above the true value), never above the maximum.
  std::uint64_t latency_samples = 0;
  std::chrono::microseconds latency_p50{0};  ///< median
  std::chrono::microseconds latency_p90{0};  ///< 90th percentile
  std::chrono::microseconds latency_p99{0};  ///< 99th percentile
  std::chrono::microseconds latency_max{0};  ///< the slowest

  /// The origin's circuit breaker (closed when it is off).
  CircuitState circuit = CircuitState::closed;
  /// While open: when it lets a probe through.
  std::chrono::steady_clock::time_point circuit_retry_at{};
};

}  // namespace v1
}  // namespace http_task
