// SPDX-License-Identifier: MIT
// The per-origin policies of one loop: each origin's circuit breaker and statistics
// (http_task/circuit_breaker.hpp, http_task/origin_stats.hpp, docs/per-origin.md). The
// loop calls it where a call's attempt starts (admit), where an attempt's answer is in
// (attempt_ended) and where a call is retired (retired); when both features are off,
// on() is false and the loop calls nothing here.
//
// Threads: every method but stats() and state() runs on the loop's thread. The loop
// alone adds origins, under mutex_, and reads its own additions without it; readers take
// mutex_ to walk the list, and read each origin's counters, histogram and breaker state
// through relaxed atomics. An origin, once added, stays for the loop's life (its address
// too), at most kMaxOrigins of them: calls to origins past that share one last entry,
// whose breaker never opens.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/policy/circuit_breaker.hpp>
#include <http_task/detail/policy/latency_histogram.hpp>
#include <http_task/detail/policy/origin_key.hpp>
#include <http_task/error.hpp>
#include <http_task/origin_stats.hpp>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class OriginTable {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kNoOrigin = static_cast<std::size_t>(-1);
  static constexpr std::size_t kMaxOrigins = 4096;
  static constexpr std::string_view kOverflowKey = "(other origins)";

  explicit OriginTable(const ClientOptions& options)
      : options_(options), on_(options.circuit_breaker.enabled || options.origin_stats) {}

  // Loop: whether the loop must call the hooks below.
  bool on() const noexcept { return on_; }

  // Loop, before each attempt: files the call under its origin at its first attempt,
  // and asks the breaker. False when the breaker refused: the call is then complete
  // (CircuitOpenError) and the loop retires it.
  bool admit(Transfer& call, Clock::time_point now) noexcept {
    if (call.origin == kNoOrigin) {
      try {
        call.origin = find_or_add(call.url, call.unix_socket);
      } catch (...) {  // out of memory: the call goes on unwatched
        return true;
      }
      Origin& o = *origins_[call.origin];
      bump(o.calls);
      bump(o.in_flight);
    }
    Origin& o = *origins_[call.origin];
    const CircuitBreaker::Admit verdict =
        o.overflow ? CircuitBreaker::Admit::go : o.breaker.admit(now);
    if (verdict == CircuitBreaker::Admit::refuse) {
      try {
        call.complete(Outcome::failure(CircuitOpenError(o.key, o.breaker.retry_at())));
      } catch (...) {
        call.complete(Outcome::failure(std::current_exception()));
      }
      return false;
    }
    call.circuit_probe = verdict == CircuitBreaker::Admit::probe;
    bump(o.attempts);
    return true;
  }

  // Loop: an attempt's transfer ended with rc (CURLE_OK: an HTTP answer, whose status is
  // in call.http_status). What counts as a failure: circuit_breaker.hpp.
  void attempt_ended(Transfer& call, CURLcode rc, Clock::time_point now) noexcept {
    if (call.origin == kNoOrigin) return;
    Origin& o = *origins_[call.origin];
    if (o.overflow) return;
    CircuitBreaker::Verdict verdict = CircuitBreaker::Verdict::success;
    if (call.ready() || call.stopped_by_client())
      verdict = CircuitBreaker::Verdict::neutral;  // cancelled, or ended by this side
    else if (rc != CURLE_OK || call.http_status >= 500 || call.http_status == 429)
      verdict = CircuitBreaker::Verdict::failure;
    o.breaker.ended(verdict, std::exchange(call.circuit_probe, false), now);
  }

  // Loop: the call is done. Counts its outcome and duration; a probe that never got to
  // attempt_ended (cancelled, failed before it was sent) lets the next call probe.
  void retired(Transfer& call, Clock::time_point now) noexcept {
    if (call.origin == kNoOrigin) return;
    Origin& o = *origins_[call.origin];
    if (call.circuit_probe) {
      call.circuit_probe = false;
      o.breaker.ended(CircuitBreaker::Verdict::neutral, true, now);
    }
    o.in_flight.store(read(o.in_flight) - 1, std::memory_order_relaxed);
    const Outcome& outcome = call.outcome();
    if (!outcome.error) {
      bump(o.successes);
    } else {
      std::atomic<std::uint64_t>& kind = error_counter(o, outcome.error);
      bump(kind);
      if (&kind == &o.circuit_open || &kind == &o.cancelled) return;  // no latency to tell
    }
    if (call.attempts_made > 0) o.latency.record(now - call.created);
  }

  // Loop: opens the breaker of the origin of `url` (a URL or "scheme://host:port") until
  // `until`, whatever its state, also with ClientOptions::circuit_breaker off: calls to
  // it end with CircuitOpenError until then, and the first one after it is the probe.
  // Out of memory for a new origin, nothing is opened.
  void trip(std::string_view url, Clock::time_point until,
            std::string_view unix_socket = {}) noexcept {
    try {
      const std::size_t i = find_or_add(url, unix_socket);
      on_ = true;
      if (!origins_[i]->overflow) origins_[i]->breaker.trip(until);
    } catch (...) {
    }
  }

  // Any thread.
  std::vector<OriginStats> stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<OriginStats> out;
    out.reserve(origins_.size());
    for (const auto& p : origins_) {
      const Origin& o = *p;
      OriginStats s;
      s.origin = o.key;
      s.calls = read(o.calls);
      s.attempts = read(o.attempts);
      s.successes = read(o.successes);
      s.remote_failures = read(o.remote_failures);
      s.http_errors = read(o.http_errors);
      s.invalid_responses = read(o.invalid_responses);
      s.timeouts = read(o.timeouts);
      s.transport_errors = read(o.transport_errors);
      s.circuit_open = read(o.circuit_open);
      s.cancelled = read(o.cancelled);
      s.other_errors = read(o.other_errors);
      s.in_flight = read(o.in_flight);
      const auto h = o.latency.snapshot();
      s.latency_samples = h.total;
      s.latency_p50 = std::chrono::microseconds(h.percentile(50));
      s.latency_p90 = std::chrono::microseconds(h.percentile(90));
      s.latency_p99 = std::chrono::microseconds(h.percentile(99));
      s.latency_max = std::chrono::microseconds(h.max);
      s.circuit = o.breaker.state();
      if (s.circuit != CircuitState::closed) s.circuit_retry_at = o.breaker.retry_at();
      out.push_back(std::move(s));
    }
    return out;
  }

  // Any thread: the breaker state of the origin of `url`; closed for one never called.
  CircuitState state(std::string_view url, std::string_view unix_socket = {}) const {
    std::string key;
    origin_key(url, unix_socket, key);
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    return found == index_.end() ? CircuitState::closed : origins_[found->second]->breaker.state();
  }

 private:
  struct Origin {
    Origin(std::string k, const CircuitBreakerOptions& options, bool is_overflow)
        : key(std::move(k)), breaker(options), overflow(is_overflow) {}
    const std::string key;
    CircuitBreaker breaker;
    const bool overflow;
    std::atomic<std::uint64_t> calls{0}, attempts{0}, successes{0}, remote_failures{0},
        http_errors{0}, invalid_responses{0}, timeouts{0}, transport_errors{0}, circuit_open{0},
        cancelled{0}, other_errors{0}, in_flight{0};
    LatencyHistogram latency;
  };

  // Only the loop writes: a load and a store, not a locked read-modify-write.
  static void bump(std::atomic<std::uint64_t>& n) noexcept {
    n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  static std::uint64_t read(const std::atomic<std::uint64_t>& n) noexcept {
    return n.load(std::memory_order_relaxed);
  }

  // Which count an error goes to, most derived class first.
  static std::atomic<std::uint64_t>& error_counter(Origin& o,
                                                   const std::exception_ptr& e) noexcept {
    try {
      std::rethrow_exception(e);
    } catch (const CircuitOpenError&) {
      return o.circuit_open;
    } catch (const TimeoutError&) {
      return o.timeouts;
    } catch (const TransportError&) {
      return o.transport_errors;
    } catch (const RemoteExecuteError&) {
      return o.remote_failures;
    } catch (const HttpError&) {
      return o.http_errors;
    } catch (const InvalidResponseError&) {
      return o.invalid_responses;
    } catch (const CancelledError&) {
      return o.cancelled;
    } catch (...) {
    }
    return o.other_errors;
  }

  // Loop. Throws when memory runs out.
  std::size_t find_or_add(std::string_view url, std::string_view unix_socket) {
    origin_key(url, unix_socket, key_);
    if (last_ < origins_.size() && origins_[last_]->key == key_) return last_;
    auto found = index_.find(key_);
    if (found != index_.end()) return last_ = found->second;
    const bool overflow = origins_.size() + 1 >= kMaxOrigins;
    if (overflow) {
      if (overflow_ != kNoOrigin) return overflow_;
      key_ = kOverflowKey;
    }
    auto origin = std::make_unique<Origin>(key_, options_.circuit_breaker, overflow);
    std::lock_guard<std::mutex> lock(mutex_);
    origins_.reserve(origins_.size() + 1);
    index_.emplace(key_, origins_.size());  // may throw: then nothing was added
    origins_.push_back(std::move(origin));  // reserved: cannot throw
    if (overflow) overflow_ = origins_.size() - 1;
    return last_ = origins_.size() - 1;
  }

  const ClientOptions& options_;
  bool on_;
  mutable std::mutex mutex_;  // held by the loop while it adds, by readers while they read
  std::vector<std::unique_ptr<Origin>> origins_;
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t last_ = kNoOrigin;      // the last origin looked up
  std::size_t overflow_ = kNoOrigin;  // the entry of origins past kMaxOrigins
  std::string key_;                   // reused for each lookup
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
