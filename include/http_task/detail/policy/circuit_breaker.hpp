// SPDX-License-Identifier: MIT
// One origin's circuit breaker (http_task/circuit_breaker.hpp says what it does). Its
// transitions happen on the loop's thread only, when a call asks to go and when an
// attempt ends, so it needs no timer and no lock; state and retry_at are mirrored in
// atomics for readers on other threads (Client::origin_stats). The window is a ring of
// slices with counts: recording allocates nothing.
#pragma once

#include <http_task/circuit_breaker.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace http_task {
inline namespace v1 {
namespace detail {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Admit { go, probe, refuse };
  enum class Verdict { success, failure, neutral };

  // options.enabled false: the breaker never opens by itself, but trip() still opens it.
  explicit CircuitBreaker(const CircuitBreakerOptions& options) noexcept : options_(options) {
    auto slice = options.window / static_cast<long>(kSlices);
    slice_ = std::chrono::duration_cast<Clock::duration>(slice).count();
    if (slice_ <= 0) slice_ = 1;
  }

  // Loop: whether a call (or a retry) may be sent now. probe: it is the half-open probe,
  // whose end must be reported with probe = true.
  Admit admit(Clock::time_point now) noexcept {
    switch (state_.load(std::memory_order_relaxed)) {
      case CircuitState::closed:
        return Admit::go;
      case CircuitState::open:
        if (now < retry_at()) return Admit::refuse;
        set_state(CircuitState::half_open);
        probe_out_ = true;
        return Admit::probe;
      case CircuitState::half_open:
        if (probe_out_) return Admit::refuse;
        probe_out_ = true;
        return Admit::probe;
    }
    return Admit::go;
  }

  // Loop: an attempt admitted earlier ended. Attempts let through before the breaker
  // opened and ending while it is open or half-open say nothing new: only the probe's
  // outcome decides then.
  void ended(Verdict verdict, bool probe, Clock::time_point now) noexcept {
    const CircuitState state = state_.load(std::memory_order_relaxed);
    if (probe) {
      if (state != CircuitState::half_open) return;  // tripped meanwhile
      probe_out_ = false;
      if (verdict == Verdict::success) {
        close();
      } else if (verdict == Verdict::failure) {
        open_until(now + options_.open_for);
      }  // neutral (cancelled, stopped by this side): the next call probes
      return;
    }
    if (state != CircuitState::closed || !options_.enabled || verdict == Verdict::neutral) return;
    Slice& slice = slice_at(now);
    ++slice.attempts;
    if (verdict == Verdict::failure) ++slice.failures;
    std::uint64_t attempts = 0;
    std::uint64_t failures = 0;
    const std::int64_t current = slice_number(now);
    for (const Slice& s : slices_) {
      if (current - s.number >= static_cast<std::int64_t>(kSlices)) continue;  // left the window
      attempts += s.attempts;
      failures += s.failures;
    }
    if (attempts >= options_.minimum_calls && attempts > 0 &&
        static_cast<double>(failures) >= options_.failure_ratio * static_cast<double>(attempts))
      open_until(now + options_.open_for);
  }

  // Loop: opens the breaker until `until`, whatever its state (a 410 Gone answer, say).
  void trip(Clock::time_point until) noexcept {
    probe_out_ = false;
    open_until(until);
  }

  // Any thread.
  CircuitState state() const noexcept { return state_.load(std::memory_order_relaxed); }
  Clock::time_point retry_at() const noexcept {
    return Clock::time_point(Clock::duration(retry_at_.load(std::memory_order_relaxed)));
  }

 private:
  static constexpr std::size_t kSlices = 10;
  struct Slice {
    std::int64_t number = INT64_MIN / 2;  // which slice of time it counts (now / width)
    std::uint64_t attempts = 0;
    std::uint64_t failures = 0;
  };

  std::int64_t slice_number(Clock::time_point now) const noexcept {
    return static_cast<std::int64_t>(now.time_since_epoch().count() / slice_);
  }

  Slice& slice_at(Clock::time_point now) noexcept {
    const std::int64_t n = slice_number(now);
    Slice& s = slices_[static_cast<std::size_t>(n % static_cast<std::int64_t>(kSlices))];
    if (s.number != n) s = Slice{n, 0, 0};
    return s;
  }

  void set_state(CircuitState s) noexcept { state_.store(s, std::memory_order_relaxed); }

  void open_until(Clock::time_point until) noexcept {
    retry_at_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
    set_state(CircuitState::open);
    slices_ = {};
  }

  void close() noexcept {
    set_state(CircuitState::closed);
    slices_ = {};
  }

  const CircuitBreakerOptions& options_;
  Clock::rep slice_ = 1;  // a slice's width in clock ticks
  std::array<Slice, kSlices> slices_{};
  bool probe_out_ = false;
  std::atomic<CircuitState> state_{CircuitState::closed};
  std::atomic<Clock::rep> retry_at_{0};
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
