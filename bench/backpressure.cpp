// SPDX-License-Identifier: MIT
// Backpressure (issue 17): continuations slower than the answers. Starts --calls calls,
// each continued on the Client's completion thread by a slow continuation, and reports
// the peak RSS as one line of JSON. Calls refused for max_pending_calls are started
// again after a short pause, so every run does --calls calls in the end.
//
//   backpressure [--url URL] [--calls N] [--slow-us US] [--max-pending N]
//
// Without --url it starts the project's test server (tests/servers/webhook_server.py).
// A refusal reaches this producer only through a continuation, itself queued behind
// the slow ones, so it backs off late: the refused count is large, and part of the peak
// RSS is refused calls in the queue. The wall time of runs with and without the bound
// is therefore not comparable; the peak RSS is the figure.
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  using namespace std::chrono;
  std::string url;
  long calls = 200'000;
  long slow_us = 200;
  long max_pending = 1'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--url")) url = argv[i + 1];
    if (!std::strcmp(argv[i], "--calls")) calls = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--slow-us")) slow_us = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--max-pending")) max_pending = std::atol(argv[i + 1]);
  }
  std::unique_ptr<http_task_test::ServerProcess> server;
  if (url.empty()) {
    server = http_task_test::start_webhook_server();
    url = server->base_url() + "/multiply";
  }

  http_task::ClientOptions options;
  options.max_pending_calls = static_cast<std::size_t>(max_pending);
  http_task::Client client(options);
  http_task::URL multiply(url, client);

  std::atomic<long> issued{0}, done{0}, refused{0}, failed{0};
  const auto start = steady_clock::now();
  auto submit = [&] {
    multiply.get_async<int>({{"x", 6}, {"y", 7}}).then([&](http_task::AsyncResult<int> r) {
      try {
        r.get();
        std::this_thread::sleep_for(microseconds(slow_us));  // the slow continuation
        ++done;
      } catch (const http_task::RequestError&) {  // over max_pending_calls: again later
        ++refused;
        --issued;
      } catch (...) {
        ++failed;
        ++done;
      }
    });
  };
  long refused_seen = 0;
  while (done < calls) {
    if (issued < calls) {
      ++issued;
      submit();
      if (refused.load() != refused_seen) {  // the Client is full: give it time
        refused_seen = refused.load();
        std::this_thread::sleep_for(milliseconds(10));
      }
    } else {
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  const double seconds = duration<double>(steady_clock::now() - start).count();
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "{\"calls\": %ld, \"slow_us\": %ld, \"max_pending_calls\": %ld, \"refused\": %ld, "
      "\"failed\": %ld, \"seconds\": %.1f, \"peak_rss_mib\": %.1f}\n",
      calls, slow_us, max_pending, refused.load(), failed.load(), seconds,
      static_cast<double>(usage.ru_maxrss) / 1024.0);
  return failed == 0 ? 0 : 1;
}
