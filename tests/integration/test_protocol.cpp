// SPDX-License-Identifier: MIT
// Every row of PROTOCOL.md section 2, sent by a real HTTP server with the exact bytes.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/checks.hpp"
#include "support/webhook_urls.hpp"

#include <string>

using namespace http_task;
using http_task_test::answer_url;
using http_task_test::client;
using http_task_test::require_throws_as;

namespace {
AsyncResult<Json> call(const std::string& url) { return URL(url, client()).get_async(); }
Json fetch(const std::string& url) { return call(url).get(); }
}  // namespace

TEST_CASE("success returns retval", "[protocol]") {
  CHECK(fetch(answer_url(R"({"status": "success", "retval": 100})")).as<int>() == 100);
  Json obj = fetch(answer_url(R"({"status":"success","retval":{"a":[1,2,"x"]}})"));
  CHECK(obj.dump() == R"({"a":[1,2,"x"]})");
  CHECK(URL(answer_url(R"({"status":"success","retval":"hé"})"), client())
            .get_async<std::string>()
            .get() == "hé");
}

TEST_CASE("success with a null retval is a JSON null", "[protocol]") {
  Json v = fetch(answer_url(R"({"status":"success","retval":null})"));
  CHECK(v.is_null());
  CHECK(URL(answer_url(R"({"status":"success","retval":null})"), client())
            .get_async<std::optional<int>>()
            .get() == std::nullopt);
}

TEST_CASE("success without retval is an invalid answer", "[protocol]") {
  CHECK_THROWS_AS(fetch(answer_url(R"({"status":"success"})")), InvalidResponseError);
}

TEST_CASE("failure raises RemoteExecuteError with the remote reason", "[protocol]") {
  {
    auto e = require_throws_as<RemoteExecuteError>(
        call(answer_url(R"({"status": "failure", "reason": "Invalid moon alignment."})")));
    CHECK(e.reason() == "Invalid moon alignment.");
    CHECK(std::string(e.what()) == "Invalid moon alignment.");
  }
}

TEST_CASE("failure without a reason has an empty reason", "[protocol]") {
  {
    auto e = require_throws_as<RemoteExecuteError>(call(answer_url(R"({"status":"failure"})")));
    CHECK(e.reason().empty());
  }
}

TEST_CASE("any other status is an UnknownStatusError, matched case-sensitively", "[protocol]") {
  for (std::string status : {"u.u.u.u", "SUCCESS", "Failure", ""}) {
    {
      auto e = require_throws_as<UnknownStatusError>(
          call(answer_url(R"({"status":")" + status + R"(","retval":1})")));
      CHECK(e.status() == status);
    }
  }
  CHECK_THROWS_AS(fetch(answer_url(R"({"status":1,"retval":1})")), UnknownStatusError);
  // It is a kind of InvalidResponseError, as the contract says.
  CHECK_THROWS_AS(fetch(answer_url(R"({"status":"ok"})")), InvalidResponseError);
}

TEST_CASE("an empty body is an invalid answer", "[protocol]") {
  CHECK_THROWS_AS(fetch(answer_url("")), InvalidResponseError);
  CHECK_THROWS_AS(fetch(answer_url("", 204)), InvalidResponseError);
}

TEST_CASE("a body that is not JSON names the parser's message and offset", "[protocol]") {
  {
    auto e = require_throws_as<InvalidResponseError>(call(answer_url("{'#{:'''")));
    CHECK_THAT(e.what(), Catch::Contains("offset 1"));
  }
  CHECK_THROWS_AS(fetch(answer_url("<html>Server Error</html>")), InvalidResponseError);
}

TEST_CASE("JSON that is not an object is an invalid answer", "[protocol]") {
  for (std::string body : {"[1,2]", "100", "\"success\"", "null", "true"})
    CHECK_THROWS_AS(fetch(answer_url(body)), InvalidResponseError);
}

TEST_CASE("an object without status is an invalid answer", "[protocol]") {
  CHECK_THROWS_AS(fetch(answer_url(R"({"retval":100})")), InvalidResponseError);
}

TEST_CASE("trailing garbage after the object is an invalid answer", "[protocol]") {
  CHECK_THROWS_AS(fetch(answer_url(R"({"status":"success","retval":1} {"b":2})")),
                  InvalidResponseError);
  CHECK_THROWS_AS(fetch(answer_url(R"({"status":"success","retval":1}x)")), InvalidResponseError);
  // Whitespace after the object is not garbage.
  CHECK(fetch(answer_url("{\"status\":\"success\",\"retval\":1}\r\n")).as<int>() == 1);
}

TEST_CASE("an HTTP status outside 2xx is an HttpError with the body", "[protocol]") {
  {
    auto e = require_throws_as<HttpError>(call(answer_url("<h1>Server Error</h1>", 500)));
    CHECK(e.status_code() == 500);
    CHECK(e.body() == "<h1>Server Error</h1>");
    CHECK(e.reason().empty());
  }
  {
    auto e = require_throws_as<HttpError>(
        call(answer_url(R"({"status":"failure","reason":"quota exceeded"})", 429)));
    CHECK(e.status_code() == 429);
    CHECK(e.reason() == "quota exceeded");
  }
  CHECK_THROWS_AS(fetch(answer_url(R"({"status":"success","retval":1})", 404)), HttpError);
}

TEST_CASE("the Content-Type of the answer is ignored", "[protocol]") {
  std::string ok = R"({"status":"success","retval":7})";
  CHECK(fetch(answer_url(ok, 200, "content_type=text/html")).as<int>() == 7);
  CHECK(fetch(answer_url(ok, 200, "content_type=")).as<int>() == 7);
  CHECK(fetch(answer_url(ok, 200, "chunked=1&chunk_size=3")).as<int>() == 7);
}

TEST_CASE("duplicate protocol keys are refused as ambiguous", "[protocol]") {
  CHECK_THROWS_AS(fetch(answer_url(R"({"status":"failure","status":"success","retval":1})")),
                  InvalidResponseError);
}
