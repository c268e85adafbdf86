// SPDX-License-Identifier: MIT
// Who runs the loop (detail/loop/driver.hpp): a thread waiting in get() drives it while
// nobody else does, the loop thread otherwise. Whatever thread holds the role, and
// whenever it lets go, every call must still be answered.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::server_url;

namespace {

// Polls without waiting in get(): only the loop thread can drive these calls.
template <class R>
bool ready_within(const R& result, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!result.ready() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(1ms);
  return result.ready();
}

}  // namespace

TEST_CASE("a call nobody waits for is driven by the loop thread", "[driver]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  // The first call is waited for, so the next ones start while a waiter drove last.
  REQUIRE(multiply.get_async<int>({{"x", 2}, {"y", 3}}).get() == 6);
  auto slow = URL(server_url("/slow?ms=50"), client).get_async<std::string>();
  auto fast = multiply.get_async<int>({{"x", 4}, {"y", 5}});
  CHECK(ready_within(fast, 10s));
  CHECK(ready_within(slow, 10s));
  CHECK(fast.get() == 20);
  CHECK(slow.get() == "slow");
}

TEST_CASE("a waiting thread runs the loop, and the log hook, itself", "[driver]") {
  std::mutex m;
  std::set<std::thread::id> hook_threads;
  ClientOptions options;
  options.on_call_finished = [&](const CallRecord&) {
    std::lock_guard<std::mutex> lock(m);
    hook_threads.insert(std::this_thread::get_id());
  };
  Client client(options);
  URL multiply(server_url("/multiply"), client);
  for (int i = 0; i < 50; ++i)
    REQUIRE(multiply.get_async<int>({{"x", i}, {"y", 2}}).get() == 2 * i);
  // Answers on this thread or on the loop thread, never anywhere else; and this thread,
  // waiting on each call in turn, drove the loop (ran the hook) for some of them.
  std::lock_guard<std::mutex> lock(m);
  CHECK(hook_threads.size() <= 2);
  CHECK(hook_threads.count(std::this_thread::get_id()) == 1);
}

TEST_CASE("threads waiting on calls at once are all answered", "[driver]") {
  Client client;
  URL slow(server_url("/slow?ms=100"), client);
  URL multiply(server_url("/multiply"), client);
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      // Alternating slow and fast calls: the thread driving often leaves first.
      for (int i = 0; i < 10; ++i) {
        if ((i + t) % 2 == 0) {
          if (slow.get_async<std::string>().get() == "slow") ++answered;
        } else if (multiply.get_async<int>({{"x", t}, {"y", i}}).get() == t * i) {
          ++answered;
        }
      }
    });
  for (auto& th : threads) th.join();
  CHECK(answered == 60);
}

TEST_CASE("a call cancelled while its waiter drives the loop ends that wait", "[driver]") {
  Client client;
  auto stalled = URL(server_url("/slow?ms=60000"), client).get_async();
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    stalled.cancel();
  });
  CHECK_THROWS_AS(stalled.get(), CancelledError);
  canceller.join();
  // The role was let go: the next call is answered.
  CHECK(URL(server_url("/multiply"), client).get_async<int>({{"x", 3}, {"y", 3}}).get() == 9);
}

TEST_CASE("wait_for returns at its deadline while driving, and the call goes on", "[driver]") {
  Client client;
  auto slow = URL(server_url("/slow?ms=300"), client).get_async<std::string>();
  CHECK(slow.wait_for(20ms) == std::future_status::timeout);
  CHECK(ready_within(slow, 10s));  // driven by the loop thread once the waiter left
  CHECK(slow.get() == "slow");
}

TEST_CASE("a continuation's call is driven while the waiting thread is busy", "[driver]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  std::atomic<int> value{0};
  auto chained = multiply.get_async<int>({{"x", 6}, {"y", 7}}).then([&](int v) {
    value = v;
    return v;
  });
  // Another call waited for in between; the chained call must not depend on it.
  CHECK(multiply.get_async<int>({{"x", 1}, {"y", 1}}).get() == 1);
  CHECK(ready_within(chained, 10s));
  CHECK(chained.get() == 42);
  CHECK(value == 42);
}

TEST_CASE("destroying a Client while a thread drives it answers that thread", "[driver]") {
  auto client = std::make_unique<Client>();
  auto stalled = URL(server_url("/slow?ms=60000"), *client).get_async();
  std::atomic<bool> threw{false};
  std::thread waiter([&] {
    try {
      stalled.get();
    } catch (const CancelledError&) {
      threw = true;
    }
  });
  std::this_thread::sleep_for(100ms);  // most likely in get(), driving; either way it ends
  client.reset();
  waiter.join();
  CHECK(threw);
}

TEST_CASE("calls started by a thread that only polls ready() are all answered", "[driver]") {
  // The command-line tool's batch mode: nobody waits in get(), so the role passes between
  // the starting thread (which queues calls into libcurl) and the loop thread (which
  // sends them) on every call; a lost wake-up leaves a call queued forever.
  Client client;
  URL multiply(server_url("/multiply"), client);
  std::vector<AsyncResult<int>> window;
  int started = 0;
  int answered = 0;
  auto give_up = std::chrono::steady_clock::now() + 60s;
  while (answered < 1000 && std::chrono::steady_clock::now() < give_up) {
    while (window.size() < 8 && started < 1000) {
      window.push_back(multiply.get_async<int>({{"x", started}, {"y", 1}}));
      ++started;
    }
    for (auto it = window.begin(); it != window.end();) {
      if (it->ready()) {
        it->get();
        ++answered;
        it = window.erase(it);
      } else {
        ++it;
      }
    }
    std::this_thread::sleep_for(100us);
  }
  CHECK(answered == 1000);
}
