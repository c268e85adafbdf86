// SPDX-License-Identifier: MIT
// The Standard Webhooks delivery rules (RetryPolicy::standard_webhooks, the dead-letter
// hook): any failure but 410 Gone is tried again on the schedule, Retry-After is obeyed
// in both its forms, every attempt of a call carries the same Idempotency-Key, and a call
// that used up its attempts reaches on_dead_letter once, with all it takes to replay it.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/standard_webhooks.hpp>
#include <http_task/testing.hpp>

#include "support/checks.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <optional>
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
using Clock = std::chrono::steady_clock;

// The schedule a thousand times faster: 5 ms, 300 ms, 1.8 s...
RetryPolicy fast_standard_webhooks(int attempts) {
  RetryPolicy p = RetryPolicy::standard_webhooks(0.001);
  p.max_attempts = attempts;
  return p;
}

// Answers `failures` times with `failure`, then success; records when each came.
struct Flaky {
  int failures = 0;
  Reply failure = Reply::http_error(500);
  std::mutex mutex;
  std::vector<Clock::time_point> arrivals;
  int seen = 0;

  Reply operator()(const ReceivedRequest&) {
    std::lock_guard<std::mutex> lock(mutex);
    arrivals.push_back(Clock::now());
    return seen++ < failures ? failure : Reply::success("delivered");
  }
};

// The hooks run on the loop's thread just after the result is published.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 3000 && !pred(); ++i) std::this_thread::sleep_for(1ms);
  return pred();
}

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}
}  // namespace

TEST_CASE("the schedule retries any failure but 410, POST included, with one Idempotency-Key",
          "[delivery]") {
  WebhookServer server;
  auto flaky = std::make_shared<Flaky>();
  flaky->failures = 2;
  server.on("/hook", [flaky](const ReceivedRequest& r) { return (*flaky)(r); });
  ClientOptions options;
  options.retry = fast_standard_webhooks(4);
  options.signer =
      std::make_shared<StandardWebhooksSigner>("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  Client client(options);
  auto call = URL(server.url("/hook"), client).post_async({{"event", "paid"}});
  CHECK(call.get().as<std::string>() == "delivered");
  CHECK(call.attempts() == 3);
  auto first = URL(server.url("/hook"), client).post_async({{"event", "refunded"}});
  CHECK(first.get().as<std::string>() == "delivered");

  auto seen = server.requests("/hook");
  REQUIRE(seen.size() == 4);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("attempt " << i + 1);
    CHECK(seen[i].header("Idempotency-Key") == std::optional<std::string>(call.id()));
    CHECK(seen[i].header("webhook-id") == seen[i].header("Idempotency-Key"));
  }
  REQUIRE(seen[3].header("Idempotency-Key"));
  CHECK(*seen[3].header("Idempotency-Key") == first.id());
  CHECK(first.id() != call.id());
}

TEST_CASE("a call's own Idempotency-Key is kept on every attempt", "[delivery]") {
  WebhookServer server;
  auto flaky = std::make_shared<Flaky>();
  flaky->failures = 1;
  server.on("/hook", [flaky](const ReceivedRequest& r) { return (*flaky)(r); });
  ClientOptions options;
  options.retry = fast_standard_webhooks(3);
  Client client(options);
  auto call = URL(server.url("/hook"), client)
                  .post_async({}, CallOptions().header("Idempotency-Key", "order-17"));
  CHECK(call.get().as<std::string>() == "delivered");
  auto seen = server.requests("/hook");
  REQUIRE(seen.size() == 2);
  for (const auto& r : seen) {
    CHECK(r.header("Idempotency-Key") == std::optional<std::string>("order-17"));
    int keys = 0;
    for (const auto& h : r.headers) keys += h.first == "Idempotency-Key";
    CHECK(keys == 1);
  }
}

TEST_CASE("410 Gone ends the call at once, and is no dead letter", "[delivery]") {
  WebhookServer server;
  server.on("/hook", Reply::http_error(410, "endpoint removed"));
  std::atomic<int> letters{0};
  std::atomic<int> finished{0};
  ClientOptions options;
  options.retry = fast_standard_webhooks(5);
  options.on_dead_letter = [&](const DeadLetter&) { ++letters; };
  options.on_call_finished = [&](const CallRecord&) { ++finished; };
  Client client(options);
  auto e = require_throws_as<HttpError>(URL(server.url("/hook"), client).post_async());
  CHECK(e.status_code() == 410);
  CHECK(server.request_count() == 1);
  CHECK(eventually([&] { return finished == 1; }));
  CHECK(letters == 0);
}

TEST_CASE("410 Gone opens the origin's breaker when the breaker is on", "[delivery]") {
  WebhookServer server;
  server.on("/gone", Reply::http_error(410, "endpoint removed"));
  server.on("/other", Reply::success(1));
  ClientOptions options;
  options.retry = fast_standard_webhooks(5);
  options.circuit_breaker.enabled = true;
  options.circuit_breaker.open_for = 60s;
  Client client(options);
  auto gone = require_throws_as<HttpError>(URL(server.url("/gone"), client).post_async());
  CHECK(gone.status_code() == 410);
  CHECK(eventually([&] { return client.circuit_state(server.url("/")) == CircuitState::open; }));
  // The origin's next call, to another path, ends at once: nothing more reaches it.
  auto refused =
      require_throws_as<CircuitOpenError>(URL(server.url("/other"), client).post_async());
  CHECK(refused.retry_at() > std::chrono::steady_clock::now() + 30s);
  CHECK(server.request_count() == 1);
}

