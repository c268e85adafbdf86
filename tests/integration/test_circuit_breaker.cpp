// SPDX-License-Identifier: MIT
// The per-origin circuit breaker against a real server on 127.0.0.1 (testing.hpp's
// WebhookServer, which counts what reaches it): it opens after failures, then fails fast
// without sending anything, lets exactly one probe through once open_for has passed, and
// closes or re-opens by the probe's outcome. Waits are for states, never timing asserts.
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
using http_task::testing::ReceivedRequest;
using http_task::testing::Reply;
using http_task::testing::WebhookServer;
using http_task_test::closed_port;
using std::chrono::milliseconds;

namespace {

ClientOptions breaker_options(milliseconds open_for) {
  ClientOptions options;
  options.circuit_breaker.enabled = true;
  options.circuit_breaker.minimum_calls = 4;
  options.circuit_breaker.failure_ratio = 0.5;
  options.circuit_breaker.window = std::chrono::minutes(10);
  options.circuit_breaker.open_for = open_for;
  return options;
}

// Runs the call, and returns the error it ended with ("" on success).
template <class T>
std::string error_of(AsyncResult<T> result) {
  try {
    result.get();
    return "";
  } catch (const CircuitOpenError&) {
    return "circuit_open";
  } catch (const TimeoutError&) {
    return "timeout";
  } catch (const TransportError&) {
    return "transport";
  } catch (const RemoteExecuteError&) {
    return "remote";
  } catch (const HttpError& e) {
    return "http " + std::to_string(e.status_code());
  }
}

}  // namespace

TEST_CASE("the breaker opens after failures and then fails fast: nothing reaches the server",
          "[circuit_breaker]") {
  WebhookServer server;
  server.on("/down", Reply::http_error(503));
  Client client(breaker_options(std::chrono::minutes(10)));
  URL down(server.url("/down"), client);
  for (int i = 0; i < 4; ++i) CHECK(error_of(down.get_async()) == "http 503");
  CHECK(client.circuit_state(server.base_url()) == CircuitState::open);
  CHECK(client.circuit_state(server.url("/other/path?x=1")) == CircuitState::open);
  const auto before = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    try {
      down.get_async().get();
      FAIL("a call went through an open breaker");
    } catch (const CircuitOpenError& e) {
      CHECK(e.origin() == server.base_url());
      CHECK(e.retry_at() > before + std::chrono::minutes(9));
      CHECK(std::string(e.what()).find(server.base_url()) != std::string::npos);
      CHECK(e.curl_code() == CURLE_COULDNT_CONNECT);
    }
  }
  // Another route of the same origin is refused too; so is a POST.
  server.on("/up", Reply::success(1));
  CHECK(error_of(URL(server.url("/up"), client).post_async()) == "circuit_open");
  CHECK(server.request_count() == 4);
}

TEST_CASE("a webhook's failure answers and 4xx other than 429 do not open the breaker",
          "[circuit_breaker]") {
  WebhookServer server;
  server.on("/remote", Reply::failure("Invalid moon alignment."));
  server.on("/missing", Reply::http_error(404));
  Client client(breaker_options(std::chrono::minutes(10)));
  for (int i = 0; i < 10; ++i) {
    CHECK(error_of(URL(server.url("/remote"), client).get_async()) == "remote");
    CHECK(error_of(URL(server.url("/missing"), client).get_async()) == "http 404");
  }
  CHECK(client.circuit_state(server.base_url()) == CircuitState::closed);
  CHECK(server.request_count() == 20);
}

TEST_CASE("429 answers and transport errors open the breaker", "[circuit_breaker]") {
  WebhookServer server;
  server.on("/busy", Reply::http_error(429));
  Client client(breaker_options(std::chrono::minutes(10)));
  for (int i = 0; i < 4; ++i)
    CHECK(error_of(URL(server.url("/busy"), client).get_async()) == "http 429");
  CHECK(client.circuit_state(server.base_url()) == CircuitState::open);

  const std::string dead = "http://127.0.0.1:" + std::to_string(closed_port());
  for (int i = 0; i < 4; ++i) CHECK(error_of(URL(dead + "/x", client).get_async()) == "transport");
  CHECK(client.circuit_state(dead) == CircuitState::open);
  CHECK(error_of(URL(dead + "/x", client).get_async()) == "circuit_open");

  WebhookServer slow;
  slow.on("/slow", Reply::success(1).after(milliseconds(5000)));
  // Made for each call rather than copied: GCC 12 warns (maybe-uninitialized, wrongly)
  // about the copy of CallOptions' empty optional<std::string> here, depending on what
  // the Client's constructor inlines.
  const auto quick = [] {
    CallOptions options;
    options.timeout = milliseconds(100);
    return options;
  };
  for (int i = 0; i < 4; ++i)
    CHECK(error_of(URL(slow.url("/slow"), client).get_async({}, quick())) == "timeout");
  CHECK(client.circuit_state(slow.base_url()) == CircuitState::open);
}

