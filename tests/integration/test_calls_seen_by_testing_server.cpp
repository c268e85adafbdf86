// SPDX-License-Identifier: MIT
// What the Client puts on the wire, read from http_task::testing::WebhookServer's record
// instead of a Python server's echo: retries, headers, bodies, and a call per attempt.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/testing.hpp>

#include <atomic>
#include <chrono>
#include <string>

using namespace http_task;
using http_task::testing::ReceivedRequest;
using http_task::testing::Reply;
using http_task::testing::WebhookServer;

namespace {
RetryPolicy fast_retries(int attempts) {
  RetryPolicy policy;
  policy.max_attempts = attempts;
  policy.initial_backoff = std::chrono::milliseconds(1);
  policy.max_backoff = std::chrono::milliseconds(5);
  return policy;
}
}  // namespace

TEST_CASE("a 503 is retried up to max_attempts, each attempt a request", "[testing][retry]") {
  WebhookServer server;
  server.on("/busy", Reply::http_error(503, "busy"));
  ClientOptions options;
  options.retry = fast_retries(3);
  Client client(options);
  try {
    URL(server.url("/busy?x=1"), client).get_async().get();
    FAIL("a 503 gave a value");
  } catch (const HttpError& e) {
    CHECK(e.status_code() == 503);
  }
  auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& r : requests) CHECK(r.target == "/busy?x=1");
}

TEST_CASE("a retry after a 503 reaches the answer of the next attempt", "[testing][retry]") {
  WebhookServer server;
  std::atomic<int> seen{0};
  server.on("/flaky", [&seen](const ReceivedRequest&) {
    return ++seen < 3 ? Reply::http_error(503) : Reply::success("third time");
  });
  ClientOptions options;
  options.retry = fast_retries(5);
  Client client(options);
  CHECK(URL(server.url("/flaky"), client).get_async().get().as<std::string>() == "third time");
  CHECK(server.request_count() == 3);
}

TEST_CASE("a POST is not retried unless the call says it is idempotent", "[testing][retry]") {
  WebhookServer server;
  server.on("/busy", Reply::http_error(503));
  ClientOptions options;
  options.retry = fast_retries(3);
  Client client(options);
  CHECK_THROWS_AS(URL(server.url("/busy"), client).post_async({{"a", "1"}}).get(), HttpError);
  CHECK(server.request_count() == 1);
  server.clear_requests();
  CHECK_THROWS_AS(URL(server.url("/busy"), client)
                      .post_async({{"a", "1"}}, CallOptions().with_idempotent())
                      .get(),
                  HttpError);
  auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& r : requests) CHECK(r.body == "a=1");
}

TEST_CASE("headers and the form body arrive as the call gave them", "[testing]") {
  WebhookServer server;
  server.on("POST", "/hook", Reply::success());
  Client client;
  URL(server.url("/hook"), client)
      .post_async({{"name", "ünïcode & more"}, {"n", 5}},
                  CallOptions().header("X-Trace", "abc").bearer_token("t0k3n"))
      .get();
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const ReceivedRequest& r = requests[0];
  CHECK(r.header("x-trace") == "abc");
  CHECK(r.header("Authorization") == "Bearer t0k3n");
  CHECK(r.header("User-Agent").value_or("").rfind("http_task/", 0) == 0);
  Params args = r.args();
  REQUIRE(args.find("name"));
  CHECK(*args.find("name") == "ünïcode & more");
  CHECK(*args.find("n") == "5");
}
