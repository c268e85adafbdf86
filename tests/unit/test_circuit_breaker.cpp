// SPDX-License-Identifier: MIT
// detail::CircuitBreaker's state machine, with made-up times (no clock is read): when it
// opens, what the window forgets, the single probe, and what the probe's outcome does.
#include <catch2/catch.hpp>

#include <http_task/circuit_breaker.hpp>
#include <http_task/detail/policy/circuit_breaker.hpp>
#include <http_task/detail/policy/origin_key.hpp>

#include <chrono>
#include <string>

using http_task::CircuitBreakerOptions;
using http_task::CircuitState;
using Breaker = http_task::detail::CircuitBreaker;
using Admit = Breaker::Admit;
using Verdict = Breaker::Verdict;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

CircuitBreakerOptions options() {
  CircuitBreakerOptions o;
  o.enabled = true;
  o.failure_ratio = 0.5;
  o.minimum_calls = 4;
  o.window = seconds(10);
  o.open_for = seconds(5);
  return o;
}

const Breaker::Clock::time_point t0 = Breaker::Clock::time_point(std::chrono::hours(1000));

}  // namespace

TEST_CASE("opens once the minimum of attempts is reached at the failure ratio", "[breaker]") {
  const auto o = options();
  Breaker b(o);
  CHECK(b.admit(t0) == Admit::go);
  b.ended(Verdict::failure, false, t0);
  b.ended(Verdict::failure, false, t0);
  b.ended(Verdict::failure, false, t0);
  CHECK(b.state() == CircuitState::closed);  // 3 of 3 failed, but fewer than 4 attempts
  b.ended(Verdict::success, false, t0);
  CHECK(b.state() == CircuitState::open);  // 3 of 4 >= 0.5
  CHECK(b.retry_at() == t0 + seconds(5));
  CHECK(b.admit(t0 + seconds(4)) == Admit::refuse);
}

TEST_CASE("stays closed below the ratio, and neutral outcomes do not count", "[breaker]") {
  const auto o = options();
  Breaker b(o);
  for (int i = 0; i < 10; ++i) b.ended(Verdict::neutral, false, t0);
  b.ended(Verdict::failure, false, t0);
  for (int i = 0; i < 3; ++i) b.ended(Verdict::success, false, t0);
  b.ended(Verdict::failure, false, t0);
  for (int i = 0; i < 4; ++i) b.ended(Verdict::success, false, t0);
  CHECK(b.state() == CircuitState::closed);  // 2 of 9
}

TEST_CASE("failures older than the window are forgotten", "[breaker]") {
  const auto o = options();
  Breaker b(o);
  for (int i = 0; i < 3; ++i) b.ended(Verdict::failure, false, t0);
  // 11 s later the three have left the 10 s window: one more failure is 1 of 1.
  b.ended(Verdict::failure, false, t0 + seconds(11));
  CHECK(b.state() == CircuitState::closed);
  for (int i = 0; i < 3; ++i) b.ended(Verdict::failure, false, t0 + seconds(12));
  CHECK(b.state() == CircuitState::open);
}

TEST_CASE("half-open lets exactly one probe through; success closes", "[breaker]") {
  const auto o = options();
  Breaker b(o);
  b.trip(t0 + seconds(5));
  CHECK(b.state() == CircuitState::open);
  CHECK(b.admit(t0 + seconds(5)) == Admit::probe);
  CHECK(b.state() == CircuitState::half_open);
  CHECK(b.admit(t0 + seconds(5)) == Admit::refuse);
  CHECK(b.admit(t0 + seconds(50)) == Admit::refuse);  // however long the probe takes
  b.ended(Verdict::failure, false, t0 + seconds(6));  // an older call's failure: ignored
  CHECK(b.state() == CircuitState::half_open);
  b.ended(Verdict::success, true, t0 + seconds(6));
  CHECK(b.state() == CircuitState::closed);
  CHECK(b.admit(t0 + seconds(6)) == Admit::go);
  // The window starts empty again: three failures are not enough.
  for (int i = 0; i < 3; ++i) b.ended(Verdict::failure, false, t0 + seconds(6));
  CHECK(b.state() == CircuitState::closed);
}

TEST_CASE("a failed probe re-opens for open_for; a neutral one lets the next call probe",
          "[breaker]") {
  const auto o = options();
  Breaker b(o);
  b.trip(t0);
  CHECK(b.admit(t0) == Admit::probe);
  b.ended(Verdict::failure, true, t0 + milliseconds(100));
  CHECK(b.state() == CircuitState::open);
  CHECK(b.retry_at() == t0 + milliseconds(100) + seconds(5));
  CHECK(b.admit(t0 + seconds(5)) == Admit::refuse);
  CHECK(b.admit(t0 + seconds(6)) == Admit::probe);
  b.ended(Verdict::neutral, true, t0 + seconds(6));  // cancelled: no verdict
  CHECK(b.state() == CircuitState::half_open);
  CHECK(b.admit(t0 + seconds(6)) == Admit::probe);
}

TEST_CASE("off: never opens by itself, but trip() opens it", "[breaker]") {
  CircuitBreakerOptions o = options();
  o.enabled = false;
  Breaker b(o);
  for (int i = 0; i < 100; ++i) b.ended(Verdict::failure, false, t0);
  CHECK(b.state() == CircuitState::closed);
  b.trip(t0 + seconds(1));
  CHECK(b.admit(t0) == Admit::refuse);
  CHECK(b.admit(t0 + seconds(1)) == Admit::probe);
}

TEST_CASE("origin keys: lowercase scheme and host, no credentials, the Unix socket apart",
          "[breaker]") {
  std::string key;
  http_task::detail::origin_key("HTTPS://user:pw@Example.COM:8443/a/b?c#d", {}, key);
  CHECK(key == "https://example.com:8443");
  http_task::detail::origin_key("http://localhost/hook", "/run/app.sock", key);
  CHECK(key == "http://localhost (unix:/run/app.sock)");
  http_task::detail::origin_key("http://127.0.0.1:8000", {}, key);
  CHECK(key == "http://127.0.0.1:8000");
}
