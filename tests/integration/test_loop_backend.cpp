// SPDX-License-Identifier: MIT
// The portable loop backend (LoopBackend::poll: poll(2) and a wake-up pipe) asked for
// explicitly, doing what the epoll backend does: many calls, timers on every multi
// handle, cancellation, shutdown, a Client driven by the application or by a waiter,
// calls started from continuations. The whole suite also runs on it (the asan-poll test
// preset); this file checks it on every run, and the choice itself (option, environment).
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/drive.hpp"
#include "support/outcomes.hpp"
#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::drive_until;
using http_task_test::server_url;

namespace {

ClientOptions on_poll() {
  ClientOptions options;
  options.loop_backend = LoopBackend::poll;
  return options;
}

// Sets HTTP_TASK_LOOP_BACKEND for one scope and puts back what was there (the asan-poll
// preset sets it for the whole run).
class ScopedBackendVariable {
 public:
  explicit ScopedBackendVariable(const char* value) {
    if (const char* old = std::getenv(kName)) saved_ = old;
    if (value)
      ::setenv(kName, value, 1);
    else
      ::unsetenv(kName);
  }
  ~ScopedBackendVariable() {
    if (saved_)
      ::setenv(kName, saved_->c_str(), 1);
    else
      ::unsetenv(kName);
  }

 private:
  static constexpr const char* kName = "HTTP_TASK_LOOP_BACKEND";
  std::optional<std::string> saved_;
};

}  // namespace

// 500 at once spread over 8 multi handles, GET and POST: each socket is in the poll table
// while its transfer needs it, and a turn reports more ready sockets than it takes (256)
// in the next turns, none lost.
TEST_CASE("the poll backend answers 500 calls in flight, GET and POST", "[loop_backend]") {
  Client client(on_poll());
  REQUIRE(client.native_handle() == -1);  // the poll backend indeed
  URL multiply(server_url("/multiply"), client);
  URL slow(server_url("/slow?ms=300"), client);  // all 500 in flight together
  std::vector<AsyncResult<int>> products;
  std::vector<AsyncResult<Json>> slow_ones;
  for (int i = 0; i < 250; ++i) {
    products.push_back(i % 2 ? multiply.get_async<int>({{"x", i}, {"y", 2}})
                             : multiply.post_async<int>({{"x", i}, {"y", 2}}));
    slow_ones.push_back(slow.get_async());
  }
  for (int i = 0; i < 250; ++i) CHECK(products[i].get() == 2 * i);
  for (auto& r : slow_ones) CHECK_NOTHROW(r.get());
}

// 200 stalled calls on 4 multi handles: each handle's libcurl timer bounds the poll(2)
// wait, or the calls past the first 64 would wait for the server instead.
TEST_CASE("the poll backend times out calls on every multi handle", "[loop_backend]") {
  ClientOptions options = on_poll();
  options.timeout = 300ms;
  Client client(options);
  URL stalled(server_url("/slow?ms=30000"), client);
  std::vector<AsyncResult<Json>> results;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) results.push_back(stalled.get_async());
  for (auto& r : results) r.wait_for(20s);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(http_task_test::count_failed_with<TimeoutError>(results) == 200);
}

TEST_CASE("the poll backend cancels calls on the wire", "[loop_backend]") {
  Client client(on_poll());
  URL stalled(server_url("/slow?ms=30000"), client);
  std::vector<AsyncResult<Json>> results;
  for (int i = 0; i < 100; ++i) results.push_back(stalled.get_async());
  std::this_thread::sleep_for(200ms);  // on the wire by now
  for (auto& r : results) r.cancel();
  for (auto& r : results) REQUIRE(r.wait_for(5s) == std::future_status::ready);
  CHECK(http_task_test::count_failed_with<CancelledError>(results) == 100);
  // The Client goes on.
  CHECK(URL(server_url("/multiply"), client).get_async<int>({{"x", 3}, {"y", 3}}).get() == 9);
}

