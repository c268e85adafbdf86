// SPDX-License-Identifier: MIT
// The C++ side of the Celery benchmark (bench/celery/README.md): http_task::celery::Gateway
// from one Client, N tasks in flight on the example cluster's HTTP gateway, the same CLI
// and the same JSON lines as python_client.py, so bench/celery/run.sh can put both in one
// table.
//
//   gateway_client --base-url http://127.0.0.1:PORT/ [--inflight 1,16,256] [--tasks 200]
//                  [--task tasks.sleep --args '[0.1]'] [--warmup 20] [--stall-timeout 60]
//                  [--max-host-connections N]
//
// One JSON line per level: tasks/s, client CPU per task (getrusage, user + system, the
// whole process), threads (/proc/self/task, sampled during the run), latency p50/p99
// (apply_async called -> its result's continuation ran), and the HTTP requests per task,
// counted by the Client's on_call_finished hook (every HTTP attempt of every call, by
// kind: applies, batch waits, per-task result polls, others).
#include <http_task/celery.hpp>
#include <http_task/http_task.hpp>

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using http_task::Json;

// Requests by kind, as the hook sees them (it runs on the loop thread).
struct RequestCounts {
  std::atomic<long> applies{0};
  std::atomic<long> waits{0};
  std::atomic<long> polls{0};
  std::atomic<long> other{0};
  long total() const { return applies + waits + polls + other; }
};

RequestCounts g_requests;

void count_call(const http_task::CallRecord& r) {
  // A call retried by the policy made several HTTP requests: count each attempt.
  const long n = r.attempts > 0 ? r.attempts : 0;
  if (r.url.find("/api/task/async-apply/") != std::string_view::npos)
    g_requests.applies += n;
  else if (r.url.find("/api/tasks/wait") != std::string_view::npos)
    g_requests.waits += n;
  else if (r.url.find("/api/task/result/") != std::string_view::npos)
    g_requests.polls += n;
  else
    g_requests.other += n;
}

int threads_now() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const double at = fraction * static_cast<double>(sorted.size() - 1);
  auto index = static_cast<std::size_t>(at + 0.5);  // round, as python_client.py does
  return sorted[std::min(index, sorted.size() - 1)];
}

double round_to(double v, double unit) {
  return static_cast<double>(std::llround(v / unit)) * unit;
}

// What the continuations report to the thread that starts tasks.
struct Level {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<double> latencies_ms;
  std::vector<std::string> failures;
  long done = 0;
};

struct Options {
  std::string base_url;
  std::string task = "tasks.sleep";
  std::string args = "[0.1]";
  std::vector<long> inflight{1, 16, 256};
  long tasks = 200;
  long warmup = 20;
  double stall_timeout = 60;
  long max_host_connections = 0;  // ClientOptions::max_host_connections (0: libcurl's, none)
};

