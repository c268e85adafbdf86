// SPDX-License-Identifier: MIT
// http_task/testing.hpp's WebhookServer: every kind of answer it can give reaches the
// caller as the error (or value) a real webhook's would, and it records what it got.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/testing.hpp>

#include <chrono>
#include <string>
#include <thread>

using namespace http_task;
using http_task::testing::Reply;
using http_task::testing::WebhookServer;

TEST_CASE("WebhookServer answers success and failure, and records the request", "[testing]") {
  WebhookServer server;
  server.on("/multiply", [](const testing::ReceivedRequest& request) {
    Params args = request.args();
    return Reply::success(std::stoi(*args.find("x")) * std::stoi(*args.find("y")));
  });
  server.on("/moon", Reply::failure("Invalid moon alignment."));
  Client client;
  CHECK(URL(server.url("/multiply"), client).get_async({{"x", 6}, {"y", 7}}).get().as<int>() == 42);
  CHECK(URL(server.url("/multiply"), client).post_async({{"x", 2}, {"y", 5}}).get().as<int>() ==
        10);
  try {
    URL(server.url("/moon"), client).get_async().get();
    FAIL("a failure answer gave a value");
  } catch (const RemoteExecuteError& e) {
    CHECK(std::string(e.what()).find("Invalid moon alignment.") != std::string::npos);
  }

  auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].path == "/multiply");
  CHECK(requests[0].query == "x=6&y=7");
  CHECK(requests[1].method == "POST");
  CHECK(requests[1].body == "x=2&y=5");
  CHECK(requests[1].header("content-type").value_or("").find("form-urlencoded") !=
        std::string::npos);
  CHECK(requests[2].path == "/moon");
  CHECK(server.requests("/multiply").size() == 2);
}

TEST_CASE("WebhookServer's HTTP errors and unknown routes become HttpError", "[testing]") {
  WebhookServer server;
  server.on("/gone", Reply::http_error(410, "gone for good"));
  server.on("POST", "/only-post", [](const auto&) { return Reply::success(); });
  server.on("/throws", [](const auto&) -> Reply { throw std::runtime_error("boom"); });
  Client client;
  auto status_of = [&](const std::string& path) {
    try {
      URL(server.url(path), client).get_async().get();
    } catch (const HttpError& e) {
      return e.status_code();
    }
    return 0L;
  };
  CHECK(status_of("/gone") == 410);
  CHECK(status_of("/nowhere") == 404);
  CHECK(status_of("/only-post") == 405);
  CHECK(status_of("/throws") == 500);
  CHECK(server.request_count() == 4);
}

TEST_CASE("WebhookServer's faults become the matching errors", "[testing]") {
  WebhookServer server;
  server.on("/close", Reply::close_without_answer());
  server.on("/reset", Reply::reset());
  server.on("/truncated", Reply::truncated(webhook::Value::array({1, 2, 3})));
  server.on("/garbage", Reply::garbage());
  server.on("/slow", Reply::success(1).after(std::chrono::seconds(30)));
  Client client;
  CHECK_THROWS_AS(URL(server.url("/close"), client).get_async().get(), TransportError);
  CHECK_THROWS_AS(URL(server.url("/reset"), client).get_async().get(), TransportError);
  CHECK_THROWS_AS(URL(server.url("/truncated"), client).get_async().get(), TransportError);
  CHECK_THROWS_AS(URL(server.url("/garbage"), client).get_async().get(), TransportError);
  auto slow = URL(server.url("/slow"), client)
                  .get_async({}, CallOptions().with_timeout(std::chrono::milliseconds(200)));
  CHECK_THROWS_AS(slow.get(), TimeoutError);
}

TEST_CASE("WebhookServer stops while a delayed answer is pending", "[testing]") {
  Client client;
  AsyncResult<Json> pending;
  {
    WebhookServer server;
    server.on("/slow", Reply::success(1).after(std::chrono::hours(1)));
    pending = URL(server.url("/slow"), client).get_async();
    REQUIRE(server.wait_for_requests(1, std::chrono::seconds(30)));
  }  // the destructor cuts the hour short and closes the connection
  CHECK_THROWS_AS(pending.get(), TransportError);
}

TEST_CASE("WebhookServer answers extra headers and keeps concurrent requests", "[testing]") {
  WebhookServer server;
  server.on("/hook", Reply::success("ok").header("X-Seen", "yes"));
  Client client;
  std::vector<AsyncResult<Json>> results;
  for (int i = 0; i < 50; ++i)
    results.push_back(URL(server.url("/hook"), client).get_async({{"i", i}}));
  for (auto& r : results) CHECK(r.get().as<std::string>() == "ok");
  CHECK(server.request_count() == 50);
  server.clear_requests();
  CHECK(server.request_count() == 0);
}
