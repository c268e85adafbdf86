// SPDX-License-Identifier: MIT
// Soak: many calls at a fixed number in flight against the project's own test server,
// with a share of them sent to routes that fail on purpose. Every call must be
// answered; the counts per outcome are printed, and RSS is sampled to show it stays
// flat after warm-up. Then a Client is destroyed with thousands of calls in flight.
//
//   soak [--calls 100000] [--in-flight 256] [--fault-percent 1] [--destroy 5000]
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>

using namespace http_task;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::string outcome_of(AsyncResult<int>& r) {
  try {
    r.get();
    return "success";
  } catch (const RemoteExecuteError&) {
    return "RemoteExecuteError";
  } catch (const UnknownStatusError&) {
    return "UnknownStatusError";
  } catch (const InvalidResponseError&) {
    return "InvalidResponseError";
  } catch (const HttpError&) {
    return "HttpError";
  } catch (const TimeoutError&) {
    return "TimeoutError";
  } catch (const TransportError&) {
    return "TransportError";
  } catch (const CancelledError&) {
    return "CancelledError";
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
}

// A slot per call in flight, released by the log hook on the loop thread.
class Slots {
 public:
  explicit Slots(int n) : free_(n) {}
  void acquire() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(m_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int free_;
};

}  // namespace

int main(int argc, char** argv) {
  long calls = 100000, in_flight = 256, destroy = 5000;
  double fault_percent = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--calls") calls = std::stol(argv[i + 1]);
    if (flag == "--in-flight") in_flight = std::stol(argv[i + 1]);
    if (flag == "--fault-percent") fault_percent = std::stod(argv[i + 1]);
    if (flag == "--destroy") destroy = std::stol(argv[i + 1]);
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  const auto& server = http_task_test::webhook_server();
  const std::string base = server.base_url();
  // Each fault with the error it must end in.
  const std::vector<std::string> faults = {
      "/fault/truncate",     "/fault/reset",        "/fault/close",
      "/fault/garbage",      "/fault/stall",        "/answer?status=503&body=busy",
      "/answer?body=%7B%27", "/multiply?x=ten&y=1", "/fault/deep?n=100000"};

  Slots slots(static_cast<int>(in_flight));
  std::mutex hook_mutex;
  long hook_calls = 0;
  ClientOptions options;
  options.timeout = std::chrono::seconds(2);  // what ends the stalls
  options.on_call_finished = [&](const CallRecord&) {
    {
      std::lock_guard<std::mutex> lock(hook_mutex);
      ++hook_calls;
    }
    slots.release();
  };

  std::map<std::string, long> counts;
  std::map<std::string, long> faults_sent;
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> percent(0.0, 100.0);
  std::deque<AsyncResult<int>> pending;
  std::vector<std::pair<long, long>> rss_samples;
  auto start = Clock::now();
  {
    Client client(options);
    URL multiply(base + "/multiply", client);
    for (long i = 0; i < calls; ++i) {
      slots.acquire();
      if (percent(rng) < fault_percent) {
        const std::string& f = faults[rng() % faults.size()];
        faults_sent[f]++;
        pending.push_back(URL(base + f, client).get_async<int>());
      } else {
        pending.push_back(multiply.get_async<int>({{"x", i}, {"y", 2}}));
      }
      while (!pending.empty() && pending.front().ready()) {
        counts[outcome_of(pending.front())]++;
        pending.pop_front();
      }
      if (i % (calls / 20 > 0 ? calls / 20 : 1) == 0) rss_samples.emplace_back(i, rss_kib());
    }
    for (auto& r : pending) counts[outcome_of(r)]++;
    pending.clear();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  long answered = 0;
  for (auto& [kind, n] : counts) answered += n;
  std::printf("soak: %ld calls, %ld in flight, %.1f%% faults, %.1f s (%.0f calls/s)\n", calls,
              in_flight, fault_percent, seconds, calls / seconds);
  std::printf("answered: %ld of %ld (log hook saw %ld)\n", answered, calls, hook_calls);
  for (auto& [kind, n] : counts) std::printf("  %-22s %ld\n", kind.c_str(), n);
  std::printf("faults sent:\n");
  for (auto& [f, n] : faults_sent) std::printf("  %-32s %ld\n", f.c_str(), n);
  std::printf("RSS (KiB) by calls sent:");
  for (auto& [i, kib] : rss_samples) std::printf(" %ld:%ld", i, kib);
  std::printf("\n");

  // Destroying a Client with thousands in flight answers all of them.
  std::vector<AsyncResult<int>> doomed;
  double destroy_seconds = 0;
  {
    std::optional<Client> client(std::in_place);
    URL slow(base + "/slow?ms=60000", *client);
    for (long i = 0; i < destroy; ++i) doomed.push_back(slow.get_async<int>());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto t0 = Clock::now();
    client.reset();
    destroy_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  long cancelled = 0;
  for (auto& r : doomed)
    if (r.ready() && outcome_of(r) == "CancelledError") ++cancelled;
  std::printf("destroy: %ld calls in flight, Client destroyed in %.3f s, %ld CancelledError\n",
              destroy, destroy_seconds, cancelled);

  bool ok = answered == calls && hook_calls == calls && cancelled == destroy;
  std::printf("%s\n", ok ? "soak: every call answered" : "soak: CALLS LOST");
  return ok ? 0 : 1;
}
