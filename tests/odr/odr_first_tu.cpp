// SPDX-License-Identifier: MIT
// With odr_second_tu.cpp: two translation units of one binary include every header, so a
// function defined in a header without `inline` is defined twice and the link fails.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>
#include <http_task/testing.hpp>  // not in http_task.hpp, so named here

#include <string>

std::string odr_first_tu_version() { return HTTP_TASK_VERSION_STRING; }
std::string odr_second_tu_version();

TEST_CASE("every header can be included by two translation units of one program") {
  CHECK(odr_first_tu_version() == odr_second_tu_version());
}
