// SPDX-License-Identifier: MIT
// Out of memory while calls are in flight: every call still completes (with its answer,
// or an error such as TransportError(CURLE_OUT_OF_MEMORY)), none is stranded, and the
// process and its Client go on. The address space is capped (RLIMIT_AS) a little above
// what a forked child uses, then calls with large bodies and answers run out of it at
// whatever allocation comes first: on the calling thread or in the loop.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/child_process.hpp"
#include "support/webhook_urls.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <new>
#include <string>
#include <vector>

// The sanitizers reserve terabytes of address space for themselves, which a cap on it
// breaks (as in test_faults.cpp).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HTTP_TASK_OOM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HTTP_TASK_OOM_SANITIZED 1
#endif
#endif

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::server_url;

// Hidden from the default run ([.]): in about one run of five, libcurl 7.88 itself dies
// of SIGFPE inside curl_multi_socket_action when its allocations fail (seen with a
// backtrace in the child: the fault is in libcurl's frames, below the loop), which no
// change here can prevent. Run it by its tag: http_task_integration_tests "[oom]"; a
// run that is not killed that way must pass.
TEST_CASE("calls in flight when memory runs out all complete", "[.][faults][oom]") {
#ifdef HTTP_TASK_OOM_SANITIZED
  SUCCEED("not run under a sanitizer: it reserves more address space than any cap allows");
#else
  server_url("/");
  auto end = http_task_test::run_in_child([] {
    ClientOptions options;
    options.timeout = 60s;
    Client client(options);
    URL echo(server_url("/echo"), client);
    if (!echo.get_async({{"x", "1"}}).get().is_object()) return 10;  // loop and handles made

    const int n = 300;
    std::vector<AsyncResult<Json>> results;
    results.reserve(n);
    Params big{{"x", std::string(256 * 1024, 'a')}};
    rlimit saved{};
    ::getrlimit(RLIMIT_AS, &saved);
    unsigned long long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    rlimit capped = saved;
    capped.rlim_cur = static_cast<rlim_t>(pages * ::sysconf(_SC_PAGESIZE) + (24u << 20));
    if (::setrlimit(RLIMIT_AS, &capped) != 0) return 11;
    int refused_here = 0;
    for (int i = 0; i < n; ++i) {
      try {
        results.push_back(echo.post_async(big));
      } catch (const std::bad_alloc&) {
        ++refused_here;  // before the call existed: the caller is told at once
      }
    }
    int stranded = 0;
    for (auto& r : results)
      if (r.wait_for(60s) != std::future_status::ready) ++stranded;
    ::setrlimit(RLIMIT_AS, &saved);
    int failed = 0;
    for (auto& r : results) {
      try {
        r.get();
      } catch (...) {
        ++failed;
      }
    }
    std::fprintf(stderr, "child: %d calls, %d refused at start, %d failed, %d stranded\n", n,
                 refused_here, failed, stranded);
    if (stranded) return 20;
    // The Client goes on.
    return echo.get_async({{"x", "2"}}).get().is_object() ? 0 : 21;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
#endif
}
