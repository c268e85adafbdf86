// SPDX-License-Identifier: MIT
// Driving a Client made with own_thread = false from a test's thread.
#pragma once

#include <http_task/client.hpp>

#include <chrono>

namespace http_task_test {

// Calls run_once() until done() holds; false if a generous hang guard (60 s) ran out
// first, so a loop that stopped answering fails its test instead of hanging it.
template <class Done>
bool drive_until(http_task::Client& client, Done done) {
  using namespace std::chrono_literals;
  const auto guard = std::chrono::steady_clock::now() + 60s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > guard) return false;
    client.run_once(50ms);
  }
  return true;
}

}  // namespace http_task_test
