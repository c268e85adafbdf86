// SPDX-License-Identifier: MIT
// co_await on a result whose executor drops the resume job (a pool after stop()): the
// coroutine's result fails as then() does, and its frame is destroyed, not leaked.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>

#if !defined(__cpp_impl_coroutine)
#error "this test must be built as C++20 with coroutines"
#endif

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::server_url;

namespace {

// A frame-local object: its destructor runs when the frame is destroyed.
struct FrameLocal {
  std::atomic<int>* destroyed;
  ~FrameLocal() { ++*destroyed; }
};

AsyncResult<int> doubled(AsyncResult<int> r, std::atomic<int>& destroyed) {
  FrameLocal local{&destroyed};
  int n = co_await std::move(r);
  co_return 2 * n;
}

}  // namespace

TEST_CASE(
    "co_await with an executor that drops the resume job fails the result and frees "
    "the frame",
    "[coroutine]") {
  std::atomic<int> dropped{0};
  ClientOptions options;
  options.executor = [&](Job job) {  // a pool after stop(): takes the job, never runs it
    ++dropped;
    (void)job;
  };
  Client client(options);
  std::atomic<int> destroyed{0};
  Params args{{"x", 3}, {"y", 4}};
  auto result =
      doubled(URL(server_url("/multiply"), client).get_async<int>(std::move(args)), destroyed);
  REQUIRE(result.wait_for(60s) == std::future_status::ready);
  CHECK(dropped == 1);
  CHECK(destroyed == 1);
  try {
    result.get();
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("dropped a continuation"));
  }

  // The same words as then() on that executor.
  auto then_result =
      URL(server_url("/multiply"), client).get_async<int>({{"x", 1}, {"y", 1}}).then([](int n) {
        return n;
      });
  REQUIRE(then_result.wait_for(60s) == std::future_status::ready);
  try {
    then_result.get();
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("dropped a continuation"));
  }
}
