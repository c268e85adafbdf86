// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/call/uuid.hpp>

#include <set>
#include <string>

TEST_CASE("call ids are random version-4 UUIDs", "[uuid]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = http_task::detail::Uuid4::random().str();
    REQUIRE(id.size() == 36);
    CHECK(id[8] == '-');
    CHECK(id[13] == '-');
    CHECK(id[18] == '-');
    CHECK(id[23] == '-');
    CHECK(id[14] == '4');
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
    CHECK(id.find_first_not_of("0123456789abcdef-") == std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}
