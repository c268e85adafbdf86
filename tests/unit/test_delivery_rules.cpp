// SPDX-License-Identifier: MIT
// detail/policy/delivery_rules.hpp and the Standard Webhooks RetryPolicy: which statuses
// are retried, and the waits the schedule gives (jitter within its bounds).
#include <catch2/catch.hpp>

#include <http_task/detail/policy/delivery_rules.hpp>
#include <http_task/retry_policy.hpp>

#include <algorithm>
#include <chrono>
#include <random>

using namespace http_task;
using namespace std::chrono_literals;

TEST_CASE("the Standard Webhooks policy: its schedule, any failure but 410, a key",
          "[delivery_rules]") {
  RetryPolicy p = RetryPolicy::standard_webhooks();
  CHECK(p.max_attempts == 8);
  REQUIRE(p.retry_schedule.size() == 7);
  CHECK(p.retry_schedule[0] == 5s);
  CHECK(p.retry_schedule[1] == 5min);
  CHECK(p.retry_schedule[2] == 30min);
  CHECK(p.retry_schedule[3] == 2h);
  CHECK(p.retry_schedule[4] == 5h);
  CHECK(p.retry_schedule[5] == 10h);
  CHECK(p.retry_schedule[6] == 10h);
  CHECK(p.idempotency_key);
  CHECK(RetryPolicy::standard_webhooks(0.001).retry_schedule[1] == 300ms);

  for (long s : {400L, 404L, 409L, 429L, 500L, 502L, 503L, 504L, 301L})
    CHECK(detail::retries_status(p, s));
  for (long s : {200L, 201L, 204L, 410L}) CHECK_FALSE(detail::retries_status(p, s));

  RetryPolicy plain = RetryPolicy::attempts(3);
  CHECK(detail::retries_status(plain, 503));
  CHECK_FALSE(detail::retries_status(plain, 500));
  CHECK_FALSE(detail::retries_status(plain, 410));
}

TEST_CASE("scheduled waits stay within the jitter, the last one repeating", "[delivery_rules]") {
  RetryPolicy p = RetryPolicy::standard_webhooks();
  std::mt19937_64 random(7);
  bool below = false, above = false;
  for (int attempts = 1; attempts <= 10; ++attempts) {
    const auto base = p.retry_schedule[std::min<std::size_t>(attempts, 7) - 1];
    for (int i = 0; i < 50; ++i) {
      const auto wait = detail::backoff(p, attempts, random);
      INFO("after attempt " << attempts);
      CHECK(wait >= base * 0.8 - 1ms);
      CHECK(wait <= base * 1.2 + 1ms);
      below = below || wait < base;
      above = above || wait > base;
    }
  }
  CHECK(below);  // it is jitter, not a fixed wait
  CHECK(above);
  p.schedule_jitter = 0;
  CHECK(detail::backoff(p, 2, random) == std::chrono::steady_clock::duration(5min));
}

TEST_CASE("without a schedule the wait is full jitter under the doubling backoff",
          "[delivery_rules]") {
  RetryPolicy p = RetryPolicy::attempts(10);
  p.initial_backoff = 100ms;
  p.max_backoff = 1s;
  std::mt19937_64 random(7);
  for (int attempts = 1; attempts <= 8; ++attempts)
    for (int i = 0; i < 50; ++i) {
      const auto wait = detail::backoff(p, attempts, random);
      CHECK(wait >= 0ms);
      CHECK(wait <= std::min<std::chrono::milliseconds>(1s, 100ms * (1 << (attempts - 1))));
    }
}
