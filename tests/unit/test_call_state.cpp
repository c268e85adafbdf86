// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/future/call_state.hpp>

#include <atomic>
#include <thread>
#include <vector>

using http_task::detail::CallState;
using http_task::detail::Outcome;

TEST_CASE("a call state completes exactly once", "[future]") {
  CallState s("id-1");
  CHECK_FALSE(s.ready());
  CHECK(s.complete(Outcome::success(http_task::Json())));
  CHECK(s.ready());
  CHECK_FALSE(s.complete(Outcome::failure(http_task::CancelledError())));
  CHECK_FALSE(s.cancel());
  CHECK(s.outcome().ok());
  CHECK(s.id() == "id-1");
}

TEST_CASE("a continuation runs once, whether attached before or after completion", "[future]") {
  int runs = 0;
  CallState before("a");
  before.on_complete([&] { ++runs; });
  CHECK(runs == 0);
  before.complete(Outcome::success(http_task::Json()));
  CHECK(runs == 1);

  CallState after("b");
  after.cancel();
  after.on_complete([&] { ++runs; });
  CHECK(runs == 2);
}

TEST_CASE("value, error and cancel racing from threads: exactly one wins", "[future]") {
  for (int round = 0; round < 200; ++round) {
    CallState s("race");
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        bool won = t % 2 ? s.cancel() : s.complete(Outcome::success(http_task::Json()));
        if (won) ++wins;
      });
    s.wait();
    for (auto& th : threads) th.join();
    CHECK(wins == 1);
  }
}

TEST_CASE("wait_until times out on a pending call", "[future]") {
  CallState s("slow");
  CHECK_FALSE(s.wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(5)));
}
