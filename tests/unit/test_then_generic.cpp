// SPDX-License-Identifier: MIT
// then() with generic lambdas, as the README promises: a generic lambda gets the
// finished AsyncResult<T>&&, even when its body would not compile for a plain T.
#include <catch2/catch.hpp>

#include <http_task/async_result.hpp>

#include "support/thread_pool.hpp"

#include <stdexcept>
#include <string>
#include <utility>

using namespace http_task;

TEST_CASE("a generic lambda gets the result, not the value", "[then_generic]") {
  // r.get() does not compile for an int: the lambda must only be tried with the result.
  auto plus_one = make_ready_result(1).then([](auto r) { return r.get() + 1; });
  static_assert(std::is_same_v<decltype(plus_one), AsyncResult<int>>);
  CHECK(plus_one.get() == 2);

  auto by_ref = make_ready_result(std::string("a")).then([](auto&& r) { return r.get() + "b"; });
  CHECK(by_ref.get() == "ab");

  auto by_const_ref = make_ready_result(20).then([](const auto& r) { return r.ready(); });
  CHECK(by_const_ref.get());
}

TEST_CASE("a generic lambda sees errors through the result", "[then_generic]") {
  auto failed = make_exceptional_result<int>(std::make_exception_ptr(std::runtime_error("no")));
  auto handled = std::move(failed).then([](auto r) {
    try {
      return r.get();
    } catch (const std::runtime_error&) {
      return -1;
    }
  });
  CHECK(handled.get() == -1);
}

TEST_CASE("generic lambdas on void results, returning void or a result", "[then_generic]") {
  bool ran = false;
  auto done = make_ready_result().then([&](auto r) {
    r.get();
    ran = true;
  });
  static_assert(std::is_same_v<decltype(done), AsyncResult<void>>);
  done.get();
  CHECK(ran);

  auto flattened = make_ready_result(3).then([](auto r) { return make_ready_result(r.get() * 2); });
  static_assert(std::is_same_v<decltype(flattened), AsyncResult<int>>);
  CHECK(flattened.get() == 6);
}

TEST_CASE("then(executor, generic lambda)", "[then_generic]") {
  http_task_test::TestThreadPool pool(1);
  auto on_pool = make_ready_result(41).then(std::ref(pool), [](auto r) { return r.get() + 1; });
  CHECK(on_pool.get() == 42);
  auto on_inline = make_ready_result(1).then(inline_executor, [](auto r) { return r.get() * 5; });
  CHECK(on_inline.get() == 5);
}

TEST_CASE("value-taking lambdas still get the value", "[then_generic]") {
  CHECK(make_ready_result(2).then([](int v) { return v * 10; }).get() == 20);
  CHECK(make_ready_result().then([] { return 7; }).get() == 7);
}
