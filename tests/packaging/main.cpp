// SPDX-License-Identifier: MIT
// The consumer program shared by every tests/packaging/ project: offline use of the public
// API through the umbrella header, so headers, include paths (RapidJSON, curl) and link flags
// (libcurl, threads) are all exercised.
#include <http_task/http_task.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

int main() {
  const auto numbers =
      http_task::Json::parse("{\"a\":[1,2]}").as<std::map<std::string, std::vector<int>>>();
  if (numbers.at("a") != std::vector<int>{1, 2}) return 1;
  // Starts and stops the curl loop thread without any network.
  { http_task::Client client; }
  std::printf("http_task %s\n", HTTP_TASK_VERSION_STRING);
  return 0;
}
