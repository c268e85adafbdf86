#include <catch2/catch.hpp>

#include <http_task/version.hpp>

#include <string>

TEST_CASE("one version, as macros and as text", "[version]") {
  std::string expected = std::to_string(HTTP_TASK_VERSION_MAJOR) + "." +
                         std::to_string(HTTP_TASK_VERSION_MINOR) + "." +
                         std::to_string(HTTP_TASK_VERSION_PATCH);
  CHECK(expected == HTTP_TASK_VERSION_STRING);
  CHECK(HTTP_TASK_VERSION ==
        HTTP_TASK_VERSION_MAJOR * 10000 + HTTP_TASK_VERSION_MINOR * 100 + HTTP_TASK_VERSION_PATCH);
}
