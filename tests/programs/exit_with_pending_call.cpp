// SPDX-License-Identifier: MIT
// Returning from main while a call is still pending on default_client() must exit
// cleanly: no hang, no crash. ctest runs this with a timeout and expects exit code 0.
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <iostream>

int main() {
  // Started before default_client(), so stopped after it at exit.
  const auto& server = http_task_test::webhook_server();
  http_task::URL slow(server.base_url() + "/slow?ms=30000");
  auto pending = slow.get_async();
  auto another = http_task::URL(server.base_url() + "/fault/stall").post_async({{"x", 1}});
  std::cout << "leaving main with calls " << pending.id() << " and " << another.id()
            << " pending\n";
  return 0;
}