void start_one(const http_task::celery::Gateway& gateway, const Options& o, const Json& args,
               Level& level) {
  const auto started = Clock::now();
  auto result = gateway.apply_async(o.task, args);
  std::move(result).then([&level, started](http_task::AsyncResult<Json>&& r) {
    std::string failure;
    try {
      r.get();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    std::lock_guard<std::mutex> lock(level.mutex);
    level.latencies_ms.push_back(ms);
    if (!failure.empty()) level.failures.push_back(std::move(failure));
    ++level.done;
    level.changed.notify_one();
  });
}

// Runs `total` tasks with `inflight` of them in flight; the JSON line, or "" when stalled.
std::string run_level(const http_task::celery::Gateway& gateway, const Options& o, const Json& args,
                      long inflight, long total) {
  Level level;
  const long requests_before = g_requests.total();
  const long applies_before = g_requests.applies, waits_before = g_requests.waits,
             polls_before = g_requests.polls, other_before = g_requests.other;
  const double cpu_before = cpu_seconds();
  const auto wall_before = Clock::now();
  int max_threads = threads_now();
  long sent = 0;
  for (; sent < std::min(inflight, total); ++sent) start_one(gateway, o, args, level);
  long seen = 0;
  auto last_progress = Clock::now();
  auto last_sample = Clock::now();
  while (seen < total) {
    long done;
    {
      std::unique_lock<std::mutex> lock(level.mutex);
      level.changed.wait_for(lock, std::chrono::seconds(1), [&] { return level.done > seen; });
      done = level.done;
    }
    for (long i = seen; i < done; ++i)
      if (sent < total) {
        start_one(gateway, o, args, level);
        ++sent;
      }
    if (done > seen) {
      last_progress = Clock::now();
    } else if (std::chrono::duration<double>(Clock::now() - last_progress).count() >
               o.stall_timeout) {
      std::cerr << "gateway_client: no result for " << o.stall_timeout << " s, " << (sent - done)
                << " pending\n";
      return {};
    }
    seen = done;
    // Reading /proc costs CPU, which is measured here too: at most every 100 ms.
    if (Clock::now() - last_sample >= std::chrono::milliseconds(100)) {
      max_threads = std::max(max_threads, threads_now());
      last_sample = Clock::now();
    }
  }
  max_threads = std::max(max_threads, threads_now());
  const double wall = std::chrono::duration<double>(Clock::now() - wall_before).count();
  const double cpu = cpu_seconds() - cpu_before;
  std::lock_guard<std::mutex> lock(level.mutex);
  std::sort(level.latencies_ms.begin(), level.latencies_ms.end());
  const double t = static_cast<double>(total);
  std::ostringstream line;
  line << "{\"client\": \"cpp-gateway\", \"task\": " << Json::from(o.task).dump()
       << ", \"args\": " << args.dump() << ", \"inflight\": " << inflight
       << ", \"tasks\": " << total << ", \"failures\": " << level.failures.size()
       << ", \"tasks_per_s\": " << round_to(t / wall, 0.01)
       << ", \"cpu_ms_per_task\": " << round_to(cpu * 1000 / t, 0.001)
       << ", \"threads\": " << max_threads
       << ", \"latency_p50_ms\": " << round_to(percentile(level.latencies_ms, 0.50), 0.01)
       << ", \"latency_p99_ms\": " << round_to(percentile(level.latencies_ms, 0.99), 0.01)
       << ", \"http_requests_per_task\": "
       << round_to(static_cast<double>(g_requests.total() - requests_before) / t, 0.001)
       << ", \"requests\": {\"applies\": " << (g_requests.applies - applies_before)
       << ", \"batch_waits\": " << (g_requests.waits - waits_before)
       << ", \"result_polls\": " << (g_requests.polls - polls_before)
       << ", \"other\": " << (g_requests.other - other_before) << "}";
  if (!level.failures.empty())
    line << ", \"first_failure\": " << Json::from(level.failures.front()).dump();
  line << "}";
  return line.str();
}

std::vector<long> parse_levels(const std::string& text) {
  std::vector<long> levels;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) levels.push_back(std::stol(item));
  return levels;
}

int usage() {
  std::cerr << "usage: gateway_client --base-url URL [--inflight 1,16,256] [--tasks N]\n"
               "                      [--task NAME] [--args JSON] [--warmup N] "
               "[--stall-timeout S]\n"
               "                      [--max-host-connections N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    if (flag == "--base-url")
      o.base_url = value;
    else if (flag == "--task")
      o.task = value;
    else if (flag == "--args")
      o.args = value;
    else if (flag == "--inflight")
      o.inflight = parse_levels(value);
    else if (flag == "--tasks")
      o.tasks = std::stol(value);
    else if (flag == "--warmup")
      o.warmup = std::stol(value);
    else if (flag == "--stall-timeout")
      o.stall_timeout = std::stod(value);
    else if (flag == "--max-host-connections")
      o.max_host_connections = std::stol(value);
    else
      return usage();
  }
  if (o.base_url.empty()) return usage();
  try {
    const Json args = Json::parse(o.args);
    http_task::ClientOptions client_options;
    client_options.on_call_finished = count_call;
    client_options.max_host_connections = o.max_host_connections;
    http_task::Client client(client_options);
    http_task::celery::Gateway gateway(o.base_url, client);
    if (o.warmup > 0 && run_level(gateway, o, args, std::min<long>(16, o.warmup), o.warmup).empty())
      return 1;
    for (long inflight : o.inflight) {
      const std::string line = run_level(gateway, o, args, inflight, std::max(o.tasks, inflight));
      if (line.empty()) return 1;
      std::cout << line << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "gateway_client: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