TEST_CASE("410 Gone leaves the breaker closed when it is off", "[delivery]") {
  WebhookServer server;
  server.on("/gone", Reply::http_error(410, "endpoint removed"));
  server.on("/other", Reply::success(1));
  ClientOptions options;
  options.retry = fast_standard_webhooks(5);
  Client client(options);
  CHECK(require_throws_as<HttpError>(URL(server.url("/gone"), client).post_async()).status_code() ==
        410);
  CHECK(URL(server.url("/other"), client).post_async().get().as<int>() == 1);
  CHECK(server.request_count() == 2);
}

TEST_CASE("Retry-After in seconds is obeyed over the schedule", "[delivery]") {
  WebhookServer server;
  auto flaky = std::make_shared<Flaky>();
  flaky->failures = 1;
  flaky->failure = Reply::http_error(503).header("Retry-After", "1");
  server.on("/hook", [flaky](const ReceivedRequest& r) { return (*flaky)(r); });
  ClientOptions options;
  options.retry = fast_standard_webhooks(3);  // 5 ms without the header
  Client client(options);
  CHECK(URL(server.url("/hook"), client).post_async().get().as<std::string>() == "delivered");
  std::lock_guard<std::mutex> lock(flaky->mutex);
  REQUIRE(flaky->arrivals.size() == 2);
  CHECK(flaky->arrivals[1] - flaky->arrivals[0] >= 950ms);
}

TEST_CASE("Retry-After as an HTTP date is obeyed too", "[delivery]") {
  WebhookServer server;
  auto flaky = std::make_shared<Flaky>();
  flaky->failures = 1;
  server.on("/hook", [flaky](const ReceivedRequest& r) {
    if (flaky->seen == 0)  // 2 s ahead: at least 1 s once the seconds are cut
      flaky->failure =
          Reply::http_error(429).header("Retry-After", http_date(std::time(nullptr) + 2));
    return (*flaky)(r);
  });
  ClientOptions options;
  options.retry = fast_standard_webhooks(3);
  Client client(options);
  CHECK(URL(server.url("/hook"), client).post_async().get().as<std::string>() == "delivered");
  std::lock_guard<std::mutex> lock(flaky->mutex);
  REQUIRE(flaky->arrivals.size() == 2);
  CHECK(flaky->arrivals[1] - flaky->arrivals[0] >= 900ms);
}

TEST_CASE("a call that used up its attempts is a dead letter, once, ready to replay",
          "[delivery]") {
  WebhookServer server;
  server.on("/down", Reply::http_error(503, "maintenance"));
  server.on("/up", Reply::success("ok"));
  std::mutex mutex;
  std::vector<DeadLetter> letters;
  std::atomic<int> finished{0};
  ClientOptions options;
  options.retry = fast_standard_webhooks(3);
  options.on_dead_letter = [&](const DeadLetter& letter) {
    std::lock_guard<std::mutex> lock(mutex);
    letters.push_back(letter);
  };
  options.on_call_finished = [&](const CallRecord&) { ++finished; };
  Client client(options);
  auto call = URL(server.url("/down"), client)
                  .post_async({{"event", "paid"}}, CallOptions().header("X-Tenant", "7"));
  auto e = require_throws_as<HttpError>(std::move(call));
  CHECK(e.status_code() == 503);
  CHECK(URL(server.url("/up"), client).post_async().get().as<std::string>() == "ok");
  CHECK(eventually([&] { return finished == 2; }));
  CHECK(server.requests("/down").size() == 3);

  std::lock_guard<std::mutex> lock(mutex);
  REQUIRE(letters.size() == 1);
  const DeadLetter& letter = letters[0];
  CHECK(letter.method == "POST");
  CHECK(letter.url == server.url("/down"));
  CHECK(letter.body == "event=paid");
  CHECK(letter.attempts == 3);
  CHECK(letter.http_status == 503);
  REQUIRE(letter.error);
  CHECK_THROWS_AS(std::rethrow_exception(letter.error), HttpError);
  auto header = [&](const std::string& name) -> std::optional<std::string> {
    for (const auto& h : letter.headers)
      if (h.first == name) return h.second;
    return std::nullopt;
  };
  CHECK(header("X-Tenant") == std::optional<std::string>("7"));
  CHECK(header("Idempotency-Key") == std::optional<std::string>(letter.id));
  CHECK(server.requests("/down")[0].header("Idempotency-Key") ==
        std::optional<std::string>(letter.id));

  // Replayed as it was, here to the route that answers: the same key, so the receiver
  // can tell it is the same delivery, and the same body.
  Request replay = letter.to_request();
  CHECK(replay.method == "POST");
  replay.url = server.url("/up");
  CHECK(client.dispatch(std::move(replay)).get().as<std::string>() == "ok");
  auto up = server.requests("/up");
  REQUIRE(up.size() == 2);
  CHECK(up[1].header("Idempotency-Key") == std::optional<std::string>(letter.id));
  CHECK(up[1].header("X-Tenant") == std::optional<std::string>("7"));
  CHECK(up[1].body == "event=paid");
}
