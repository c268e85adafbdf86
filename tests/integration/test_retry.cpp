// SPDX-License-Identifier: MIT
// Retries: opt-in, bounded by attempts and one deadline, backoff with jitter,
// Retry-After honoured, POST only when declared idempotent, each attempt signed anew.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/standard_webhooks.hpp>

#include "support/checks.hpp"
#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::require_throws_as;
using http_task_test::server_url;

namespace {
std::string flaky(const std::string& query) {
  static std::atomic<int> n{0};
  return server_url("/flaky?key=k" + std::to_string(++n) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
                    "&" + query);
}

RetryPolicy quick(int attempts) {
  RetryPolicy p = RetryPolicy::attempts(attempts);
  p.initial_backoff = 10ms;
  p.max_backoff = 50ms;
  return p;
}
}  // namespace

TEST_CASE("no retry unless asked, as in Celery", "[retry]") {
  Client client;
  auto e = require_throws_as<HttpError>(URL(flaky("fail=1"), client).get_async());
  CHECK(e.status_code() == 503);
}

TEST_CASE("a retried call succeeds and tells how many attempts it took", "[retry]") {
  std::atomic<int> logged_attempts{0};
  ClientOptions options;
  options.retry = quick(4);
  options.on_call_finished = [&](const CallRecord& r) { logged_attempts = r.attempts; };
  Client client(options);
  auto call = URL(flaky("fail=2&status=503"), client).get_async();
  CHECK(call.get().find("attempt")->as<int>() == 3);
  CHECK(call.attempts() == 3);
  // The log hook runs just after the result is published: give it its moment.
  for (int i = 0; i < 3000 && logged_attempts == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(logged_attempts == 3);
}

TEST_CASE("transport failures are retried too", "[retry]") {
  Client client;
  auto r = URL(flaky("fail=2&mode=close"), client)
               .get_async({}, CallOptions().with_retry(quick(3)))
               .get();
  CHECK(r.find("attempt")->as<int>() == 3);
}

TEST_CASE("when attempts run out the last error is the result", "[retry]") {
  Client client;
  auto e = require_throws_as<HttpError>(
      URL(flaky("fail=5&status=502"), client).get_async({}, CallOptions().with_retry(quick(3))));
  CHECK(e.status_code() == 502);
}

TEST_CASE("statuses not in the policy and webhook failures are not retried", "[retry]") {
  Client client;
  CallOptions o = CallOptions().with_retry(quick(5));
  CHECK_THROWS_AS(URL(flaky("fail=1&status=500"), client).get_async({}, o).get(), HttpError);
  auto failure = http_task_test::answer_url(R"({"status":"failure","reason":"no"})");
  CHECK_THROWS_AS(URL(failure, client).get_async({}, o).get(), RemoteExecuteError);
}

TEST_CASE("POST is retried only when declared idempotent", "[retry]") {
  Client client;
  CallOptions o = CallOptions().with_retry(quick(3));
  CHECK_THROWS_AS(URL(flaky("fail=1"), client).post_async({{"x", 1}}, o).get(), HttpError);
  o.with_idempotent();
  CHECK(URL(flaky("fail=1"), client).post_async({{"x", 1}}, o).get().find("attempt")->as<int>() ==
        2);
}

TEST_CASE("Retry-After is honoured, up to the policy's cap", "[retry]") {
  Client client;
  RetryPolicy p = quick(2);
  auto start = std::chrono::steady_clock::now();
  URL(flaky("fail=1&status=429&retry_after=1"), client)
      .get_async({}, CallOptions().with_retry(p))
      .get();
  CHECK(std::chrono::steady_clock::now() - start >= 1s);  // it waited as asked

  p.max_retry_after = 0ms;  // capped: an hour asked, the jittered backoff alone decides
  auto capped = URL(flaky("fail=1&status=429&retry_after=3600"), client)
                    .get_async({}, CallOptions().with_retry(p));
  REQUIRE(capped.wait_for(20s) == std::future_status::ready);
  CHECK(capped.get().find("attempt")->as<int>() == 2);
}

TEST_CASE("one deadline covers all attempts", "[retry]") {
  Client client;
  RetryPolicy p = quick(100);
  p.attempt_timeout = 200ms;
  auto r = URL(server_url("/slow?ms=5000"), client)
               .get_async({}, CallOptions().with_retry(p).with_timeout(700ms));
  require_throws_as<TimeoutError>(r);
  // Each attempt that times out lasts its 200 ms, so a 700 ms deadline leaves room for at
  // most four, however slow the machine; 100 means the deadline was ignored.
  CHECK(r.attempts() >= 1);
  CHECK(r.attempts() <= 4);
}

TEST_CASE("a call cancelled while it waits to retry ends at once", "[retry]") {
  Client client;
  RetryPolicy p = RetryPolicy::attempts(3);
  p.initial_backoff = p.max_backoff = 60s;
  // The timeout is the deadline of all attempts: it must leave room for the wait.
  auto r = URL(flaky("fail=5&status=503&retry_after=60"), client)
               .get_async({}, CallOptions().with_retry(p).with_timeout(std::chrono::minutes(5)));
  std::this_thread::sleep_for(300ms);
  CHECK(r.cancel());
  CHECK_THROWS_AS(r.get(), CancelledError);
}

TEST_CASE("each attempt is signed anew", "[retry][signing]") {
  const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  ClientOptions options;
  options.signer = std::make_shared<StandardWebhooksSigner>(secret);
  options.retry = quick(2);
  Client client(options);
  auto r = URL(flaky("fail=1&status=503&retry_after=1"), client)
               .post_async({{"x", 1}}, CallOptions().with_idempotent());
  Json seen = *r.get().find("seen");
  REQUIRE(seen.size() == 2);
  auto t1 = seen[0].find("webhook-timestamp")->as<std::string>();
  auto t2 = seen[1].find("webhook-timestamp")->as<std::string>();
  CHECK(t1 != t2);  // Retry-After: 1 puts a second between them
  CHECK(StandardWebhooksSigner::verify(secret, r.id(), t2, "x=1",
                                       seen[1].find("webhook-signature")->as<std::string>()));
  CHECK_FALSE(StandardWebhooksSigner::verify(secret, r.id(), t2, "x=1",
                                             seen[0].find("webhook-signature")->as<std::string>()));
}

TEST_CASE("the result counts attempts: all of them when retries run out, none when refused",
          "[retry]") {
  Client client;
  auto exhausted =
      URL(flaky("fail=9&status=502"), client).get_async({}, CallOptions().with_retry(quick(3)));
  CHECK_THROWS_AS(exhausted.get(), HttpError);
  CHECK(exhausted.attempts() == 3);
  auto once = URL(server_url("/multiply"), client).get_async<int>({{"x", 1}, {"y", 1}});
  CHECK(once.get() == 1);
  CHECK(once.attempts() == 1);
  auto refused = URL("file:///etc/passwd", client).get_async();
  CHECK_THROWS_AS(refused.get(), RequestError);
  CHECK(refused.attempts() == 0);
}
