// SPDX-License-Identifier: MIT
// The completion thread cannot be started (EAGAIN: the process may have no more
// threads): the continuations that needed it fail with an Error saying why, instead of
// waiting forever in a queue nobody runs, and a later continuation tries again.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/child_process.hpp"
#include "support/webhook_urls.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::run_in_child;
using http_task_test::server_url;

namespace {

// 0: failed with the completion thread's error; 1: other outcome; 2: not ready.
int thread_failure_of(AsyncResult<int>& r) {
  if (r.wait_for(30s) != std::future_status::ready) return 2;
  try {
    r.get();
  } catch (const Error& e) {
    if (std::strstr(e.what(), "could not start the Client's completion thread")) return 0;
    std::fprintf(stderr, "child: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child: not an http_task::Error: %s\n", e.what());
  }
  return 1;
}

}  // namespace

TEST_CASE("continuations fail, not hang, when the completion thread cannot be started",
          "[threads]") {
  server_url("/");  // the child uses the parent's server
  auto end = run_in_child([] {
    Client client;
    URL multiply(server_url("/multiply"), client);
    if (multiply.get_async<int>({{"x", 1}, {"y", 1}}).get() != 1) return 10;
    // No more threads for this process: as root, RLIMIT_NPROC binds only another user.
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 11;
    rlimit saved{};
    ::getrlimit(RLIMIT_NPROC, &saved);
    rlimit none = saved;
    none.rlim_cur = 1;
    if (::setrlimit(RLIMIT_NPROC, &none) != 0) return 12;

    auto first = multiply.get_async<int>({{"x", 2}, {"y", 3}}).then([](int n) { return n; });
    if (int code = thread_failure_of(first)) return 20 + code;
    auto second = multiply.get_async<int>({{"x", 2}, {"y", 3}}).then([](int n) { return n; });
    if (int code = thread_failure_of(second)) return 30 + code;

    // Threads again: the next continuation starts the thread and runs.
    if (::setrlimit(RLIMIT_NPROC, &saved) != 0) return 13;
    auto third = multiply.get_async<int>({{"x", 2}, {"y", 3}}).then([](int n) { return n + 1; });
    if (third.wait_for(30s) != std::future_status::ready) return 40;
    return third.get() == 7 ? 0 : 41;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}
