// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/loop/curl_global.hpp>
#include <http_task/detail/loop/handle_pool.hpp>

#include <chrono>
#include <memory>
#include <vector>

using namespace http_task::detail;
using Clock = HandlePool::Clock;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<EasyHandle> make_handle() {
  ensure_curl_global_init();
  auto handle = EasyHandle::create();
  REQUIRE(handle);
  return handle;
}

// A loop with `n` calls on the wire, each with a handle from the pool or a new one.
std::vector<std::unique_ptr<EasyHandle>> start_calls(HandlePool& pool, std::size_t n) {
  std::vector<std::unique_ptr<EasyHandle>> busy;
  for (std::size_t i = 0; i < n; ++i) {
    auto handle = pool.take();
    busy.push_back(handle ? std::move(handle) : make_handle());
    pool.started(busy.size());
  }
  return busy;
}

// The last `n` calls of `busy` finish, one after another.
void finish_calls(HandlePool& pool, std::vector<std::unique_ptr<EasyHandle>>& busy, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto handle = std::move(busy.back());
    busy.pop_back();
    pool.put_back(std::move(handle), busy.size());
  }
}

}  // namespace

TEST_CASE("below its minimum the pool keeps every handle", "[handle_pool]") {
  const auto t0 = Clock::now();
  HandlePool pool(t0);
  auto busy = start_calls(pool, 10);
  finish_calls(pool, busy, busy.size());
  pool.trim(0, false, t0 + 10 * HandlePool::kPeriod);
  CHECK(pool.idle() == 10);
  busy = start_calls(pool, 10);
  CHECK(pool.idle() == 0);
}

TEST_CASE("the pool keeps a handle for each call of a batch that finished at once",
          "[handle_pool]") {
  const auto t0 = Clock::now();
  HandlePool pool(t0);
  auto busy = start_calls(pool, 1024);
  // Most of the calls finish in one turn, and as many start after it: none is made anew.
  finish_calls(pool, busy, 1000);
  pool.trim(busy.size(), false, t0 + 100ms);
  CHECK(pool.idle() == 1000);
  auto more = start_calls(pool, 1000);
  CHECK(pool.idle() == 0);
  // Never more handles, idle and busy, than the most calls in flight.
  finish_calls(pool, more, more.size());
  finish_calls(pool, busy, busy.size());
  CHECK(pool.idle() == 1024);
}

TEST_CASE("the handles kept follow the load down", "[handle_pool]") {
  const auto t0 = Clock::now();
  HandlePool pool(t0);
  auto busy = start_calls(pool, 1024);
  finish_calls(pool, busy, 512);  // 512 left in flight
  CHECK(pool.idle() == 512);

  SECTION("within two periods while calls run") {
    pool.trim(busy.size(), false, t0 + HandlePool::kPeriod / 2);
    CHECK(pool.idle() == 512);  // 1,024 in flight in this period
    pool.trim(busy.size(), false, t0 + HandlePool::kPeriod);
    CHECK(pool.idle() == 512);  // and in the one before
    pool.trim(busy.size(), false, t0 + 2 * HandlePool::kPeriod);
    CHECK(pool.idle() == 0);  // 512 in flight in both: their own handles are enough
    finish_calls(pool, busy, 1);
    CHECK(pool.idle() == 1);  // a handle for the next call
  }
  SECTION("at once when no call is left") {
    finish_calls(pool, busy, busy.size());
    CHECK(pool.idle() == 1024);
    pool.trim(0, false, t0 + 1ms);
    CHECK(pool.idle() == HandlePool::kMinHandles);
  }
  SECTION("not while calls wait to try again") {
    finish_calls(pool, busy, busy.size());
    pool.trim(0, true, t0 + 1ms);
    CHECK(pool.idle() == 1024);
  }
}

TEST_CASE("the pool hands out the handle put back last and drops the oldest", "[handle_pool]") {
  const auto t0 = Clock::now();
  HandlePool pool(t0);
  auto busy = start_calls(pool, 200);
  std::vector<const EasyHandle*> order;  // in the order they are put back
  for (auto it = busy.rbegin(); it != busy.rend(); ++it) order.push_back(it->get());
  finish_calls(pool, busy, busy.size());
  REQUIRE(pool.idle() == 200);
  pool.trim(0, false, t0 + 1ms);
  REQUIRE(pool.idle() == HandlePool::kMinHandles);
  // The 64 put back last are kept, and come back newest first.
  for (std::size_t i = 0; i < HandlePool::kMinHandles; ++i) {
    auto handle = pool.take();
    REQUIRE(handle);
    CHECK(handle.get() == order[order.size() - 1 - i]);
  }
  CHECK_FALSE(pool.take());
}

TEST_CASE("the pool asks for a turn while it keeps handles the load no longer needs",
          "[handle_pool]") {
  const auto t0 = Clock::now();
  HandlePool pool(t0);
  auto busy = start_calls(pool, 1024);
  finish_calls(pool, busy, 1023);  // a burst ended; one slow call stays on the wire
  pool.trim(1, false, t0 + 100ms);
  REQUIRE(pool.idle() == 1023);
  // A loop with nothing else to do would sleep until the slow call answers.
  auto due = pool.trim_due(1);
  REQUIRE(due);
  CHECK(*due == t0 + HandlePool::kPeriod);
  pool.trim(1, false, *due);
  CHECK(pool.idle() == 1023);  // the burst was in the period before
  due = pool.trim_due(1);
  REQUIRE(due);
  CHECK(*due == t0 + 2 * HandlePool::kPeriod);
  pool.trim(1, false, *due);
  CHECK(pool.idle() == HandlePool::kMinHandles - 1);
  CHECK_FALSE(pool.trim_due(1));  // what it keeps now, it keeps for good

  // Below its minimum a pool keeps everything, so it never asks.
  HandlePool small(t0);
  auto few = start_calls(small, 10);
  finish_calls(small, few, 9);
  CHECK_FALSE(small.trim_due(1));
}
