// SPDX-License-Identifier: MIT
// Two costs the test suite used to assert and that are performance, not behaviour: one
// line of JSON each.
//   - loop_wakeups: how often the Client's loop thread wakes (voluntary context switches
//     from /proc) while a thread waiting in get() drives a slow call itself. The loop
//     thread has nothing to do then; it once polled every millisecond.
//   - small_answer_pool: the capacity of the JSON holder's allocator after parsing a
//     40-byte answer: within the holder's inline first chunk, no heap block.
//
//   footprint [--slow-ms MS]
//
// Starts the project's test server (tests/servers/webhook_server.py).
#include <http_task/detail/decode/json_parser.hpp>
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

// The ids of this process's threads (Linux: /proc/self/task).
std::set<std::string> thread_ids() {
  std::set<std::string> ids;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (dirent* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') ids.insert(entry->d_name);
    ::closedir(dir);
  }
  return ids;
}

// How often a thread of this process went to sleep (slept and was woken) so far.
long sleeps_of(const std::string& tid) {
  std::ifstream status("/proc/self/task/" + tid + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
  return -1;
}

int loop_wakeups(const std::string& base_url, long slow_ms) {
  const std::string url = base_url + "/slow?ms=" + std::to_string(slow_ms);
  auto before = thread_ids();
  http_task::Client client;
  std::vector<std::string> started;
  for (const auto& id : thread_ids())
    if (!before.count(id)) started.push_back(id);
  if (started.size() != 1) {
    std::fprintf(stderr, "expected the Client to start one thread, it started %zu\n",
                 started.size());
    return 1;
  }
  const long sleeps_before = sleeps_of(started.front());
  const std::string answer = http_task::URL(url, client).get_async<std::string>().get();
  const long woken = sleeps_of(started.front()) - sleeps_before;
  std::printf(
      "{\"bench\": \"loop_wakeups\", \"slow_ms\": %ld, \"answer\": \"%s\", \"woken\": %ld}\n",
      slow_ms, answer.c_str(), woken);
  return 0;
}

int small_answer_pool() {
  const char* text = R"({"status":"success","retval":100})";
  const auto parsed = http_task::detail::parse_json(text, 128);
  if (!parsed.ok()) return 1;
  // The root is the holder's Document: its pool holds what the parse allocated.
  auto& document = const_cast<http_task::detail::Document&>(
      static_cast<const http_task::detail::Document&>(parsed.value.value()));
  std::printf("{\"bench\": \"small_answer_pool\", \"answer_bytes\": %zu, \"capacity\": %zu}\n",
              std::strlen(text), document.GetAllocator().Capacity());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  long slow_ms = 500;
  for (int i = 1; i + 1 < argc; i += 2)
    if (!std::strcmp(argv[i], "--slow-ms")) slow_ms = std::atol(argv[i + 1]);
  std::thread([] {}).join();  // a sanitizer's helper thread, if any, starts before the count
  auto server = http_task_test::start_webhook_server();
  if (int rc = loop_wakeups(server->base_url(), slow_ms)) return rc;
  return small_answer_pool();
}
