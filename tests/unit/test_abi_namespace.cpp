// SPDX-License-Identifier: MIT
// Every name lives in the inline namespace http_task::v1 (version.hpp): user code writes
// http_task::Client, the linker sees http_task::v1::Client, so a program holding two
// builds of another ABI version (a plugin, a static library) gets two sets of symbols,
// two default_client()s, instead of one silently shared.
#include <catch2/catch.hpp>

#include <http_task/fwd.hpp>
#include <http_task/http_task.hpp>

#include <string>
#include <type_traits>
#include <typeinfo>

TEST_CASE("public and detail names are in the versioned inline namespace", "[version]") {
  STATIC_REQUIRE(std::is_same_v<http_task::Client, http_task::v1::Client>);
  STATIC_REQUIRE(std::is_same_v<http_task::Json, http_task::v1::Json>);
  STATIC_REQUIRE(std::is_same_v<http_task::detail::Transfer, http_task::v1::detail::Transfer>);
  // The mangled names carry it: N9http_task2v16ClientE under the Itanium ABI.
  CHECK(std::string(typeid(http_task::Client).name()).find("2v1") != std::string::npos);
  CHECK(std::string(typeid(http_task::AsyncResult<int>).name()).find("2v1") != std::string::npos);
  CHECK(std::string(typeid(&http_task::default_client).name()).find("2v1") != std::string::npos);
}
