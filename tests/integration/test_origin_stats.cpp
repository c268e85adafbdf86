// SPDX-License-Identifier: MIT
// Client::origin_stats() against real servers on 127.0.0.1: each call lands in exactly
// one count, by origin; the latency percentiles of a known mix are on the right side of
// the known delays; and reading them while calls run is safe (this file runs under TSan
// in CI).
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/testing.hpp>

#include "support/ports.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace http_task;
using http_task::testing::Reply;
using http_task::testing::WebhookServer;
using http_task_test::closed_port;
using std::chrono::milliseconds;

namespace {

std::uint64_t finished(const OriginStats& s) {
  return s.successes + s.remote_failures + s.http_errors + s.invalid_responses + s.timeouts +
         s.transport_errors + s.circuit_open + s.cancelled + s.other_errors;
}

// A result is published before the loop counts it: waits until every call is counted.
std::vector<OriginStats> settled(const Client& client, std::size_t origins) {
  for (int i = 0; i < 500; ++i) {
    auto stats = client.origin_stats();
    bool done = stats.size() == origins;
    for (const auto& s : stats) done = done && s.in_flight == 0 && finished(s) == s.calls;
    if (done) return stats;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return client.origin_stats();
}

const OriginStats* find(const std::vector<OriginStats>& stats, const std::string& origin) {
  for (const auto& s : stats)
    if (s.origin == origin) return &s;
  return nullptr;
}

void wait_quietly(AsyncResult<Json>& r) {
  try {
    r.get();
  } catch (const Error&) {
  }
}

}  // namespace

TEST_CASE("every call is counted once, under its origin and the error it ended with",
          "[origin_stats]") {
  WebhookServer server;
  server.on("/ok", Reply::success(1));
  server.on("/remote", Reply::failure("nope"));
  server.on("/error", Reply::http_error(500));
  server.on("/garbage", Reply::raw(200, "not json"));
  server.on("/slow", Reply::success(1).after(milliseconds(5000)));
  ClientOptions options;
  options.origin_stats = true;
  Client client(options);
  const std::string dead = "http://127.0.0.1:" + std::to_string(closed_port());
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 6; ++i) calls.push_back(URL(server.url("/ok"), client).get_async());
  for (int i = 0; i < 3; ++i) calls.push_back(URL(server.url("/remote"), client).get_async());
  for (int i = 0; i < 2; ++i) calls.push_back(URL(server.url("/error"), client).post_async());
  calls.push_back(URL(server.url("/garbage"), client).get_async());
  CallOptions quick;
  quick.timeout = milliseconds(100);
  calls.push_back(URL(server.url("/slow"), client).get_async({}, quick));
  for (int i = 0; i < 2; ++i) calls.push_back(URL(dead + "/x", client).get_async());
  auto cancelled = URL(server.url("/slow"), client).get_async();
  REQUIRE(server.wait_for_requests(14, std::chrono::seconds(10)));
  cancelled.cancel();
  for (auto& c : calls) wait_quietly(c);
  wait_quietly(cancelled);

  const auto stats = settled(client, 2);
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].origin == server.base_url());  // in the order first called
  const OriginStats& s = stats[0];
  CHECK(s.calls == 14);
  CHECK(s.attempts == 14);
  CHECK(s.successes == 6);
  CHECK(s.remote_failures == 3);
  CHECK(s.http_errors == 2);
  CHECK(s.invalid_responses == 1);
  CHECK(s.timeouts == 1);
  CHECK(s.cancelled == 1);
  CHECK(s.transport_errors == 0);
  CHECK(s.circuit_open == 0);
  CHECK(s.other_errors == 0);
  CHECK(s.in_flight == 0);
  CHECK(s.latency_samples == 13);  // the cancelled call has no latency
  CHECK(s.circuit == CircuitState::closed);
  const OriginStats* d = find(stats, dead);
  REQUIRE(d != nullptr);
  CHECK(d->calls == 2);
  CHECK(d->transport_errors == 2);
}

