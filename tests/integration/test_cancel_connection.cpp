// SPDX-License-Identifier: MIT
// cancel() over HTTP/1.1 closes the call's connection, as documented (over HTTP/2 it
// resets the stream instead, and the connection stays: tested with an h2 server
// elsewhere). The server's own count of open connections shows it.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <chrono>
#include <thread>

using namespace http_task;

namespace {
struct Stats {
  int open = 0;
  int requests = 0;
};

// Asked through a Client of its own, whose one kept-alive connection counts as open.
Stats stats(Client& observer, const std::string& base) {
  Json s = URL(base + "/stats", observer).get_async().get();
  return {s.find("open")->as<int>(), s.find("requests")->as<int>()};
}

// Polls until `want` holds. The bound only turns a connection that never closes into a
// failure rather than a hang: the stalled call never ends by itself, and a close
// takes milliseconds.
template <class Want>
bool eventually(Client& observer, const std::string& base, Want want) {
  for (int i = 0; i < 2000; ++i) {
    if (want(stats(observer, base))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}
}  // namespace

TEST_CASE("cancel() of an HTTP/1.1 call closes its connection", "[cancel_connection]") {
  auto server = http_task_test::start_webhook_server();  // its own: /stats undisturbed
  const std::string base = server->base_url();
  Client observer;
  Client client;
  // /fault/stall never answers and reads until the client closes: the server notices the
  // close at once (/slow would only notice when its sleep ends).
  // Its timeout is far beyond the polling below, so only cancel() can end it.
  auto slow = URL(base + "/fault/stall", client)
                  .get_async({}, CallOptions().with_timeout(std::chrono::minutes(10)));
  // The slow request has arrived: its connection and the observer's are open.
  REQUIRE(eventually(observer, base, [](Stats s) { return s.open == 2 && s.requests >= 2; }));
  REQUIRE(slow.cancel());
  CHECK_THROWS_AS(slow.get(), CancelledError);
  // Only the observer's connection is left.
  CHECK(eventually(observer, base, [](Stats s) { return s.open == 1; }));
}
