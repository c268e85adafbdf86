// SPDX-License-Identifier: MIT
// exit() called from an inline_executor continuation, on the thread running the loop of
// the default Client, with another call still pending: default_client()'s shutdown at
// exit runs on that thread, in the middle of a loop turn. It must neither join itself
// (std::terminate) nor wait for the loop it is running (a hang); ctest expects exit
// code 0 within its timeout.
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

int main() {
  // Started before default_client(), so stopped after it at exit.
  const auto& server = http_task_test::webhook_server();
  auto pending = http_task::URL(server.base_url() + "/slow?ms=30000").get_async();
  auto done = http_task::URL(server.base_url() + "/multiply")
                  .get_async<int>({{"x", 2}, {"y", 3}})
                  .then(http_task::inline_executor, [](int v) {
                    std::cout << "inline continuation got " << v << ", calling exit(0)"
                              << std::endl;
                    std::exit(0);
                  });
  std::cout << "pending call " << pending.id() << std::endl;
  for (;;) ::pause();  // only the continuation's exit() ends this program
}
