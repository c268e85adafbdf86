// SPDX-License-Identifier: MIT
// The per-origin rate limit (ClientOptions::rate_limit): calls over it wait in order and
// never fail for it; the cap and the rate hold as the server sees them; other origins go
// on meanwhile; a waiting call's timeout, cancel() and the Client's shutdown end it.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/testing.hpp>

#include "support/checks.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task::testing::ReceivedRequest;
using http_task::testing::Reply;
using http_task::testing::WebhookServer;
using http_task_test::require_throws_as;

namespace {
// Counts requests being answered at once; each is held `hold` before its answer.
struct ConcurrencyProbe {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  std::chrono::milliseconds hold{0};

  Reply operator()(const ReceivedRequest& request) {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
    std::this_thread::sleep_for(hold);
    --now;
    return Reply::success(request.query);
  }
};

ClientOptions limited(RateLimit limit) {
  ClientOptions options;
  options.rate_limit = limit;
  return options;
}
}  // namespace

TEST_CASE("the in-flight cap is never exceeded, and every call over it still succeeds",
          "[rate_limit]") {
  WebhookServer server;
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->hold = 40ms;
  server.on("/hook", [probe](const ReceivedRequest& r) { return (*probe)(r); });
  Client client(limited(RateLimit::of(0, 1, 2)));
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 12; ++i) calls.push_back(URL(server.url("/hook"), client).get_async());
  for (auto& call : calls) CHECK(call.get().is_string());
  CHECK(server.request_count() == 12);
  CHECK(probe->most.load() <= 2);
  CHECK(probe->most.load() >= 1);
}

TEST_CASE("calls over the limit start in the order they were made", "[rate_limit]") {
  WebhookServer server;
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->hold = 5ms;
  server.on("/hook", [probe](const ReceivedRequest& r) { return (*probe)(r); });
  Client client(limited(RateLimit::of(0, 1, 1)));
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 20; ++i)
    calls.push_back(URL(server.url("/hook"), client).get_async({{"n", i}}));
  for (auto& call : calls) call.wait();
  auto seen = server.requests("/hook");
  REQUIRE(seen.size() == 20);
  for (int i = 0; i < 20; ++i)
    CHECK(seen[static_cast<std::size_t>(i)].query == "n=" + std::to_string(i));
}

TEST_CASE("the rate holds: by time t the server saw at most burst + rate*t + 1 requests",
          "[rate_limit]") {
  WebhookServer server;
  using Clock = std::chrono::steady_clock;
  std::mutex mutex;
  std::vector<Clock::time_point> arrivals;
  server.on("/hook", [&](const ReceivedRequest&) {
    std::lock_guard<std::mutex> lock(mutex);
    arrivals.push_back(Clock::now());
    return Reply::success(1);
  });
  const double rate = 20, burst = 2;
  Client client(limited(RateLimit::of(rate, burst)));
  const auto start = Clock::now();
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 12; ++i) calls.push_back(URL(server.url("/hook"), client).get_async());
  for (auto& call : calls) CHECK(call.get().as<int>() == 1);
  std::lock_guard<std::mutex> lock(mutex);
  REQUIRE(arrivals.size() == 12);
  std::sort(arrivals.begin(), arrivals.end());
  for (std::size_t k = 0; k < arrivals.size(); ++k) {
    const double t = std::chrono::duration<double>(arrivals[k] - start).count();
    INFO("request " << k + 1 << " arrived at " << t << " s");
    CHECK(static_cast<double>(k + 1) <= burst + rate * t + 1);
  }
}

