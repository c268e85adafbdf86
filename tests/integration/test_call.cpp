// SPDX-License-Identifier: MIT
// What goes on the wire: arguments, methods, headers, redirects, refusals. The test
// server's /echo route answers with what it received.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/checks.hpp"
#include "support/webhook_urls.hpp"

#include <string>
#include <vector>

using namespace http_task;
using http_task_test::client;
using http_task_test::require_throws_as;
using http_task_test::server_url;

namespace {
using Pairs = std::vector<std::vector<std::string>>;
}  // namespace

TEST_CASE("GET sends the arguments as a form-encoded query string", "[call]") {
  URL echo(server_url("/echo"), client());
  Json r = echo.get_async({{"x", 10}, {"y", "a b&c=d+e%f#g"}, {"u", "Zoë ☃"}, {"t", true}}).get();
  CHECK(r.find("method")->as<std::string>() == "GET");
  CHECK(r.find("query")->as<std::string>() ==
        "x=10&y=a+b%26c%3Dd%2Be%25f%23g&u=Zo%C3%AB+%E2%98%83&t=true");
  CHECK(r.find("args")->as<Pairs>() ==
        Pairs{{"x", "10"}, {"y", "a b&c=d+e%f#g"}, {"u", "Zoë ☃"}, {"t", "true"}});
  CHECK(r.find("body")->as<std::string>().empty());
}

TEST_CASE("GET merges into the URL's own query; the call's values win", "[call]") {
  URL echo(server_url("/echo?x=1&keep=yes#frag"), client());
  Json r = echo.get_async({{"x", 10}}).get();
  CHECK(r.find("query")->as<std::string>() == "keep=yes&x=10");
  CHECK(r.find("path")->as<std::string>() == "/echo");
}

TEST_CASE("POST sends a form body with the right Content-Type", "[call]") {
  URL echo(server_url("/echo?q=1"), client());
  Json r = echo.post_async({{"x", 10}, {"y", "a&b"}}).get();
  CHECK(r.find("method")->as<std::string>() == "POST");
  CHECK(r.find("body")->as<std::string>() == "x=10&y=a%26b");
  CHECK(r.find("query")->as<std::string>() == "q=1");
  CHECK(r.find("form_args")->as<Pairs>() == Pairs{{"x", "10"}, {"y", "a&b"}});
  auto headers = *r.find("headers");
  CHECK(headers.find("content-type")->as<std::string>() == "application/x-www-form-urlencoded");
  CHECK_FALSE(headers.find("expect"));
}

TEST_CASE("a large POST body goes out without waiting for 100-continue", "[call]") {
  std::string big(200 * 1024, 'x');
  Json r = URL(server_url("/echo"), client()).post_async({{"big", big}}).get();
  CHECK(r.find("body")->as<std::string>().size() == big.size() + 4);
}

TEST_CASE("the User-Agent and Accept headers say who calls", "[call]") {
  Json r = URL(server_url("/echo"), client()).get_async().get();
  auto headers = *r.find("headers");
  CHECK(headers.find("user-agent")->as<std::string>() ==
        std::string("http_task/") + HTTP_TASK_VERSION_STRING);
  CHECK(headers.find("accept")->as<std::string>() == "application/json");
}

TEST_CASE("other methods go out as asked", "[call]") {
  URL echo(server_url("/echo"), client());
  Json put = echo.dispatch("PUT", {{"x", 1}}).get();
  CHECK(put.find("method")->as<std::string>() == "PUT");
  CHECK(put.find("body")->as<std::string>() == "x=1");
  Json patch = echo.dispatch("PATCH", {{"x", 2}}).get();
  CHECK(patch.find("method")->as<std::string>() == "PATCH");
  Json del = echo.dispatch("DELETE", {{"x", 3}}).get();
  CHECK(del.find("method")->as<std::string>() == "DELETE");
  CHECK(del.find("query")->as<std::string>() == "x=3");
  // HEAD has no body, so there is no webhook answer to read.
  CHECK_THROWS_AS(echo.dispatch("HEAD").get(), InvalidResponseError);
}

TEST_CASE("what must not be sent is refused with a clear error", "[call]") {
  CHECK_THROWS_AS(URL("file:///etc/passwd", client()).get_async().get(), RequestError);
  CHECK_THROWS_AS(URL("gopher://127.0.0.1/", client()).get_async().get(), RequestError);
  CHECK_THROWS_AS(URL("127.0.0.1/multiply", client()).get_async().get(), RequestError);
  URL echo(server_url("/echo"), client());
  CHECK_THROWS_AS(echo.dispatch("GET /x HTTP/1.1\r\n").get(), RequestError);
  CHECK_THROWS_AS(echo.dispatch("").get(), RequestError);
  CHECK_THROWS_AS(echo.get_async({{"bad", std::string("\xff\xfe")}}).get(), RequestError);
  CHECK_THROWS_AS(echo.get_async({}, CallOptions().header("X-A", "1\r\nX-B: 2")).get(),
                  RequestError);
  CHECK_THROWS_AS(echo.get_async({}, CallOptions().header("Bad Name", "1")).get(), RequestError);
  auto refused = require_throws_as<RequestError>(URL("ftp://user:secret@h/", client()).get_async());
  CHECK_THAT(refused.what(), !Catch::Contains("secret"));
}

