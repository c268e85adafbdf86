// SPDX-License-Identifier: MIT
// when_all / when_any over real calls: no thread per element, errors kept per call.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::answer_url;
using http_task_test::server_url;

TEST_CASE("when_all over 500 calls, then a continuation sums them", "[when_all]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  std::vector<AsyncResult<int>> calls;
  for (int i = 0; i < 500; ++i) calls.push_back(multiply.get_async<int>({{"x", i}, {"y", 2}}));
  calls.push_back(
      URL(answer_url(R"({"status": "failure", "reason": "r"})"), client).get_async<int>());
  auto summed = when_all(std::move(calls)).then([](std::vector<AsyncResult<int>> done) {
    long sum = 0;
    int failures = 0;
    for (auto& r : done) {
      try {
        sum += r.get();
      } catch (const RemoteExecuteError&) {
        ++failures;
      }
    }
    return std::make_pair(sum, failures);
  });
  REQUIRE(summed.wait_for(60s) == std::future_status::ready);
  auto [sum, failures] = summed.get();
  CHECK(sum == 2L * 499 * 500 / 2);
  CHECK(failures == 1);
}

TEST_CASE("when_any gives the fast call and the slow one can be cancelled", "[when_all]") {
  Client client;
  std::vector<AsyncResult<std::string>> calls;
  calls.push_back(URL(server_url("/slow?ms=60000"), client).get_async<std::string>());
  calls.push_back(URL(server_url("/slow?ms=10"), client).get_async<std::string>());
  auto first = when_any(std::move(calls)).get();
  CHECK(first.index == 1);
  CHECK(first.results[1].get() == "slow");
  CHECK(first.results[0].cancel());
  CHECK_THROWS_AS(first.results[0].get(), CancelledError);
}

TEST_CASE("cancelling when_all cancels the calls in it", "[when_all]") {
  auto server = http_task_test::start_webhook_server();  // its /stats are this test's own
  std::mutex m;
  std::condition_variable cv;
  int cancelled = 0;
  ClientOptions options;
  options.on_call_finished = [&](const CallRecord& r) {
    try {
      if (r.error) std::rethrow_exception(r.error);
    } catch (const CancelledError&) {
      std::lock_guard<std::mutex> lock(m);
      ++cancelled;
      cv.notify_all();
    } catch (...) {
    }
  };
  Client client(options);
  // A gate that never opens (21 of 20 calls): the calls stay on the wire until cancelled.
  URL held(server->base_url() + "/gate?key=held&n=21", client);
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(held.get_async());
  // All 20 reached the server (and so the loop) before the cancel.
  URL stats(server->base_url() + "/stats", client);
  for (int i = 0; i < 3000 && stats.get_async().get().find("open")->as<int>() < 21; ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(stats.get_async().get().find("open")->as<int>() >= 21);
  auto all = when_all(std::move(calls));
  CHECK(all.cancel());
  CHECK_THROWS_AS(all.get(), CancelledError);
  // Each input ended as cancelled, not left to run out its wait on the server.
  std::unique_lock<std::mutex> lock(m);
  cv.wait_for(lock, 30s, [&] { return cancelled == 20; });
  CHECK(cancelled == 20);
}