TEST_CASE("half-open lets exactly one probe through, and its success closes the breaker",
          "[circuit_breaker]") {
  std::atomic<bool> healthy{false};
  WebhookServer server;
  server.on("/hook", [&](const ReceivedRequest&) {
    // The probe answers late, so that the calls started beside it find it under way.
    return healthy ? Reply::success(7).after(milliseconds(1000)) : Reply::http_error(500);
  });
  Client client(breaker_options(milliseconds(300)));
  URL hook(server.url("/hook"), client);
  CallOptions no_wait;
  for (int i = 0; i < 4; ++i) CHECK(error_of(hook.get_async()) == "http 500");
  std::chrono::steady_clock::time_point retry_at;
  try {
    hook.get_async().get();
    FAIL("the breaker did not open");
  } catch (const CircuitOpenError& e) {
    retry_at = e.retry_at();
  }
  healthy = true;
  std::this_thread::sleep_until(retry_at + milliseconds(10));
  CHECK(client.circuit_state(server.base_url()) == CircuitState::open);  // until a call comes
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 5; ++i) calls.push_back(hook.get_async());
  int ok = 0;
  int refused = 0;
  for (auto& call : calls) {
    const std::string e = error_of(std::move(call));
    ok += e.empty();
    refused += e == "circuit_open";
  }
  CHECK(ok == 1);
  CHECK(refused == 4);
  CHECK(server.request_count() == 5);  // 4 failures, 1 probe
  CHECK(client.circuit_state(server.base_url()) == CircuitState::closed);
  CHECK(hook.get_async().get().as<int>() == 7);
  CHECK(server.request_count() == 6);
}

TEST_CASE("a failed probe opens the breaker again for open_for", "[circuit_breaker]") {
  WebhookServer server;
  server.on("/hook", Reply::http_error(502));
  Client client(breaker_options(milliseconds(300)));
  URL hook(server.url("/hook"), client);
  for (int i = 0; i < 4; ++i) CHECK(error_of(hook.get_async()) == "http 502");
  std::chrono::steady_clock::time_point first;
  try {
    hook.get_async().get();
    FAIL("the breaker did not open");
  } catch (const CircuitOpenError& e) {
    first = e.retry_at();
  }
  std::this_thread::sleep_until(first + milliseconds(10));
  CHECK(error_of(hook.get_async()) == "http 502");  // the probe went out, and failed
  CHECK(server.request_count() == 5);
  CHECK(client.circuit_state(server.base_url()) == CircuitState::open);
  try {
    hook.get_async().get();
    FAIL("the breaker did not open again");
  } catch (const CircuitOpenError& e) {
    CHECK(e.retry_at() > first);
  }
  CHECK(server.request_count() == 5);
}

TEST_CASE("a cancelled probe lets the next call probe", "[circuit_breaker]") {
  std::atomic<bool> healthy{false};
  WebhookServer server;
  server.on("/hook", [&](const ReceivedRequest&) {
    return healthy ? Reply::success(1).after(milliseconds(200)) : Reply::http_error(500);
  });
  Client client(breaker_options(milliseconds(200)));
  URL hook(server.url("/hook"), client);
  for (int i = 0; i < 4; ++i) CHECK(error_of(hook.get_async()) == "http 500");
  std::this_thread::sleep_for(milliseconds(250));
  healthy = true;
  auto probe = hook.get_async();
  REQUIRE(server.wait_for_requests(5, std::chrono::seconds(10)));
  CHECK(error_of(hook.get_async()) == "circuit_open");  // the probe is under way
  probe.cancel();
  CHECK_THROWS_AS(probe.get(), CancelledError);
  // The loop may take a turn to retire the cancelled probe: the next call probes then.
  std::string e = "circuit_open";
  for (int i = 0; i < 100 && e == "circuit_open"; ++i) {
    e = error_of(hook.get_async());
    if (e == "circuit_open") std::this_thread::sleep_for(milliseconds(20));
  }
  CHECK(e.empty());
  CHECK(client.circuit_state(server.base_url()) == CircuitState::closed);
}

TEST_CASE("origins have breakers of their own", "[circuit_breaker]") {
  WebhookServer bad;
  WebhookServer good;
  bad.on("/hook", Reply::http_error(503));
  good.on("/hook", Reply::success(1));
  Client client(breaker_options(std::chrono::minutes(10)));
  for (int i = 0; i < 4; ++i)
    CHECK(error_of(URL(bad.url("/hook"), client).get_async()) == "http 503");
  CHECK(error_of(URL(bad.url("/hook"), client).get_async()) == "circuit_open");
  CHECK(URL(good.url("/hook"), client).get_async().get().as<int>() == 1);
  CHECK(client.circuit_state(good.base_url()) == CircuitState::closed);
}

TEST_CASE("off by default: failures never end a call with CircuitOpenError", "[circuit_breaker]") {
  WebhookServer server;
  server.on("/down", Reply::http_error(503));
  Client client;
  URL down(server.url("/down"), client);
  for (int i = 0; i < 30; ++i) CHECK(error_of(down.get_async()) == "http 503");
  CHECK(server.request_count() == 30);
  CHECK(client.circuit_state(server.base_url()) == CircuitState::closed);
  CHECK(client.origin_stats().empty());
}

TEST_CASE("with retries, an attempt the breaker refuses ends the call with CircuitOpenError",
          "[circuit_breaker]") {
  WebhookServer server;
  server.on("/down", Reply::http_error(503));
  ClientOptions options = breaker_options(std::chrono::minutes(10));
  options.retry.max_attempts = 10;
  options.retry.initial_backoff = milliseconds(1);
  options.retry.max_backoff = milliseconds(5);
  Client client(options);
  // Attempts 1-4 fail with 503 and open the breaker; the 5th is refused.
  CHECK(error_of(URL(server.url("/down"), client).get_async()) == "circuit_open");
  CHECK(server.request_count() == 4);
}
