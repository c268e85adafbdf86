// SPDX-License-Identifier: MIT
// A URL used after default_client() was shut down at exit: from a static destructor and
// from a thread still calling while the process exits. Each call must complete with
// CancelledError (or its answer), never touch freed memory, and the program must exit
// with code 0 (ctest checks it; under ASan a use after free fails it too).
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

namespace {
// Trivially destructible: the detached thread reads it until the process ends.
char url[256];

// Constructed before default_client() is first used, so destroyed after its shutdown.
struct CallsInDestructor {
  ~CallsInDestructor() {
    auto call = http_task::URL(url).get_async<int>({{"x", 2}, {"y", 3}});
    try {
      call.get();
      std::cout << "static destructor: the call was answered after shutdown\n";
      std::_Exit(1);
    } catch (const http_task::CancelledError& e) {
      std::cout << "static destructor: CancelledError: " << e.what() << std::endl;
    } catch (const std::exception& e) {
      std::cout << "static destructor: unexpected error: " << e.what() << std::endl;
      std::_Exit(1);
    }
  }
} calls_in_destructor;
}  // namespace

int main() {
  // Started before default_client(), so stopped after it at exit.
  const std::string base = http_task_test::webhook_server().base_url() + "/multiply";
  if (base.size() >= sizeof url) return 1;
  base.copy(url, base.size());
  if (http_task::URL(url).get_async<int>({{"x", 6}, {"y", 7}}).get() != 42) return 1;
  // Keeps calling through exit; only answers and CancelledError are allowed.
  std::thread([] {
    for (;;) {
      try {
        http_task::URL(url).get_async<int>({{"x", 1}, {"y", 1}}).get();
      } catch (const http_task::CancelledError&) {
      } catch (const std::exception& e) {
        std::cout << "detached thread: unexpected error: " << e.what() << std::endl;
        std::_Exit(1);
      }
    }
  }).detach();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::cout << "leaving main" << std::endl;
  return 0;
}