TEST_CASE("latency percentiles of a known mix: 40 quick calls and 10 of one second",
          "[origin_stats]") {
  WebhookServer server;
  server.on("/quick", Reply::success(1));
  server.on("/second", Reply::success(1).after(milliseconds(1000)));
  ClientOptions options;
  options.origin_stats = true;
  Client client(options);
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 10; ++i) calls.push_back(URL(server.url("/second"), client).get_async());
  for (int i = 0; i < 40; ++i) {  // a few at a time: quick ones are not queued behind slow ones
    auto r = URL(server.url("/quick"), client).get_async();
    wait_quietly(r);
  }
  for (auto& c : calls) wait_quietly(c);
  const auto stats = settled(client, 1);
  REQUIRE(stats.size() == 1);
  const OriginStats& s = stats[0];
  CHECK(s.successes == 50);
  CHECK(s.latency_samples == 50);
  // Rank 25 is a quick call, ranks 45 and 50 a one-second call.
  CHECK(s.latency_p50 < milliseconds(1000));
  CHECK(s.latency_p90 >= milliseconds(1000));
  CHECK(s.latency_p99 >= milliseconds(1000));
  CHECK(s.latency_max >= s.latency_p99);
  CHECK(s.latency_p50 <= s.latency_p90);
}

TEST_CASE("the breaker's refusals and state show in the statistics", "[origin_stats]") {
  WebhookServer server;
  server.on("/down", Reply::http_error(503));
  ClientOptions options;  // the breaker keeps statistics without origin_stats
  options.circuit_breaker.enabled = true;
  options.circuit_breaker.minimum_calls = 3;
  options.circuit_breaker.open_for = std::chrono::minutes(10);
  Client client(options);
  for (int i = 0; i < 5; ++i) {
    auto r = URL(server.url("/down"), client).get_async();
    wait_quietly(r);
  }
  const auto stats = settled(client, 1);
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].http_errors == 3);
  CHECK(stats[0].circuit_open == 2);
  CHECK(stats[0].attempts == 3);
  CHECK(stats[0].latency_samples == 3);
  CHECK(stats[0].circuit == CircuitState::open);
  CHECK(stats[0].circuit_retry_at > std::chrono::steady_clock::now() + std::chrono::minutes(9));
}

TEST_CASE("retries count as attempts of one call", "[origin_stats]") {
  WebhookServer server;
  server.on("/down", Reply::http_error(503));
  ClientOptions options;
  options.origin_stats = true;
  options.retry.max_attempts = 3;
  options.retry.initial_backoff = milliseconds(1);
  Client client(options);
  auto r = URL(server.url("/down"), client).get_async();
  wait_quietly(r);
  const auto stats = settled(client, 1);
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].calls == 1);
  CHECK(stats[0].attempts == 3);
  CHECK(stats[0].http_errors == 1);
}

TEST_CASE("statistics read from other threads while calls run", "[origin_stats]") {
  WebhookServer server;
  server.on("/ok", Reply::success(1));
  server.on("/fail", Reply::http_error(500));
  ClientOptions options;
  options.origin_stats = true;
  options.circuit_breaker.enabled = true;  // its state is read too
  options.circuit_breaker.minimum_calls = 1000;
  Client client(options);
  std::atomic<bool> stop{false};
  std::atomic<bool> monotonic{true};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      std::uint64_t last = 0;
      while (!stop) {
        for (const auto& s : client.origin_stats()) {
          if (s.calls < last) monotonic = false;
          last = s.calls;
          (void)s.latency_p99;
          (void)client.circuit_state(s.origin);
        }
      }
    });
  }
  constexpr int kCalls = 200;
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < kCalls; ++i)
    calls.push_back(URL(server.url(i % 10 == 0 ? "/fail" : "/ok"), client).get_async());
  for (auto& c : calls) wait_quietly(c);
  const auto stats = settled(client, 1);
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(monotonic);
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].calls == kCalls);
  CHECK(stats[0].successes == kCalls - kCalls / 10);
  CHECK(stats[0].http_errors == kCalls / 10);
}
