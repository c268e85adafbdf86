// SPDX-License-Identifier: MIT
// The libcurl easy handles a loop keeps between calls, and how many it keeps.
//
// A handle that finished a call is kept for a next one while the handles, busy and
// idle, are fewer than the most calls in flight lately (and than kMinHandles). Calls finish
// in batches: with many in flight one turn of the loop may end hundreds of them, and the
// next calls start right after. A fixed number kept below the calls in flight makes most
// calls create a handle, set a dozen options on it, and clean it up after them, CPU spent
// per call for nothing (bench/README.md). "Lately" is the current period of kPeriod and
// the one before, so the handles kept follow the load down within two periods, and
// down to kMinHandles as soon as no call is left (the peak is forgotten then): a loop
// may then sleep for long, and would otherwise keep a burst's handles until its next
// call.
//
// Loop thread only. Times are passed in, which keeps the policy testable without clocks.
#pragma once

#include <http_task/detail/loop/easy_handle.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class HandlePool {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMinHandles = 64;  // busy and idle, kept whatever the load
  static constexpr Clock::duration kPeriod = std::chrono::seconds(1);

  explicit HandlePool(Clock::time_point now) : period_start_(now) {}

  // The handle put back last, whose memory is the likeliest to be in the caches; null
  // when none is idle.
  std::unique_ptr<EasyHandle> take() {
    if (idle_.empty()) return nullptr;
    auto handle = std::move(idle_.back());
    idle_.pop_back();
    return handle;
  }

  // take(), or else a new handle set up by configure; null when libcurl cannot make one.
  template <class Configure>
  std::unique_ptr<EasyHandle> take_or_make(Configure&& configure) {
    auto handle = take();
    if (handle) return handle;
    handle = EasyHandle::create();
    if (handle) configure(*handle);
    return handle;
  }

  // A finished call's handle back: ended, then kept idle or, with no room, freed.
  void recycle(std::unique_ptr<EasyHandle> handle, std::size_t in_flight) noexcept {
    handle->end();
    try {
      put_back(std::move(handle), in_flight);
    } catch (...) {  // no room to keep it idle: freed instead
    }
  }

  // A call went on the wire; in_flight counts it.
  void started(std::size_t in_flight) noexcept { peak_now_ = std::max(peak_now_, in_flight); }

  // A finished call's handle, ready for another (EasyHandle::end() done); in_flight: the
  // calls still on the wire. Destroys the handle when enough are kept.
  void put_back(std::unique_ptr<EasyHandle> handle, std::size_t in_flight) {
    if (idle_.size() + in_flight < wanted()) idle_.push_back(std::move(handle));
  }

  // At the end of a loop turn: starts a new period when one is over, and destroys the
  // idle handles used longest ago beyond what put_back would keep now. calls_left:
  // whether calls wait for a later attempt, which keeps the recent peak.
  void trim(std::size_t in_flight, bool calls_left, Clock::time_point now) {
    if (in_flight == 0 && !calls_left) {
      peak_now_ = peak_before_ = 0;
    } else if (now - period_start_ >= kPeriod) {
      peak_before_ = peak_now_;
      peak_now_ = in_flight;
      period_start_ = now;
    }
    const std::size_t keep = wanted() - std::min(wanted(), in_flight);
    if (idle_.size() > keep)
      idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(idle_.size() - keep));
  }

  // When a turn must come, even with nothing else to do, for trim() to give back what
  // the load no longer needs: the end of this period, while the pool holds more handles
  // than it would once the recent peaks have passed. Without it, a loop that sleeps after
  // a burst (one slow call still on the wire) keeps the burst's handles, and libcurl's
  // memory held by each, until its next event. This costs at most two turns after the load falls.
  std::optional<Clock::time_point> trim_due(std::size_t in_flight) const noexcept {
    if (idle_.size() + in_flight <= kept_for(in_flight)) return std::nullopt;
    return period_start_ + kPeriod;
  }

  std::size_t idle() const noexcept { return idle_.size(); }
  void clear() noexcept { idle_.clear(); }

 private:
  // Handles, busy and idle, kept for a load of `peak` calls in flight; trim_due asks what
  // wanted() will be once both periods' peaks are the load of now.
  static std::size_t kept_for(std::size_t peak) noexcept { return std::max(kMinHandles, peak); }
  std::size_t wanted() const noexcept { return kept_for(std::max(peak_now_, peak_before_)); }

  std::vector<std::unique_ptr<EasyHandle>> idle_;  // a stack: the last one put back on top
  std::size_t peak_now_ = 0;                       // most calls in flight in this period
  std::size_t peak_before_ = 0;                    // and in the one before
  Clock::time_point period_start_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
