// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/version.hpp>

#include <sstream>
#include <string>

// Reads the text and the number back into parts, rather than building them again with
// the header's own formula: a wrong stringizing or a wrong weight shows up here.
TEST_CASE("one version, as macros and as text", "[version]") {
  std::istringstream text(HTTP_TASK_VERSION_STRING);
  int major = -1, minor = -1, patch = -1;
  char dot1 = 0, dot2 = 0;
  text >> major >> dot1 >> minor >> dot2 >> patch;
  REQUIRE(text);
  CHECK(text.peek() == std::char_traits<char>::eof());  // nothing after the patch number
  CHECK(dot1 == '.');
  CHECK(dot2 == '.');
  CHECK(major == HTTP_TASK_VERSION_MAJOR);
  CHECK(minor == HTTP_TASK_VERSION_MINOR);
  CHECK(patch == HTTP_TASK_VERSION_PATCH);

  // HTTP_TASK_VERSION orders versions only while minor and patch stay below 100.
  CHECK(HTTP_TASK_VERSION_MINOR < 100);
  CHECK(HTTP_TASK_VERSION_PATCH < 100);
  CHECK(HTTP_TASK_VERSION / 10000 == HTTP_TASK_VERSION_MAJOR);
  CHECK(HTTP_TASK_VERSION / 100 % 100 == HTTP_TASK_VERSION_MINOR);
  CHECK(HTTP_TASK_VERSION % 100 == HTTP_TASK_VERSION_PATCH);
}
