// SPDX-License-Identifier: MIT
// URL::set_options: every field of CallOptions set on a URL reaches its calls, and a
// call's own options win field by field. One case per field, against the test server.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::server_url;

namespace {
Client& client() { return http_task_test::shared_client(); }

// The flaky route closes the connection unanswered: on a reused connection libcurl
// would send the request again by itself, unseen by the retry policy. A Client of its
// own per case starts without connections, so each attempt counted is one request.

// A key of its own per call: the flaky route counts attempts per key.
std::string flaky(const std::string& query) {
  static std::atomic<int> n{0};
  return server_url("/flaky?key=url-options-" + std::to_string(++n) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
                    "&" + query);
}

RetryPolicy quick(int attempts) {
  RetryPolicy p = RetryPolicy::attempts(attempts);
  p.initial_backoff = 1ms;
  p.max_backoff = 5ms;
  return p;
}

struct TaggingSigner : RequestSigner {
  std::string tag;
  explicit TaggingSigner(std::string t) : tag(std::move(t)) {}
  Headers sign(const SigningInput&) const override { return {{"X-Signed-By", tag}}; }
};
}  // namespace

TEST_CASE("a URL's retry policy is used by its calls", "[url_options]") {
  Client fresh;
  URL url(flaky("fail=2&mode=close"), fresh);
  url.set_options(CallOptions().with_retry(quick(3)));
  auto call = url.get_async();
  CHECK(call.get().find("attempt")->as<int>() == 3);
  CHECK(call.attempts() == 3);
}

TEST_CASE("a call's own retry policy overrides its URL's", "[url_options]") {
  Client fresh;
  URL url(flaky("fail=1&mode=close"), fresh);
  url.set_options(CallOptions().with_retry(quick(3)));
  auto call = url.get_async({}, CallOptions().with_retry(RetryPolicy::attempts(1)));
  CHECK_THROWS_AS(call.get(), TransportError);
  CHECK(call.attempts() == 1);
}

TEST_CASE("a URL declared idempotent has its POSTs retried", "[url_options]") {
  Client fresh;
  URL url(flaky("fail=1&mode=close"), fresh);
  url.set_options(CallOptions().with_retry(quick(3)).with_idempotent());
  auto call = url.post_async({{"x", 1}});
  CHECK(call.get().find("attempt")->as<int>() == 2);
  CHECK(call.attempts() == 2);

  // And a call may say otherwise.
  Client other;  // without the connection the call above left open
  URL again(flaky("fail=1&mode=close"), other);
  again.set_options(CallOptions().with_retry(quick(3)).with_idempotent());
  auto once = again.post_async({{"x", 1}}, CallOptions().with_idempotent(false));
  CHECK_THROWS_AS(once.get(), TransportError);
  CHECK(once.attempts() == 1);
}

TEST_CASE("a URL's signer signs its calls; a call's own signer wins", "[url_options]") {
  URL echo(server_url("/echo"), client());
  CallOptions with_signer;
  with_signer.signer = std::make_shared<TaggingSigner>("url");
  echo.set_options(with_signer);
  Json r = echo.get_async().get();
  auto signed_by = r.find("headers")->find("x-signed-by");
  REQUIRE(signed_by);
  CHECK(signed_by->as<std::string>() == "url");

  CallOptions own;
  own.signer = std::make_shared<TaggingSigner>("call");
  Json mine = echo.get_async({}, own).get();
  signed_by = mine.find("headers")->find("x-signed-by");
  REQUIRE(signed_by);
  CHECK(signed_by->as<std::string>() == "call");
}

TEST_CASE("a URL's timeout and redirect limit reach its calls", "[url_options]") {
  URL slow(server_url("/slow?ms=20000"), client());
  slow.set_options(CallOptions().with_timeout(200ms));
  CHECK_THROWS_AS(slow.get_async().get(), TimeoutError);

  URL chain(server_url("/redirect-chain?n=3"), client());
  chain.set_options(CallOptions().with_max_redirects(1));
  CHECK_THROWS_AS(chain.get_async().get(), TransportError);
  CHECK(chain.get_async<int>({}, CallOptions().with_max_redirects(5)).get() == 3);
}
