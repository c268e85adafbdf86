// SPDX-License-Identifier: MIT
// detail::LatencyHistogram: buckets cover every value, are at most 12.5 % wide, and the
// percentiles of a known set of values are the tops of the right buckets.
#include <catch2/catch.hpp>

#include <http_task/detail/policy/latency_histogram.hpp>

#include <chrono>
#include <cstdint>

using http_task::detail::LatencyHistogram;
using std::chrono::microseconds;

TEST_CASE("every value falls in a bucket whose top is at most 12.5 % above it", "[histogram]") {
  for (std::uint64_t v = 0; v < (std::uint64_t{1} << 20); v += 1 + v / 64) {
    const std::size_t b = LatencyHistogram::bucket_of(v);
    REQUIRE(b < LatencyHistogram::kBuckets);
    const std::uint64_t top = LatencyHistogram::upper_bound(b);
    REQUIRE(top >= v);
    REQUIRE(static_cast<double>(top) <= static_cast<double>(v) * 1.125 + 1);
    REQUIRE(LatencyHistogram::bucket_of(top) == b);  // the top belongs to its own bucket
    if (b > 0) REQUIRE(LatencyHistogram::upper_bound(b - 1) < v);
  }
  CHECK(LatencyHistogram::bucket_of(~std::uint64_t{0}) == LatencyHistogram::kBuckets - 1);
}

TEST_CASE("percentiles of a known set are the tops of their buckets, capped by the maximum",
          "[histogram]") {
  LatencyHistogram h;
  CHECK(h.snapshot().percentile(50) == 0);  // empty
  for (int i = 0; i < 90; ++i) h.record(microseconds(100));
  for (int i = 0; i < 10; ++i) h.record(microseconds(10'000));
  const auto s = h.snapshot();
  CHECK(s.total == 100);
  CHECK(s.max == 10'000);
  // 100 us lies in [96, 103]: the median and the 90th are that bucket's top.
  CHECK(s.percentile(50) == 103);
  CHECK(s.percentile(90) == 103);
  // The 91st value and up are 10,000 us, whose bucket's top is above the maximum.
  CHECK(s.percentile(91) == 10'000);
  CHECK(s.percentile(99) == 10'000);
  CHECK(s.percentile(100) == 10'000);
}

TEST_CASE("values below 16 us are exact, negative durations count as 0", "[histogram]") {
  LatencyHistogram h;
  for (int us = 1; us <= 10; ++us) h.record(microseconds(us));
  h.record(std::chrono::nanoseconds(-5));
  const auto s = h.snapshot();
  CHECK(s.total == 11);
  CHECK(s.percentile(50) == 5);  // rank 6 of 0,1,...,10
  CHECK(s.percentile(10) == 1);  // rank 2
  CHECK(s.max == 10);
}
