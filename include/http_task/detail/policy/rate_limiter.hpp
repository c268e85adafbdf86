// SPDX-License-Identifier: MIT
// The per-origin rate limit (rate_limit.hpp) as the loop applies it: a token bucket and
// a count of attempts in flight per origin, and a line of waiting calls per origin.
// Only the loop's driver touches it. The loop asks admit() before each attempt; an
// attempt over the limit is held here, in its origin's line, until run() finds its turn
// come (a token due, a place freed by release()). The loop wakes for next_due(): the
// next token of an origin with a line, or the next deadline of a waiting call. Nothing
// here runs when the limit is off: the loop then has no RateLimiter at all.
//
// Invariants: a call is in at most one line (waiting_limit), holds at most one place in
// flight (limit_origin), and never both. Calls leave a line only from its front (their
// turn), or by being marked stale (cancelled, timed out): stale entries are dropped when
// they reach the front, and each is counted out of waiting_ once, when marked.
#pragma once

#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/policy/origin_key.hpp>
#include <http_task/rate_limit.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  enum class Admission { go, wait, no_memory };

  explicit RateLimiter(const RateLimit& limit) : limit_(limit) {
    limit_.burst = std::max(1.0, limit_.burst);
  }

  // Before an attempt: go (it holds a token and a place in flight now), wait (it is in
  // its origin's line, held here), or no_memory (neither: the loop fails it).
  Admission admit(const std::shared_ptr<Transfer>& call, Clock::time_point now) noexcept {
    try {
      const std::size_t i = origin_index(*call, now);
      Origin& o = origins_[i];
      drop_stale_front(o);
      refill(o, now);
      if (o.line.empty() && may_start(o)) {
        take(o, i, *call);
        return Admission::go;
      }
      o.line.push_back(call);
      if (call->deadline) {
        // Entries of calls that left their line stay until their deadline: past twice
        // the calls waiting, they are swept, so the heap stays proportional to the lines.
        if (expiries_.size() >= 2 * waiting_ + 64) sweep_expiries();
        expiries_.push_back({*call->deadline, call});
        std::push_heap(expiries_.begin(), expiries_.end(), later_first);
      }
    } catch (...) {
      return Admission::no_memory;  // a line entry without its expiry would be harmless
    }
    call->waiting_limit = true;
    ++waiting_;
    return Admission::wait;
  }

  // The attempt is off the wire (or never got on it): its place is free. An answer that
  // asks to slow down lowers the origin's rate for a while (RateLimit::slow_down_for).
  void release(Transfer& call) noexcept {
    if (call.limit_origin == kNone) return;
    Origin& o = origins_[call.limit_origin];
    call.limit_origin = kNone;
    --o.in_flight;
    const long s = call.http_status;
    if ((s == 429 || s == 502 || s == 503 || s == 504) && limit_.per_second > 0 &&
        limit_.slow_down_for.count() > 0) {
      const auto now = Clock::now();
      refill(o, now);  // the tokens so far at the old rate
      o.slow_level = std::min(o.slow_level + 1, kMaxSlowLevel);
      o.slow_until = now + limit_.slow_down_for;
    }
  }

  // A waiting call that was cancelled: it leaves its line (the loop retires it).
  void forget(Transfer& call) noexcept {
    if (!call.waiting_limit) return;
    call.waiting_limit = false;
    --waiting_;
  }

  // Starts the calls whose turn came, in each origin's order (start(shared_ptr)), and
  // ends those whose deadline passed while they waited (expire(shared_ptr)). Both may
  // retire the call, which may release() a place: origins are found by index each time.
  template <class Start, class Expire>
  void run(Clock::time_point now, Start&& start, Expire&& expire) {
    while (!expiries_.empty() && expiries_.front().deadline <= now) {
      std::pop_heap(expiries_.begin(), expiries_.end(), later_first);
      std::shared_ptr<Transfer> call = expiries_.back().call.lock();
      expiries_.pop_back();
      if (!call || !call->waiting_limit) continue;  // started, cancelled or gone since
      forget(*call);
      expire(std::move(call));
    }
    if (waiting_ == 0) return;
    for (std::size_t i = 0; i < origins_.size() && waiting_ > 0; ++i) {
      if (origins_[i].line.empty()) continue;
      refill(origins_[i], now);
      for (;;) {
        Origin& o = origins_[i];
        drop_stale_front(o);
        if (o.line.empty() || !may_start(o)) break;
        std::shared_ptr<Transfer> call = std::move(o.line.front());
        o.line.pop_front();
        forget(*call);
        take(o, i, *call);
        start(std::move(call));
      }
    }
  }

  // When the loop must wake for run(): the earliest token due to an origin whose line
  // waits only for one, or the earliest deadline of a waiting call. A line waiting for
  // a place in flight needs no time: release() happens in a turn, which then runs this.
  std::optional<Clock::time_point> next_due() const noexcept {
    std::optional<Clock::time_point> due;
    auto consider = [&](Clock::time_point t) {
      if (!due || t < *due) due = t;
    };
    if (!expiries_.empty()) consider(expiries_.front().deadline);
    if (waiting_ == 0) return due;
    for (const Origin& o : origins_) {
      if (o.line.empty() || !has_place(o)) continue;
      const double rate = rate_of(o, o.refilled);
      if (rate <= 0 || o.tokens >= 1) {
        consider(o.refilled);  // stale entries, or a token already there: now
        continue;
      }
      const auto wait = std::chrono::duration<double>((1.0 - o.tokens) / rate);
      consider(o.refilled + std::chrono::ceil<Clock::duration>(wait));
    }
    return due;
  }

  // Shutdown: every waiting call, once (the loop cancels and retires each).
  template <class F>
  void drain(F&& f) {
    for (Origin& o : origins_) {
      while (!o.line.empty()) {
        std::shared_ptr<Transfer> call = std::move(o.line.front());
        o.line.pop_front();
        if (!call->waiting_limit) continue;
        forget(*call);
        f(std::move(call));
      }
    }
    expiries_.clear();
  }

  std::size_t waiting() const noexcept { return waiting_; }

 private:
  static constexpr int kMaxSlowLevel = 4;  // a sixteenth of the rate at the slowest

  struct Origin {
    double tokens = 0;
    Clock::time_point refilled;
    std::size_t in_flight = 0;
    std::deque<std::shared_ptr<Transfer>> line;
    int slow_level = 0;  // the rate is divided by 2^slow_level until slow_until
    Clock::time_point slow_until;
  };

  struct Expiry {
    Clock::time_point deadline;
    std::weak_ptr<Transfer> call;
  };
  static bool later_first(const Expiry& a, const Expiry& b) { return a.deadline > b.deadline; }

  std::size_t origin_index(const Transfer& call, Clock::time_point now) {
    origin_key(call.url, call.unix_socket, key_);  // the circuit breaker's key too
    if (last_ < keys_.size() && keys_[last_] == key_) return last_;
    auto found = index_.find(key_);
    if (found != index_.end()) return last_ = found->second;
    std::string owned(key_);
    keys_.reserve(keys_.size() + 1);
    origins_.reserve(origins_.size() + 1);
    index_.emplace(owned, origins_.size());
    keys_.push_back(std::move(owned));  // reserved, moved: cannot throw
    Origin o;
    o.tokens = limit_.burst;  // a fresh origin may take its burst at once
    o.refilled = now;
    origins_.push_back(std::move(o));
    return last_ = origins_.size() - 1;
  }

  double rate_of(const Origin& o, Clock::time_point now) const noexcept {
    if (o.slow_level == 0 || now >= o.slow_until) return limit_.per_second;
    return limit_.per_second / static_cast<double>(1 << o.slow_level);
  }

  void refill(Origin& o, Clock::time_point now) noexcept {
    if (limit_.per_second <= 0 || now <= o.refilled) return;
    const double rate = rate_of(o, o.refilled);
    if (o.slow_level > 0 && now >= o.slow_until) o.slow_level = 0;
    const double seconds = std::chrono::duration<double>(now - o.refilled).count();
    o.tokens = std::min(limit_.burst, o.tokens + seconds * rate);
    o.refilled = now;
  }

  bool has_place(const Origin& o) const noexcept {
    return limit_.max_in_flight == 0 || o.in_flight < limit_.max_in_flight;
  }
  bool may_start(const Origin& o) const noexcept {
    // A token's worth, give or take the rounding of its due time.
    return has_place(o) && (limit_.per_second <= 0 || o.tokens >= 1 - 1e-9);
  }

  void take(Origin& o, std::size_t i, Transfer& call) noexcept {
    if (limit_.per_second > 0) o.tokens -= 1;
    ++o.in_flight;
    call.limit_origin = i;
  }

  void sweep_expiries() noexcept {
    expiries_.erase(std::remove_if(expiries_.begin(), expiries_.end(),
                                   [](const Expiry& e) {
                                     auto call = e.call.lock();
                                     return !call || !call->waiting_limit;
                                   }),
                    expiries_.end());
    std::make_heap(expiries_.begin(), expiries_.end(), later_first);
  }

  static void drop_stale_front(Origin& o) noexcept {
    while (!o.line.empty() && !o.line.front()->waiting_limit) o.line.pop_front();
  }

  RateLimit limit_;
  std::vector<Origin> origins_;
  std::vector<std::string> keys_;  // origins_[i]'s key
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t last_ = kNone;      // the origin admitted last: calls come in runs
  std::string key_;               // origin_key()'s (origin_key.hpp)
  std::vector<Expiry> expiries_;  // a min-heap on deadline
  std::size_t waiting_ = 0;       // calls in lines, stale entries not counted
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