TEST_CASE("an origin over its limit does not delay calls to another origin", "[rate_limit]") {
  WebhookServer slow, other;
  slow.on("/hook", Reply::success(1));
  other.on("/hook", Reply::success(2));
  // One call per 5 s to each origin: the second call to slow waits that long.
  Client client(limited(RateLimit::of(0.2, 1)));
  CHECK(URL(slow.url("/hook"), client).get_async().get().as<int>() == 1);
  auto waiting = URL(slow.url("/hook"), client).get_async();
  CHECK(URL(other.url("/hook"), client).get_async().get().as<int>() == 2);
  CHECK_FALSE(waiting.ready());
  CHECK(slow.request_count() == 1);
  CHECK(waiting.get().as<int>() == 1);
  CHECK(slow.request_count() == 2);
}

TEST_CASE("a call waiting for its turn ends with TimeoutError at its own timeout", "[rate_limit]") {
  WebhookServer server;
  server.on("/hook", Reply::success(1));
  Client client(limited(RateLimit::of(0.05, 1)));  // a token each 20 s
  CHECK(URL(server.url("/hook"), client).get_async().get().as<int>() == 1);
  auto e = require_throws_as<TimeoutError>(
      URL(server.url("/hook"), client).get_async({}, CallOptions().with_timeout(300ms)));
  CHECK(std::string(e.what()).find("rate limit") != std::string::npos);
  CHECK(server.request_count() == 1);
}

TEST_CASE("a waiting call can be cancelled, and the next one takes its turn", "[rate_limit]") {
  WebhookServer server;
  auto probe = std::make_shared<ConcurrencyProbe>();
  probe->hold = 300ms;
  server.on("/hook", [probe](const ReceivedRequest& r) { return (*probe)(r); });
  Client client(limited(RateLimit::of(0, 1, 1)));
  auto first = URL(server.url("/hook"), client).get_async({{"n", 1}});
  auto second = URL(server.url("/hook"), client).get_async({{"n", 2}});
  auto third = URL(server.url("/hook"), client).get_async({{"n", 3}});
  REQUIRE(server.wait_for_requests(1, 10s));
  CHECK(second.cancel());
  require_throws_as<CancelledError>(std::move(second));
  CHECK(first.get().as<std::string>() == "n=1");
  CHECK(third.get().as<std::string>() == "n=3");
  auto seen = server.requests("/hook");
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].query == "n=3");
}

TEST_CASE("shutting the Client down answers waiting calls with CancelledError", "[rate_limit]") {
  WebhookServer server;
  server.on("/hook", Reply::success(1));
  auto client = std::make_unique<Client>(limited(RateLimit::of(0.05, 1)));
  CHECK(URL(server.url("/hook"), *client).get_async().get().as<int>() == 1);
  auto waiting = URL(server.url("/hook"), *client).get_async();
  auto also = URL(server.url("/hook"), *client).get_async();
  // Without the limit both would be answered by now.
  std::this_thread::sleep_for(200ms);
  CHECK_FALSE(waiting.ready());
  CHECK(server.request_count() == 1);
  client.reset();
  require_throws_as<CancelledError>(std::move(waiting), 10s);
  require_throws_as<CancelledError>(std::move(also), 10s);
  CHECK(server.request_count() == 1);
}

TEST_CASE("429 and 503 answers slow the origin down", "[rate_limit]") {
  WebhookServer server;
  std::atomic<int> n{0};
  server.on("/hook", [&](const ReceivedRequest&) {
    return ++n <= 2 ? Reply::http_error(503) : Reply::success(1);
  });
  using Clock = std::chrono::steady_clock;
  RateLimit limit = RateLimit::of(50, 1);
  limit.slow_down_for = 10s;
  Client client(limited(limit));
  // Two 503s: the rate is a quarter, 12.5 a second; 6 more calls take 5 tokens' time.
  for (int i = 0; i < 2; ++i)
    require_throws_as<HttpError>(URL(server.url("/hook"), client).get_async());
  const auto start = Clock::now();
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 6; ++i) calls.push_back(URL(server.url("/hook"), client).get_async());
  for (auto& call : calls) CHECK(call.get().as<int>() == 1);
  // At the full rate they would take 0.1 s; slowed down, 0.4 s at least.
  CHECK(Clock::now() - start >= 300ms);
}
