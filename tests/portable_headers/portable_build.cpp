// SPDX-License-Identifier: MIT
// The portable loop backend built as on macOS and the BSDs: HTTP_TASK_NO_EPOLL leaves
// epoll and eventfd out, and this directory, first on the include path, turns any
// <sys/epoll.h> or <sys/eventfd.h> into an #error (tests/CMakeLists.txt). Then it runs:
// automatic resolves to poll, LoopBackend::epoll is refused at construction with a clear
// error, and calls are answered. Its own program, as the whole library is compiled
// differently here (ODR: no other translation unit of it may be linked in).
#define HTTP_TASK_NO_EPOLL 1

#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

int main() {
  const auto& server = http_task_test::webhook_server();
  http_task::Client client;  // automatic
  if (client.native_handle() != -1) {
    std::cerr << "automatic did not resolve to poll without epoll\n";
    return 1;
  }
  try {
    http_task::ClientOptions options;
    options.loop_backend = http_task::LoopBackend::epoll;
    http_task::Client refused(options);
    std::cerr << "LoopBackend::epoll was accepted without epoll\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).find("no epoll") == std::string::npos) {
      std::cerr << "unclear words: " << e.what() << "\n";
      return 3;
    }
  }
  http_task::URL multiply(server.base_url() + "/multiply", client);
  std::vector<http_task::AsyncResult<int>> results;
  for (int i = 0; i < 100; ++i) results.push_back(multiply.get_async<int>({{"x", i}, {"y", 3}}));
  for (int i = 0; i < 100; ++i)
    if (results[i].get() != 3 * i) return 4;
  http_task::ClientOptions user_driven;
  user_driven.own_thread = false;
  http_task::Client driven(user_driven);
  auto r =
      http_task::URL(server.base_url() + "/multiply", driven).get_async<int>({{"x", 6}, {"y", 7}});
  if (r.get() != 42) return 5;  // the waiting thread drives
  std::cout << "portable backend: built without Linux-only headers, 101 calls answered\n";
  return 0;
}
