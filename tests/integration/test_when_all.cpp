// when_all / when_any over real calls: no thread per element, errors kept per call.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <chrono>
#include <future>
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
  Client client;
  URL slow(server_url("/slow?ms=60000"), client);
  std::vector<AsyncResult<Json>> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(slow.get_async());
  auto all = when_all(std::move(calls));
  CHECK(all.cancel());
  CHECK_THROWS_AS(all.get(), CancelledError);
}
