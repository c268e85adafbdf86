// SPDX-License-Identifier: MIT
// exit() called from continuations: one on the completion thread (the default executor),
// one inline on the thread that finished the call (the loop thread), with the default
// Client and a call still pending on it. Neither may std::terminate or hang; ctest
// expects exit code 0 within its timeout.
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

int main() {
  // Started before default_client(), so stopped after it at exit.
  const auto& server = http_task_test::webhook_server();
  auto pending = http_task::URL(server.base_url() + "/slow?ms=30000").get_async();
  // The inline one only says where it ran; the completion thread's one ends the program.
  auto inline_done = http_task::URL(server.base_url() + "/multiply")
                         .get_async<int>({{"x", 2}, {"y", 3}})
                         .then(http_task::inline_executor, [](int v) {
                           std::cout << "inline continuation got " << v << std::endl;
                           return v;
                         });
  auto exiting = std::move(inline_done).then([](int v) {
    std::cout << "completion thread continuation got " << v << ", calling exit(0)" << std::endl;
    std::exit(0);
  });
  std::cout << "pending call " << pending.id() << std::endl;
  for (;;) ::pause();  // only the continuation's exit() ends this program
}
