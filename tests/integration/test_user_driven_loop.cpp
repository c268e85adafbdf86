// SPDX-License-Identifier: MIT
// A Client without its own thread: the test's thread drives it with run_once()/run().
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/drive.hpp"
#include "support/outcomes.hpp"
#include "support/webhook_urls.hpp"

#include <poll.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::drive_until;
using http_task_test::server_url;

namespace {

ClientOptions user_driven() {
  ClientOptions options;
  options.own_thread = false;
  return options;
}

}  // namespace

TEST_CASE("run_once drives calls and runs continuations on the driving thread", "[user_driven]") {
  Client client(user_driven());
  URL multiply(server_url("/multiply"), client);
  std::vector<AsyncResult<int>> results;
  std::atomic<int> on_this_thread{0};
  const auto me = std::this_thread::get_id();
  for (int i = 0; i < 50; ++i)
    results.push_back(multiply.get_async<int>({{"x", i}, {"y", 3}}).then([&, me](int n) {
      if (std::this_thread::get_id() == me) ++on_this_thread;
      return n;
    }));
  REQUIRE(drive_until(client, [&] { return http_task_test::all_ready(results); }));
  for (int i = 0; i < 50; ++i) CHECK(results[i].get() == 3 * i);
  CHECK(on_this_thread == 50);
}

TEST_CASE("nothing happens while nobody drives", "[user_driven]") {
  Client client(user_driven());
  auto r = URL(server_url("/multiply"), client).get_async<int>({{"x", 2}, {"y", 2}});
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(r.ready());
  REQUIRE(drive_until(client, [&] { return r.ready(); }));
  CHECK(r.get() == 4);
}

TEST_CASE("run() drives until stop(), which works from any thread", "[user_driven]") {
  Client client(user_driven());
  URL multiply(server_url("/multiply"), client);
  // From a continuation on the driving thread.
  auto r = multiply.get_async<int>({{"x", 4}, {"y", 4}}).then([&](int n) {
    client.stop();
    return n;
  });
  client.run();
  CHECK(r.get() == 16);

  // From another thread, while run() sleeps with nothing to do.
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    client.stop();
  });
  client.run();
  stopper.join();

  // A continuation queued from another thread wakes run() too: here a result that no
  // network activity completes, so only that wake-up can end run().
  auto state = std::make_shared<detail::CallState>("no-network");
  state->set_executor(client.executor());
  auto after = detail::ResultAccess::make<int>(state).then([&](int n) {
    client.stop();
    return n;
  });
  std::thread completer([&] {
    std::this_thread::sleep_for(50ms);
    state->complete(detail::Outcome::success(Json::parse("7")));
  });
  client.run();
  completer.join();
  CHECK(after.get() == 7);
}

TEST_CASE("run_once refuses a Client with its own thread, and a second driver", "[user_driven]") {
  Client threaded;
  CHECK_THROWS_AS(threaded.run_once(0ms), std::logic_error);
  CHECK_THROWS_AS(threaded.run(), std::logic_error);

  Client client(user_driven());
  std::atomic<bool> refused{false};
  auto r =
      URL(server_url("/multiply"), client).get_async<int>({{"x", 1}, {"y", 1}}).then([&](int n) {
        try {
          client.run_once(0ms);  // from inside run_once, on the driving thread
        } catch (const std::logic_error&) {
          refused = true;
        }
        return n;
      });
  REQUIRE(drive_until(client, [&] { return r.ready(); }));
  CHECK(refused);
}

TEST_CASE("destroying an undriven Client cancels its calls and runs their continuations",
          "[user_driven]") {
  std::atomic<int> cancelled{0};
  std::vector<AsyncResult<void>> results;
  {
    Client client(user_driven());
    URL slow(server_url("/slow?ms=60000"), client);
    for (int i = 0; i < 10; ++i)
      results.push_back(slow.get_async().then([&](AsyncResult<Json>&& r) {
        try {
          r.get();
        } catch (const CancelledError&) {
          ++cancelled;
        }
      }));
    client.run_once(0ms);
  }
  CHECK(cancelled == 10);
  for (auto& r : results) CHECK(r.ready());
}

TEST_CASE("an application's own poll() loop can host the Client", "[user_driven]") {
  ClientOptions options;
  options.own_thread = false;
  // native_handle() is the epoll backend's (-1 on poll's): epoll also when
  // HTTP_TASK_LOOP_BACKEND=poll (the asan-poll preset) makes poll the default.
  options.loop_backend = LoopBackend::epoll;
  Client client(options);
  auto r = URL(server_url("/slow?ms=200"), client).get_async<std::string>();
  auto continued =
      URL(server_url("/multiply"), client).get_async<int>({{"x", 6}, {"y", 7}}).then([](int v) {
        return v + 1;
      });
  int turns = 0;
  auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!(r.ready() && continued.ready()) && std::chrono::steady_clock::now() < give_up) {
    // What an application's loop does: sleep on the descriptor, bounded by the timer.
    pollfd p{client.native_handle(), POLLIN, 0};
    auto timeout = client.next_timeout();
    ::poll(&p, 1, timeout.count() < 0 ? 1000 : static_cast<int>(timeout.count()));
    client.run_once(0ms);
    ++turns;
  }
  REQUIRE(r.ready());
  CHECK(r.get() == "slow");
  REQUIRE(continued.ready());
  CHECK(continued.get() == 43);
  CHECK(turns > 1);
}

// 200 calls are on 4 curl multi handles, each with a timer of its own: next_timeout() and
// the descriptor must cover all of them, or the calls past the first 64 would wait for
// the server's answer instead of their timeout.
TEST_CASE("a poll() loop times out calls on every multi handle", "[user_driven]") {
  ClientOptions options;
  options.own_thread = false;
  // native_handle() is the epoll backend's (-1 on poll's): epoll also when
  // HTTP_TASK_LOOP_BACKEND=poll (the asan-poll preset) makes poll the default.
  options.loop_backend = LoopBackend::epoll;
  options.timeout = 300ms;
  Client client(options);
  URL stalled(server_url("/slow?ms=30000"), client);
  std::vector<AsyncResult<Json>> results;
  for (int i = 0; i < 200; ++i) results.push_back(stalled.get_async());
  auto give_up = std::chrono::steady_clock::now() + 20s;  // before the server answers
  while (!http_task_test::all_ready(results) && std::chrono::steady_clock::now() < give_up) {
    pollfd p{client.native_handle(), POLLIN, 0};
    auto timeout = client.next_timeout();
    ::poll(&p, 1, timeout.count() < 0 ? 1000 : static_cast<int>(timeout.count()));
    client.run_once(0ms);
  }
  CHECK(http_task_test::count_failed_with<TimeoutError>(results) == 200);
}
