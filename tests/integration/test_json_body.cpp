// SPDX-License-Identifier: MIT
// JSON request bodies: URL::post_json, Request::json with any method, signing of the
// exact bytes, against the test server's /json receiver (express.json()'s rules).
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/standard_webhooks.hpp>

#include "support/webhook_urls.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace http_task;
using http_task_test::server_url;
using http_task_test::shared_client;

namespace {
const char* const kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
}

TEST_CASE("post_json sends the body as application/json, decoded as any call", "[json_body]") {
  const Json body = Json::object({{"x", 10},
                                  {"tags", std::vector<std::string>{"a", "\xc3\xa9"}},
                                  {"nested", Json::object({{"ok", true}, {"none", nullptr}})}});
  const Json answer = URL(server_url("/json"), shared_client()).post_json(body).get();
  CHECK(answer.get<std::string>("method") == "POST");
  CHECK(answer.get<Json>("json") == body);
  CHECK_FALSE(answer.get<bool>("verified"));
}

TEST_CASE("post_json's bytes on the wire are body.dump(), with its Content-Type", "[json_body]") {
  const Json body = Json::from(std::map<std::string, double>{{"ratio", 0.1}});
  const Json echo = URL(server_url("/echo"), shared_client()).post_json(body).get();
  CHECK(echo.get<std::string>("body") == body.dump());
  CHECK(echo.get<Json>("headers").get<std::string>("content-type") == "application/json");
  CHECK(echo.get<Json>("headers").get<std::string>("content-length") ==
        std::to_string(body.dump().size()));
  CHECK(echo.get<Json>("form_args").size() == 0);
}

TEST_CASE("a typed answer from post_json", "[json_body]") {
  // /json answers {"method","json","verified"}: take one member typed.
  struct Probe {
    static std::vector<int> numbers(const Json& j) {
      return j.get<Json>("json").get<std::vector<int>>("n");
    }
  };
  auto r = URL(server_url("/json"), shared_client())
               .post_json(Json::object({{"n", std::vector<int>{1, 2, 3}}}));
  CHECK(Probe::numbers(r.get()) == std::vector<int>{1, 2, 3});
}

TEST_CASE("Request::json works with any method; params go in the query", "[json_body]") {
  for (const char* method : {"PUT", "PATCH", "DELETE", "GET"}) {
    Request request;
    request.method = method;
    request.url = server_url("/echo");
    request.params = Params{{"q", "1"}};
    request.json = Json::array({1, "two"});
    const Json echo = shared_client().dispatch(request).get();
    INFO(method);
    CHECK(echo.get<std::string>("method") == method);
    CHECK(echo.get<std::string>("body") == R"([1,"two"])");
    CHECK(echo.get<std::string>("query") == "q=1");
    CHECK(echo.get<Json>("headers").get<std::string>("content-type") == "application/json");
  }
}

TEST_CASE("a caller's own Content-Type is kept", "[json_body]") {
  const Json echo = URL(server_url("/echo"), shared_client())
                        .post_json(Json::object(),
                                   CallOptions().header("Content-Type", "application/vnd.api+json"))
                        .get();
  CHECK(echo.get<Json>("headers").get<std::string>("content-type") == "application/vnd.api+json");
}

TEST_CASE("a JSON body on HEAD is refused through the future", "[json_body]") {
  Request request;
  request.method = "HEAD";
  request.url = server_url("/echo");
  request.json = Json::object();
  CHECK_THROWS_AS(shared_client().dispatch(request).get(), RequestError);
}

TEST_CASE("Standard Webhooks signing covers the JSON body's exact bytes", "[json_body][signing]") {
  ClientOptions options;
  options.signer = std::make_shared<StandardWebhooksSigner>(kSecret);
  Client client(options);
  const Json body = Json::object({{"event", "invoice.paid"}, {"amount", 12.5}});
  const std::string url = server_url("/json?secret=") + kSecret;
  const Json answer = URL(url, client).post_json(body).get();
  CHECK(answer.get<bool>("verified"));
  CHECK(answer.get<Json>("json") == body);

  // The receiver does check: the same route with another secret refuses the call.
  const std::string wrong = server_url("/json?secret=whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  try {
    URL(wrong, client).post_json(body).get();
    FAIL("no exception");
  } catch (const HttpError& e) {
    CHECK(e.status_code() == 401);
  }
}

TEST_CASE("the JSON receiver refuses a form body, as express.json() would", "[json_body]") {
  try {
    URL(server_url("/json"), shared_client()).post_async({{"x", 1}}).get();
    FAIL("no exception");
  } catch (const HttpError& e) {
    CHECK(e.status_code() == 415);
  }
}
