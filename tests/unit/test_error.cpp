// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/error.hpp>

#include <chrono>
#include <string>
#include <type_traits>

using namespace http_task;

TEST_CASE("the error classes form the documented hierarchy", "[error]") {
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, Error>);
  STATIC_REQUIRE(std::is_base_of_v<Error, RemoteExecuteError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, InvalidResponseError>);
  STATIC_REQUIRE(std::is_base_of_v<InvalidResponseError, UnknownStatusError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, HttpError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, TransportError>);
  STATIC_REQUIRE(std::is_base_of_v<TransportError, TimeoutError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, CancelledError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, RequestError>);
}

TEST_CASE("errors carry what the user needs", "[error]") {
  RemoteExecuteError r("Invalid moon alignment.");
  CHECK(r.reason() == "Invalid moon alignment.");
  CHECK(std::string(r.what()) == "Invalid moon alignment.");
  CHECK(RemoteExecuteError("").reason().empty());
  CHECK(std::string(RemoteExecuteError("").what()).find("without a reason") != std::string::npos);

  UnknownStatusError u("u.u.u.u");
  CHECK(u.status() == "u.u.u.u");
  CHECK(std::string(u.what()).find("u.u.u.u") != std::string::npos);

  HttpError h(503, "<html>busy</html>", "overloaded");
  CHECK(h.status_code() == 503);
  CHECK(h.body() == "<html>busy</html>");
  CHECK(h.reason() == "overloaded");
  CHECK(std::string(h.what()) == "HTTP status 503: overloaded");

  TimeoutError t(CURLE_OPERATION_TIMEDOUT, "Timeout was reached");
  CHECK(t.curl_code() == CURLE_OPERATION_TIMEDOUT);
}

TEST_CASE("CircuitOpenError names the origin and when the breaker lets a probe through",
          "[error]") {
  static_assert(std::is_base_of_v<TransportError, CircuitOpenError>);
  const auto later = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  CircuitOpenError e("https://hooks.example.com:8443", later);
  CHECK(e.origin() == "https://hooks.example.com:8443");
  CHECK(e.retry_at() == later);
  CHECK(e.curl_code() == CURLE_COULDNT_CONNECT);
  const std::string what = e.what();
  CHECK(what.find("https://hooks.example.com:8443") != std::string::npos);
  CHECK(what.find("next probe in 29.") != std::string::npos);  // a moment under 30 s
  const std::string probing =
      CircuitOpenError("http://a", std::chrono::steady_clock::now() - std::chrono::seconds(1))
          .what();
  CHECK(probing.find("a probe call is under way") != std::string::npos);
}
