// SPDX-License-Identifier: MIT
// Testing your own code that calls webhooks, with http_task/testing.hpp and Catch2 v2.
// Built and run as a test (ctest -R example.testing_with_catch2): see docs/testing.md.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/testing.hpp>

#include <chrono>
#include <string>

using http_task::testing::ReceivedRequest;
using http_task::testing::Reply;
using http_task::testing::WebhookServer;

// The code under test: tells a shop's webhook that an order shipped, and says whether
// the shop took it. It is given the webhook's URL, as real code reads it from its config.
bool notify_shipped(http_task::Client& client, const std::string& webhook_url,
                    const std::string& order) {
  try {
    http_task::CallOptions options;
    options.with_timeout(std::chrono::seconds(2)).header("X-Event", "order.shipped");
    http_task::URL(webhook_url, client).post_async({{"order", order}}, options).get();
    return true;
  } catch (const http_task::Error&) {
    return false;
  }
}

TEST_CASE("notify_shipped posts the order to the webhook") {
  WebhookServer shop;
  shop.on("POST", "/hooks/shipped", [](const ReceivedRequest&) { return Reply::success(); });
  http_task::Client client;

  CHECK(notify_shipped(client, shop.url("/hooks/shipped"), "A-1001"));

  auto requests = shop.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(*requests[0].args().find("order") == "A-1001");
  CHECK(requests[0].header("X-Event") == "order.shipped");
}

TEST_CASE("notify_shipped reports a webhook that refuses or fails") {
  WebhookServer shop;
  http_task::Client client;

  SECTION("a failure answer") {
    shop.on("/hooks/shipped", Reply::failure("unknown order"));
    CHECK_FALSE(notify_shipped(client, shop.url("/hooks/shipped"), "A-404"));
  }
  SECTION("an HTTP error") {
    shop.on("/hooks/shipped", Reply::http_error(503, "maintenance"));
    CHECK_FALSE(notify_shipped(client, shop.url("/hooks/shipped"), "A-1002"));
  }
  SECTION("a connection closed without an answer") {
    shop.on("/hooks/shipped", Reply::close_without_answer());
    CHECK_FALSE(notify_shipped(client, shop.url("/hooks/shipped"), "A-1003"));
  }
  SECTION("an answer slower than the call's timeout") {
    shop.on("/hooks/shipped", Reply::success().after(std::chrono::seconds(60)));
    CHECK_FALSE(notify_shipped(client, shop.url("/hooks/shipped"), "A-1004"));
  }
  CHECK(shop.request_count() == 1);  // every case reached the webhook once
}
