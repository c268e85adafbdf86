// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/future/unique_function.hpp>

#include <memory>

TEST_CASE("UniqueFunction holds move-only callables", "[future]") {
  auto owned = std::make_unique<int>(41);
  int seen = 0;
  http_task::detail::UniqueFunction f = [p = std::move(owned), &seen] { seen = *p + 1; };
  REQUIRE(f);
  http_task::detail::UniqueFunction g = std::move(f);
  g();
  CHECK(seen == 42);
  http_task::detail::UniqueFunction empty;
  CHECK_FALSE(empty);
}
