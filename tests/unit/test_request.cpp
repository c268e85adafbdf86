// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/request.hpp>

using namespace http_task;

TEST_CASE("POST, PUT and PATCH carry arguments in the body", "[request]") {
  CHECK(method_has_body("POST"));
  CHECK(method_has_body("PUT"));
  CHECK(method_has_body("PATCH"));
  CHECK_FALSE(method_has_body("GET"));
  CHECK_FALSE(method_has_body("HEAD"));
  CHECK_FALSE(method_has_body("DELETE"));
}

TEST_CASE("CallOptions chain", "[request]") {
  auto o = CallOptions()
               .with_timeout(std::chrono::seconds(2))
               .with_connect_timeout(std::chrono::milliseconds(300))
               .with_max_redirects(0)
               .header("X-Token", "abc");
  CHECK(o.timeout == std::chrono::milliseconds(2000));
  CHECK(o.connect_timeout == std::chrono::milliseconds(300));
  CHECK(o.max_redirects == 0);
  REQUIRE(o.headers.size() == 1);
  CHECK(o.headers[0].second == "abc");
}
