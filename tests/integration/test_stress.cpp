// SPDX-License-Identifier: MIT
// 10,000 calls, continuations on a pool, random cancels from several threads at once:
// every result resolves exactly once, nothing hangs (run under TSan and ASan/LSan too).
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/thread_pool.hpp"
#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::server_url;

namespace {

using Pool = http_task_test::TestThreadPool;

// calls: how many; cap: ClientOptions::max_host_connections (a cap keeps the Client on one
// curl multi handle; without one it spreads the calls over several).
void cancel_at_random(int calls, long cap) {
  const int kCalls = calls;
  Pool pool(4);
  ClientOptions options;
  options.executor = std::ref(pool);
  options.max_host_connections = cap;
  // Queued calls wait inside their timeout, and sanitizers are slow: only a hang guard.
  options.timeout = 300s;
  Client client(options);
  URL multiply(server_url("/multiply"), client);
  URL slow(server_url("/slow?ms=20"), client);

  std::vector<std::atomic<int>> f_runs(kCalls);
  std::vector<AsyncResult<int>> results;
  results.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    auto call = i % 2 ? multiply.get_async<int>({{"x", i}, {"y", 1}})
                      : slow.get_async().then(inline_executor, [i](AsyncResult<Json>&& r) {
                          r.get();
                          return i;
                        });
    results.push_back(std::move(call).then([&f_runs, i](int n) {
      f_runs[i].fetch_add(1);
      return n;
    }));
  }

  std::atomic<int> cancels_won{0};
  std::vector<std::thread> cancellers;
  for (int t = 0; t < 4; ++t)
    cancellers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) + 1);
      std::uniform_int_distribution<int> pick(0, kCalls - 1);
      for (int k = 0; k < 1500; ++k) {
        if (results[pick(rng)].cancel()) ++cancels_won;
        if (k % 100 == 0) std::this_thread::sleep_for(1ms);
      }
    });
  for (auto& t : cancellers) t.join();

  std::atomic<int> tallies{0};
  auto tally = when_all(std::move(results)).then([&](std::vector<AsyncResult<int>> done) {
    ++tallies;
    int values = 0, cancelled = 0, other = 0;
    std::string first_other;
    for (int i = 0; i < kCalls; ++i) {
      try {
        if (done[i].get() == i) ++values;
      } catch (const CancelledError&) {
        ++cancelled;
      } catch (const std::exception& e) {
        if (++other == 1) first_other = e.what();
      }
    }
    return std::make_pair(std::vector<int>{values, cancelled, other}, first_other);
  });
  REQUIRE(tally.wait_for(300s) == std::future_status::ready);  // hang guard
  auto [counts, first_other] = tally.get();
  CAPTURE(first_other);
  CHECK(tallies == 1);
  CHECK(counts[2] == 0);
  CHECK(counts[0] + counts[1] == kCalls);
  CHECK(counts[1] == cancels_won);
  int ran = 0, ran_twice = 0;
  for (auto& n : f_runs) {
    ran += n.load();
    if (n.load() > 1) ++ran_twice;
  }
  CHECK(ran_twice == 0);
  CHECK(ran >= counts[0]);  // a cancel may land while f runs: f ran, the cancel won
}

}  // namespace

TEST_CASE("10,000 calls with random cancels from 4 threads resolve exactly once", "[stress]") {
  cancel_at_random(10'000, 200);
}

// 2,000 connections at once: about 32 multi handles, cancels landing on all of them.
TEST_CASE("2,000 calls at once over many multi handles, cancelled at random, resolve once",
          "[stress]") {
  cancel_at_random(2'000, 0);
}