TEST_CASE("a poll-backend Client destroyed with calls in flight cancels them all",
          "[loop_backend]") {
  std::vector<AsyncResult<Json>> results;
  const auto start = std::chrono::steady_clock::now();
  {
    Client client(on_poll());
    URL stalled(server_url("/slow?ms=30000"), client);
    for (int i = 0; i < 150; ++i) results.push_back(stalled.get_async());
    std::this_thread::sleep_for(200ms);
  }
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(http_task_test::count_failed_with<CancelledError>(results) == 150);
}

TEST_CASE("run_once drives a poll-backend Client without its own thread", "[loop_backend]") {
  ClientOptions options = on_poll();
  options.own_thread = false;
  Client client(options);
  URL multiply(server_url("/multiply"), client);
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 100; ++i) results.push_back(multiply.get_async<int>({{"x", i}, {"y", 5}}));
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(results.front().ready());  // nobody drives
  REQUIRE(drive_until(client, [&] { return http_task_test::all_ready(results); }));
  for (int i = 0; i < 100; ++i) CHECK(results[i].get() == 5 * i);

  // The wake-up pipe: stop() from another thread ends a run() asleep with nothing to do.
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    client.stop();
  });
  const auto start = std::chrono::steady_clock::now();
  client.run();
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

// A thread waiting in get() on a Client nobody drives runs the turns itself, and a
// second one waits while the first drives.
TEST_CASE("waiters drive a poll-backend Client without its own thread", "[loop_backend]") {
  ClientOptions options = on_poll();
  options.own_thread = false;
  Client client(options);
  URL multiply(server_url("/multiply"), client);
  URL slow(server_url("/slow?ms=200"), client);
  auto first = std::async(std::launch::async, [&] { return slow.get_async<std::string>().get(); });
  auto second = std::async(std::launch::async, [&] {
    return multiply.get_async<int>({{"x", 7}, {"y", 6}}).get();
  });
  REQUIRE(first.wait_for(30s) == std::future_status::ready);
  REQUIRE(second.wait_for(30s) == std::future_status::ready);
  CHECK(first.get() == "slow");
  CHECK(second.get() == 42);
}

// A continuation on the loop thread starts the next call: the loop's own queue, which
// no wake-up needs, on the poll backend too.
TEST_CASE("a poll-backend call started from a continuation completes", "[loop_backend]") {
  Client client(on_poll());
  URL multiply(server_url("/multiply"), client);
  // inline_executor: the continuation runs on the loop thread, whose new call is queued
  // without a wake-up and must still be sent before the loop sleeps.
  auto chained = multiply.get_async<int>({{"x", 2}, {"y", 3}}).then(inline_executor, [&](int n) {
    return multiply.get_async<int>({{"x", n}, {"y", 7}});
  });
  REQUIRE(chained.wait_for(30s) == std::future_status::ready);
  CHECK(chained.get() == 42);
}

TEST_CASE("HTTP_TASK_LOOP_BACKEND chooses the backend of automatic only", "[loop_backend]") {
  {
    ScopedBackendVariable forced("poll");
    Client client;
    CHECK(client.native_handle() == -1);
    CHECK(URL(server_url("/multiply"), client).get_async<int>({{"x", 2}, {"y", 2}}).get() == 4);
#ifdef __linux__
    ClientOptions options;
    options.loop_backend = LoopBackend::epoll;  // an explicit choice wins
    Client epoll_client(options);
    CHECK(epoll_client.native_handle() >= 0);
#endif
  }
#ifdef __linux__
  {
    ScopedBackendVariable forced("epoll");
    Client client;
    CHECK(client.native_handle() >= 0);
    Client poll_client(on_poll());
    CHECK(poll_client.native_handle() == -1);
  }
  {
    ScopedBackendVariable unset(nullptr);
    Client client;  // automatic on Linux
    CHECK(client.native_handle() >= 0);
  }
#endif
  {
    ScopedBackendVariable forced("kqueue");
    try {
      Client client;
      FAIL("a Client was made with HTTP_TASK_LOOP_BACKEND=kqueue");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("HTTP_TASK_LOOP_BACKEND") != std::string::npos);
    }
  }
}
