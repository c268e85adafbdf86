// SPDX-License-Identifier: MIT
// co_await on AsyncResult and coroutines returning AsyncResult (C++20 build only).
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#if !defined(__cpp_impl_coroutine)
#error "this test must be built as C++20 with coroutines"
#endif

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::answer_url;
using http_task_test::server_url;

namespace {

AsyncResult<int> square_then_double(URL multiply, int x) {
  // GCC 12 rejects a braced Params list inside a co_await expression ("array used as
  // initializer", a compiler bug): name the arguments first.
  Params args{{"x", x}, {"y", x}};
  int squared = co_await multiply.get_async<int>(std::move(args));
  co_return 2 * squared;
}

AsyncResult<std::string> reason_of_failure(URL failing) {
  try {
    co_await failing.get_async<int>();
    co_return "no error";
  } catch (const RemoteExecuteError& e) {
    co_return e.reason();
  }
}

AsyncResult<void> record_thread(URL multiply, std::atomic<std::thread::id>& resumed_on) {
  Params args{{"x", 1}, {"y", 1}};
  co_await multiply.get_async<int>(std::move(args));
  resumed_on = std::this_thread::get_id();
}

AsyncResult<int> sum_of_many(URL multiply, int n) {
  std::vector<AsyncResult<int>> calls;
  for (int i = 0; i < n; ++i) {
    Params args{{"x", i}, {"y", 1}};
    calls.push_back(multiply.get_async<int>(std::move(args)));
  }
  int sum = 0;
  for (auto& r : co_await when_all(std::move(calls))) sum += r.get();
  co_return sum;
}

AsyncResult<int> awaits_forever(URL slow) {
  co_await slow.get_async();
  co_return 1;
}

}  // namespace

TEST_CASE("co_await resumes with the value", "[coroutine]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  auto r = square_then_double(multiply, 7);
  REQUIRE(r.wait_for(30s) == std::future_status::ready);
  CHECK(r.get() == 98);
  CHECK(sum_of_many(multiply, 100).get() == 4950);
}

TEST_CASE("co_await throws the call's error", "[coroutine]") {
  Client client;
  URL failing(answer_url(R"({"status": "failure", "reason": "no moon"})"), client);
  CHECK(reason_of_failure(failing).get() == "no moon");
}

TEST_CASE("a coroutine resumes off the caller's thread and the loop thread", "[coroutine]") {
  std::atomic<std::thread::id> loop_thread{};
  ClientOptions options;
  options.on_call_finished = [&](const CallRecord&) { loop_thread = std::this_thread::get_id(); };
  Client client(options);
  std::atomic<std::thread::id> resumed_on{};
  record_thread(URL(server_url("/multiply"), client), resumed_on).get();
  CHECK(resumed_on.load() != std::this_thread::get_id());
  CHECK(resumed_on.load() != loop_thread.load());
}

TEST_CASE("co_await on a ready result and on an lvalue", "[coroutine]") {
  auto coro = []() -> AsyncResult<int> {
    auto ready = make_ready_result(5);
    int a = co_await ready;  // lvalue: not consumed
    int b = co_await std::move(ready);
    co_return a + b;
  };
  CHECK(coro().get() == 10);
}

TEST_CASE("cancelling a coroutine's result cancels the call it awaits", "[coroutine]") {
  ClientOptions options;
  options.max_total_connections = 1;
  Client client(options);
  auto r = awaits_forever(URL(server_url("/slow?ms=60000"), client));
  std::this_thread::sleep_for(100ms);
  CHECK(r.cancel());
  CHECK_THROWS_AS(r.get(), CancelledError);
  auto next = URL(server_url("/multiply"), client).get_async<int>({{"x", 3}, {"y", 3}});
  REQUIRE(next.wait_for(30s) == std::future_status::ready);  // the connection was freed
  CHECK(next.get() == 9);
}
