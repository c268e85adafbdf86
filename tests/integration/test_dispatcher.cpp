// SPDX-License-Identifier: MIT
// Extending a call without touching the loop, as Celery users subclassed HttpDispatch.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <memory>
#include <string>

using namespace http_task;
using http_task_test::client;
using http_task_test::server_url;

namespace {

struct BearerAuth : Dispatcher {
  void prepare(Request& request) const override {
    request.options.header("Authorization", "Bearer t0ken");
    request.params.add("signed", true);
  }
};

// A server that answers plain text: its own decoding of the answer.
struct PlainText : Dispatcher {
  Json decode(const Response& response) const override {
    if (response.status != 200) throw HttpError(response.status, std::string(response.body));
    return Json::parse("\"" + std::string(response.body) + "\"");
  }
};

struct Refuses : Dispatcher {
  void prepare(Request&) const override { throw RequestError("no credentials configured"); }
};
}  // namespace

TEST_CASE("a Dispatcher adds headers and arguments before the call is sent", "[dispatcher]") {
  URL echo(server_url("/echo"), client(), std::make_shared<BearerAuth>());
  Json r = echo.get_async({{"x", 1}}).get();
  CHECK(r.find("headers")->find("authorization")->as<std::string>() == "Bearer t0ken");
  CHECK(r.find("query")->as<std::string>() == "x=1&signed=true");
}

TEST_CASE("a Dispatcher decodes answers its own way", "[dispatcher]") {
  URL plain(http_task_test::answer_url("hello", 200, "content_type=text/plain"), client(),
            std::make_shared<PlainText>());
  CHECK(plain.get_async<std::string>().get() == "hello");
  URL broken(http_task_test::answer_url("nope", 503), client(), std::make_shared<PlainText>());
  CHECK_THROWS_AS(broken.get_async().get(), HttpError);
}

TEST_CASE("an exception in prepare() ends the call through its future", "[dispatcher]") {
  URL echo(server_url("/echo"), client(), std::make_shared<Refuses>());
  auto r = echo.get_async();
  CHECK_THROWS_WITH(r.get(), "no credentials configured");
}

TEST_CASE("Client::dispatch is the general form URL's shortcuts use", "[dispatcher]") {
  Request request;
  request.method = "POST";
  request.url = server_url("/multiply");
  request.params = {{"x", 6}, {"y", 7}};
  CHECK(client().dispatch<int>(request).get() == 42);
}