TEST_CASE("headers from the URL and the call are sent; the call's win", "[call]") {
  URL echo(server_url("/echo"), client());
  echo.set_options(CallOptions().header("X-Team", "core").header("X-Token", "url"));
  Json r =
      echo.get_async({}, CallOptions().header("x-token", "call").header("Accept", "*/*")).get();
  auto headers = *r.find("headers");
  CHECK(headers.find("x-team")->as<std::string>() == "core");
  CHECK(headers.find("x-token")->as<std::string>() == "call");
  CHECK(headers.find("accept")->as<std::string>() == "*/*");
}

TEST_CASE("GET follows a few redirects; POST does not unless asked", "[call]") {
  CHECK(URL(server_url("/redirect-chain?n=3"), client()).get_async<int>().get() == 3);
  auto not_followed =
      require_throws_as<HttpError>(URL(server_url("/redirect-chain?n=1"), client()).post_async());
  CHECK(not_followed.status_code() == 302);
  CHECK(URL(server_url("/redirect-chain?n=1"), client())
            .post_async<int>({}, CallOptions().with_max_redirects(3))
            .get() == 1);
  // More hops than allowed is a transport error, not a silent stop.
  CHECK_THROWS_AS(URL(server_url("/redirect-chain?n=9"), client()).get_async().get(),
                  TransportError);
  // Redirects never leave http and https.
  auto to_file = server_url("/redirect?to=file:///etc/passwd");
  CHECK_THROWS_AS(URL(to_file, client()).get_async().get(), TransportError);
}

TEST_CASE("typed results convert, or fail with a clear error", "[call]") {
  URL multiply(server_url("/multiply"), client());
  CHECK(multiply.get_async<long long>({{"x", 3000000000LL}, {"y", 3}}).get() == 9000000000LL);
  CHECK(multiply.get_async<double>({{"x", 2}, {"y", 4}}).get() == 8.0);
  CHECK_THROWS_AS(multiply.get_async<std::string>({{"x", 2}, {"y", 4}}).get(), Error);
  CHECK_NOTHROW(multiply.get_async<void>({{"x", 2}, {"y", 4}}).get());
  CHECK_THROWS_AS(multiply.get_async<void>({{"x", "two"}}).get(), RemoteExecuteError);
}

// A Client reuses its libcurl handles and sets only the options that differ from the
// previous call on the same handle (detail/loop/easy_handle.hpp). One call at a time
// on a fresh Client: every call below runs on the same handle as the one before it.
TEST_CASE("a reused handle carries nothing of the previous call over", "[call]") {
  Client own;
  URL echo(server_url("/echo"), own);

  Json get = echo.get_async({{"a", 1}}, CallOptions().header("X-One", "1")).get();
  CHECK(get.find("method")->as<std::string>() == "GET");
  CHECK(get.find("headers")->find("x-one"));

  Json post = echo.post_async({{"b", 2}}).get();
  CHECK(post.find("method")->as<std::string>() == "POST");
  CHECK(post.find("body")->as<std::string>() == "b=2");
  CHECK(post.find("query")->as<std::string>().empty());
  CHECK_FALSE(post.find("headers")->find("x-one"));

  CHECK_THROWS_AS(echo.dispatch("HEAD").get(), InvalidResponseError);
  Json del = echo.dispatch("DELETE", {{"c", 3}}).get();
  CHECK(del.find("method")->as<std::string>() == "DELETE");
  CHECK(del.find("body")->as<std::string>().empty());

  CHECK_THROWS_AS(echo.dispatch("HEAD").get(), InvalidResponseError);
  Json post_after_head = echo.post_async({{"d", 4}}).get();
  CHECK(post_after_head.find("method")->as<std::string>() == "POST");
  CHECK(post_after_head.find("body")->as<std::string>() == "d=4");

  Json again = echo.get_async({{"e", 5}}).get();
  CHECK(again.find("method")->as<std::string>() == "GET");
  CHECK(again.find("query")->as<std::string>() == "e=5");
  CHECK(again.find("body")->as<std::string>().empty());

  // The same URL string twice: the second call is not sent to where the first one
  // was redirected, and its own redirect limit applies.
  URL hop(server_url("/redirect-chain?n=1"), own);
  CHECK(hop.get_async<int>().get() == 1);
  CHECK(require_throws_as<HttpError>(hop.get_async({}, CallOptions().with_max_redirects(0)))
            .status_code() == 302);
  CHECK(hop.get_async<int>().get() == 1);

  // A call's own timeout does not stay for the next one.
  URL slow(server_url("/slow?ms=400"), own);
  CHECK_THROWS_AS(
      slow.get_async({}, CallOptions().with_timeout(std::chrono::milliseconds(100))).get(),
      TimeoutError);
  CHECK(slow.get_async<std::string>().get() == "slow");
}
