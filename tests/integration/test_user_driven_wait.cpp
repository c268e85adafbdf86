// SPDX-License-Identifier: MIT
// A wait on a Client without its own thread never hangs: while nobody drives the
// Client, the waiting thread drives it itself (detail/loop/user_driver.hpp); while
// another thread does, it sleeps until its result is ready. Each case runs in a forked
// child with an alarm, since the failure it guards against is a hang.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/child_process.hpp"
#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::run_in_child;
using http_task_test::server_url;

namespace {

ClientOptions user_driven() {
  ClientOptions options;
  options.own_thread = false;
  return options;
}

// The parent starts the server, which the child then uses (and does not own).
template <class F>
http_task_test::ChildEnd in_child(F&& body, unsigned alarm_seconds = 60) {
  server_url("/");
  return run_in_child(std::forward<F>(body), alarm_seconds);
}

}  // namespace

TEST_CASE("get() on the run_once thread, outside run_once, drives the Client itself",
          "[user_driven_wait]") {
  auto end = in_child([] {
    Client client(user_driven());
    URL multiply(server_url("/multiply"), client);
    client.run_once(0ms);  // this thread is the one that drives, between two turns
    auto r = multiply.get_async<int>({{"x", 6}, {"y", 7}});
    if (r.get() != 42) return 1;
    client.run_once(0ms);  // and it can still drive afterwards
    return multiply.get_async<int>({{"x", 2}, {"y", 2}}).get() == 4 ? 0 : 2;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("get() from another thread while nobody drives completes", "[user_driven_wait]") {
  auto end = in_child([] {
    Client client(user_driven());
    URL multiply(server_url("/multiply"), client);
    auto r = multiply.get_async<int>({{"x", 3}, {"y", 5}});
    int got = 0;
    std::thread waiter([&] { got = r.get(); });
    waiter.join();
    return got == 15 ? 0 : 1;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("get() from another thread while the application thread is in run() completes",
          "[user_driven_wait]") {
  auto end = in_child([] {
    Client client(user_driven());
    URL multiply(server_url("/multiply"), client);
    std::atomic<int> code{0};
    std::thread waiters([&] {
      // Many calls, each waited for while run() drives and, between runs, while nobody
      // does: the waiter and run() hand the role to each other without driving at once.
      for (int i = 0; i < 40; ++i)
        if (multiply.get_async<int>({{"x", i}, {"y", 2}}).get() != 2 * i) code = 1;
      client.stop();
    });
    client.run();
    waiters.join();
    return code.load();
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("a then() result's get() on a Client without its own thread completes",
          "[user_driven_wait]") {
  auto end = in_child([] {
    Client client(user_driven());
    URL multiply(server_url("/multiply"), client);
    const auto me = std::this_thread::get_id();
    bool here = false;
    auto r = multiply.get_async<int>({{"x", 4}, {"y", 5}}).then([&](int n) {
      here = std::this_thread::get_id() == me;  // run by the waiting (driving) thread
      return n + 1;
    });
    if (r.get() != 21) return 1;
    if (!here) return 2;
    // From another thread too, through two continuations.
    auto r2 = multiply.get_async<int>({{"x", 1}, {"y", 1}})
                  .then([](int n) { return n * 10; })
                  .then([](int n) { return n + 1; });
    int got = 0;
    std::thread waiter([&] { got = r2.get(); });
    waiter.join();
    return got == 11 ? 0 : 3;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("wait_for on a Client without its own thread returns timeout at its deadline",
          "[user_driven_wait]") {
  auto end = in_child([] {
    Client client(user_driven());
    auto slow = URL(server_url("/slow?ms=600000"), client).get_async();
    if (slow.wait_for(200ms) != std::future_status::timeout) return 1;
    std::thread waiter([&] { slow.wait_for(100ms); });
    waiter.join();
    // The waits drove the loop: a quick call is answered by the next wait.
    auto quick = URL(server_url("/multiply"), client).get_async<int>({{"x", 1}, {"y", 9}});
    if (quick.get() != 9) return 2;
    slow.cancel();
    return 0;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("waits inside continuations run by a waiting thread are refused", "[user_driven_wait]") {
  auto end = in_child([] {
    Client client(user_driven());
    URL multiply(server_url("/multiply"), client);
    auto pending = URL(server_url("/slow?ms=600000"), client).get_async();
    auto r = multiply.get_async<int>({{"x", 2}, {"y", 3}}).then([&](int n) {
      pending.get();  // on the thread driving the loop: logic_error, not a hang
      return n;
    });
    try {
      r.get();
    } catch (const std::logic_error& e) {
      pending.cancel();
      return std::string(e.what()).find("then()") != std::string::npos ? 0 : 2;
    }
    return 1;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}
