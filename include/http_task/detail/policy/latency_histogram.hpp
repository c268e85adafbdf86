// SPDX-License-Identifier: MIT
// Call durations of one origin, for percentiles: fixed buckets, log-spaced, so recording
// allocates nothing and costs one relaxed atomic add, and any thread may read while the
// loop records. Microseconds: below 16 each value has its bucket; above, each doubling
// is cut in 8 (the top 3 bits after the leading one), so a bucket is at most 12.5 % wide.
// Values past 2^37 us (38 hours) go to the last bucket.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace http_task {
inline namespace v1 {
namespace detail {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 3;
  static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
  static constexpr int kLinearBits = kSubBits + 1;  // values below 16 are exact
  static constexpr int kMaxExponent = 36;
  static constexpr std::size_t kBuckets =
      (std::size_t{1} << kLinearBits) + (kMaxExponent - kLinearBits + 1) * kSub;

  static std::size_t bucket_of(std::uint64_t us) noexcept {
    if (us < (std::uint64_t{1} << kLinearBits)) return static_cast<std::size_t>(us);
    int e = 63 - __builtin_clzll(us);
    if (e > kMaxExponent) return kBuckets - 1;
    const std::uint64_t sub = (us >> (e - kSubBits)) & (kSub - 1);
    return (std::size_t{1} << kLinearBits) + static_cast<std::size_t>(e - kLinearBits) * kSub +
           static_cast<std::size_t>(sub);
  }

  // The largest value that falls in the bucket.
  static std::uint64_t upper_bound(std::size_t bucket) noexcept {
    constexpr std::size_t linear = std::size_t{1} << kLinearBits;
    if (bucket < linear) return bucket;
    const std::size_t e = (bucket - linear) / kSub + kLinearBits;
    const std::uint64_t sub = (bucket - linear) % kSub;
    const int shift = static_cast<int>(e) - kSubBits;
    return ((kSub + sub + 1) << shift) - 1;
  }

  void record(std::chrono::nanoseconds duration) noexcept {
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(duration).count()));
    counts_[bucket_of(us)].fetch_add(1, std::memory_order_relaxed);
    std::uint64_t seen = max_.load(std::memory_order_relaxed);
    while (us > seen && !max_.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {
    }
  }

  // A copy taken bucket by bucket (consistent with itself: its total is its buckets' sum).
  struct Snapshot {
    std::array<std::uint64_t, kBuckets> counts{};
    std::uint64_t total = 0;
    std::uint64_t max = 0;

    // Nearest rank: the top of the bucket holding the ceil(p% of total)-th value, capped by
    // the maximum; 0 when empty.
    std::uint64_t percentile(double p) const noexcept {
      if (total == 0) return 0;
      auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
      rank = std::clamp<std::uint64_t>(rank, 1, total);
      std::uint64_t seen = 0;
      for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts[i];
        if (seen >= rank) return std::min(upper_bound(i), max);
      }
      return max;
    }
  };

  Snapshot snapshot() const noexcept {
    Snapshot s;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      s.counts[i] = counts_[i].load(std::memory_order_relaxed);
      s.total += s.counts[i];
    }
    s.max = max_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
