// SPDX-License-Identifier: MIT
// then() against the real server: where continuations run, that a slow one stalls no
// call, errors and cancels flowing down chains, and shutdown with continuations pending.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/thread_pool.hpp"
#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::answer_url;
using http_task_test::server_url;

namespace {

using TestPool = http_task_test::TestThreadPool;

}  // namespace

TEST_CASE("continuations run on the completion thread, not the loop or the caller",
          "[continuations]") {
  std::atomic<std::thread::id> loop_thread{};
  ClientOptions options;
  options.on_call_finished = [&](const CallRecord&) { loop_thread = std::this_thread::get_id(); };
  Client client(options);
  URL multiply(server_url("/multiply"), client);

  std::promise<std::thread::id> ran_on;
  auto r = multiply.get_async<int>({{"x", 6}, {"y", 7}})
               .then([&](int n) {
                 ran_on.set_value(std::this_thread::get_id());
                 return n + 1;
               })
               .then([](int n) { return n * 2; });
  CHECK(r.get() == 86);
  auto id = ran_on.get_future().get();
  CHECK(id != std::this_thread::get_id());
  CHECK(id != loop_thread.load());
}

TEST_CASE("a continuation blocked for long stalls no other call", "[continuations]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> slow_started{false};
  auto slow = multiply.get_async<int>({{"x", 1}, {"y", 1}}).then([&](int n) {
    slow_started = true;
    // Stands for a 1 s sleep, without timing: held until the other calls are done.
    released.wait_for(60s);
    return n;
  });
  while (!slow_started) std::this_thread::sleep_for(1ms);

  std::vector<AsyncResult<int>> others;
  for (int i = 0; i < 100; ++i) others.push_back(multiply.get_async<int>({{"x", i}, {"y", 3}}));
  int correct = 0;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(others[i].wait_for(30s) == std::future_status::ready);  // hang guard
    if (others[i].get() == 3 * i) ++correct;
  }
  CHECK(correct == 100);
  CHECK_FALSE(slow.ready());
  release.set_value();
  CHECK(slow.get() == 1);
}

TEST_CASE("a Client's default executor and a per-call executor", "[continuations]") {
  TestPool pool(3);
  ClientOptions options;
  options.executor = std::ref(pool);
  Client client(options);
  URL multiply(server_url("/multiply"), client);
  std::atomic<bool> on_pool{false};
  auto r = multiply.get_async<int>({{"x", 2}, {"y", 5}}).then([&](int n) {
    on_pool = pool.owns(std::this_thread::get_id());
    return n;
  });
  CHECK(r.get() == 10);
  CHECK(on_pool);

  TestPool other(1);
  std::atomic<bool> on_other{false};
  Client plain;
  auto s = URL(server_url("/multiply"), plain)
               .get_async<int>({{"x", 3}, {"y", 5}})
               .then(std::ref(other), [&](AsyncResult<int>&& done) {
                 on_other = other.owns(std::this_thread::get_id());
                 return done.get();
               });
  CHECK(s.get() == 15);
  CHECK(on_other);
}

TEST_CASE("webhook errors reach continuations and flow down chains", "[continuations]") {
  Client client;
  URL failing(answer_url(R"({"status": "failure", "reason": "no moon"})"), client);
  std::atomic<bool> value_f_ran{false};
  auto skipped = failing.get_async<int>().then([&](int) { value_f_ran = true; }).then([] {});
  CHECK_THROWS_AS(skipped.get(), RemoteExecuteError);
  CHECK_FALSE(value_f_ran);

  auto seen = failing.get_async<int>().then([](AsyncResult<int>&& r) {
    try {
      r.get();
      return std::string("no error");
    } catch (const RemoteExecuteError& e) {
      return e.reason();
    }
  });
  CHECK(seen.get() == "no moon");

  URL http_error(answer_url("{}", 503), client);
  CHECK_THROWS_AS(http_error.get_async().then([](Json) {}).get(), HttpError);
}

TEST_CASE("a continuation chains a second call", "[continuations]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  auto r = multiply.get_async<int>({{"x", 3}, {"y", 4}}).then([&](int n) {
    return multiply.get_async<int>({{"x", n}, {"y", 10}});
  });
  CHECK(r.get() == 120);
}

TEST_CASE("cancel on a continuation cancels its call and frees the connection", "[continuations]") {
  ClientOptions options;
  options.max_total_connections = 1;  // the next call can only run if cancel freed it
  Client client(options);
  std::atomic<bool> ran{false};
  auto chained = URL(server_url("/slow?ms=60000"), client)
                     .get_async<std::string>()
                     .then([&](const std::string&) { ran = true; });
  std::this_thread::sleep_for(100ms);  // let it reach the wire
  CHECK(chained.cancel());
  CHECK_THROWS_AS(chained.get(), CancelledError);
  auto next = URL(server_url("/multiply"), client).get_async<int>({{"x", 2}, {"y", 2}});
  REQUIRE(next.wait_for(30s) == std::future_status::ready);
  CHECK(next.get() == 4);
  CHECK_FALSE(ran);
}

TEST_CASE("destroying a Client runs every pending continuation first", "[continuations]") {
  std::atomic<int> cancelled{0};
  std::vector<AsyncResult<void>> results;
  {
    Client client;
    URL slow(server_url("/slow?ms=60000"), client);
    for (int i = 0; i < 50; ++i)
      results.push_back(slow.get_async().then([&](AsyncResult<Json>&& r) {
        try {
          r.get();
        } catch (const CancelledError&) {
          ++cancelled;
        }
      }));
  }
  CHECK(cancelled == 50);
  for (auto& r : results) CHECK(r.ready());
}

TEST_CASE("a continuation may destroy its own Client", "[continuations]") {
  auto client = std::make_unique<Client>();
  std::promise<void> destroyed;
  auto r =
      URL(server_url("/multiply"), *client).get_async<int>({{"x", 1}, {"y", 2}}).then([&](int n) {
        client.reset();  // on the completion thread: allowed
        destroyed.set_value();
        return n;
      });
  auto f = destroyed.get_future();
  REQUIRE(f.wait_for(30s) == std::future_status::ready);
  CHECK(r.get() == 2);
}

TEST_CASE("then on a finished result posts to the executor at once", "[continuations]") {
  TestPool pool(1);
  Client client;
  auto done = URL(server_url("/multiply"), client).get_async<int>({{"x", 5}, {"y", 5}});
  done.wait();
  std::atomic<bool> on_pool{false};
  auto r = std::move(done).then(std::ref(pool), [&](int n) {
    on_pool = pool.owns(std::this_thread::get_id());
    return n;
  });
  CHECK(r.get() == 25);
  CHECK(on_pool);
}
