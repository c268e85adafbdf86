// SPDX-License-Identifier: MIT
// exit() called from the log hook, on the thread running the loop, while a static Client
// is alive: its destructor runs on that very thread, in the middle of a loop turn. It
// must neither join itself (std::terminate) nor wait for the loop it is running (a
// hang). ctest expects exit code 0 within its timeout.
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace {
// Started before the Client, so stopped after it at exit.
const auto& server = http_task_test::webhook_server();

http_task::ClientOptions exiting_options() {
  http_task::ClientOptions options;
  options.on_call_finished = [](const http_task::CallRecord&) {
    std::cout << "log hook: calling exit(0)" << std::endl;
    std::exit(0);
  };
  return options;
}

http_task::Client client(exiting_options());
}  // namespace

int main() {
  // Nobody waits for the result: the loop thread finishes the call and runs the hook.
  auto call =
      http_task::URL(server.base_url() + "/multiply", client).get_async({{"x", 6}, {"y", 7}});
  std::cout << "call " << call.id() << " started" << std::endl;
  for (;;) ::pause();  // only the hook's exit() ends this program
}
