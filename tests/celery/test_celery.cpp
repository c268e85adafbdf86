// SPDX-License-Identifier: MIT
// celery::Gateway against the example cluster (examples/celery_gateway/cluster.sh): Redis,
// two workers, the Django gateway, started once for the binary and stopped by pid.
// The fault cases (gateway and Redis restarts, a killed worker) come last: they change
// the cluster for the cases after them.
#include <catch2/catch.hpp>

#include <http_task/celery.hpp>
#include <http_task/http_task.hpp>

#include "celery/cluster_process.hpp"
#include "support/server_process.hpp"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using celery::ApplyOptions;
using celery::Gateway;
using celery::TaskFailedError;
using http_task_test::ClusterProcess;

namespace {

ClusterProcess& cluster() {
  static ClusterProcess process;
  return process;
}

// One Client for the whole binary, so that /proc/self/task counts its threads only.
Client& client() {
  static Client c;
  return c;
}

Gateway& gateway() {
  static Gateway g(cluster().base_url(), client());
  return g;
}

// ThreadSanitizer's runtime runs a background thread of its own in the process.
#if defined(__SANITIZE_THREAD__)
constexpr std::size_t kSanitizerThreads = 1;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr std::size_t kSanitizerThreads = 1;
#else
constexpr std::size_t kSanitizerThreads = 0;
#endif
#else
constexpr std::size_t kSanitizerThreads = 0;
#endif

std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Polls state() until the task is in `state` (the test's own bound: a minute).
celery::TaskState wait_for_state(const std::string& id, const std::string& state) {
  for (int i = 0; i < 600; ++i) {
    auto s = gateway().state(id).get();
    if (s.state == state) return s;
    std::this_thread::sleep_for(100ms);
  }
  FAIL("task " << id << " never reached " << state);
  return {};
}

std::string unique(const std::string& prefix) {
  return prefix + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

TEST_CASE("SUCCESS gives the value, typed, and id() is the Celery task id at once", "[celery]") {
  ApplyOptions o;
  o.task_id =
      "0b1c9d2e-0000-4000-8000-" + std::to_string(100000000000 + std::rand() % 899999999999);
  auto sum = gateway().apply_async<int>("tasks.add", Json::array({2, 3}), Json::object(), o);
  CHECK(sum.id() == *o.task_id);
  CHECK(sum.get() == 5);
  CHECK(gateway().apply_async<long long>("tasks.multiply", Json::array({100000, 100000})).get() ==
        10000000000LL);
  auto kw = gateway().apply_async<double>("tasks.add", Json::array(),
                                          Json::object({{"x", 0.5}, {"y", 0.25}}));
  CHECK(kw.get() == 0.75);
  auto state = gateway().state(sum.id()).get();
  CHECK(state.state == "SUCCESS");
  CHECK(state.ready());
  CHECK(state.result.as<int>() == 5);
}

TEST_CASE("FAILURE gives TaskFailedError with the reason, class and traceback", "[celery]") {
  auto r = gateway().apply_async("tasks.fail", Json::array({"boom: ☾"}));
  try {
    r.get();
    FAIL("no exception");
  } catch (const TaskFailedError& e) {
    CHECK(e.reason() == "boom: ☾");
    CHECK(e.exc_type() == "ValueError");
    CHECK(e.task_id() == r.id());
    CHECK_THAT(e.traceback(), Catch::Contains("ValueError"));
  }
}

TEST_CASE("an unknown task is HttpError 404 from the apply", "[celery]") {
  auto r = gateway().apply_async("tasks.no_such_task");
  try {
    r.get();
    FAIL("no exception");
  } catch (const HttpError& e) {
    CHECK(e.status_code() == 404);
    CHECK_THAT(e.what(), Catch::Contains("tasks.no_such_task"));
  }
}

TEST_CASE("bad arguments are refused through the future", "[celery]") {
  CHECK_THROWS_AS(gateway().apply_async("tasks.add", Json::object()).get(), RequestError);
  CHECK_THROWS_AS(gateway().apply_async("tasks.add", Json::array(), Json::array()).get(),
                  RequestError);
  // A value that does not convert to T: http_task::Error naming the mismatch.
  CHECK_THROWS_WITH(gateway().apply_async<std::string>("tasks.add", Json::array({1, 2})).get(),
                    Catch::Contains("expected string"));
}

TEST_CASE("send_task gives the id; result<T>(id) awaits it", "[celery]") {
  const std::string id = gateway().send_task("tasks.multiply", Json::array({6, 7})).get();
  CHECK(id.size() == 36);
  auto r = gateway().result<int>(id);
  CHECK(r.id() == id);
  CHECK(r.get() == 42);
}

TEST_CASE("countdown: the task waits, then runs", "[celery]") {
  ApplyOptions o;
  o.countdown = 2s;
  auto r = gateway().apply_async<int>("tasks.add", Json::array({1, 1}), Json::object(), o);
  // Applied with an ETA: not ready right after the apply (the countdown is far longer
  // than this look takes).
  const std::string id =
      gateway().send_task("tasks.add", Json::array({1, 1}), Json::object(), o).get();
  CHECK_FALSE(gateway().state(id).get().ready());
  CHECK(r.get() == 2);
  CHECK(gateway().result<int>(id).get() == 2);
}

TEST_CASE("a deadline ends a wait with TimeoutError naming the task and its state", "[celery]") {
  // Celery cannot tell an unknown id from a queued task: PENDING until the deadline.
  const std::string id =
      "00000000-0000-4000-8000-" + std::to_string(200000000000 + std::rand() % 99999999);
  auto r = gateway().result(id, 1500ms);
  try {
    r.get();
    FAIL("no exception");
  } catch (const TimeoutError& e) {
    CHECK_THAT(e.what(), Catch::Contains(id) && Catch::Contains("PENDING"));
  }
}

TEST_CASE("cancel() revokes a running task with terminate", "[celery]") {
  auto r = gateway().apply_async<double>("tasks.sleep", Json::array({60}));
  wait_for_state(r.id(), "STARTED");
  CHECK(r.cancel());
  CHECK_THROWS_AS(r.get(), CancelledError);
  wait_for_state(r.id(), "REVOKED");
  // Another waiter of the same task sees the revocation as CancelledError too.
  CHECK_THROWS_AS(gateway().result(r.id()).get(), CancelledError);
}

TEST_CASE("revoke() of a waiting task ends its waiters with CancelledError", "[celery]") {
  ApplyOptions o;
  o.countdown = 30s;
  auto r = gateway().apply_async("tasks.add", Json::array({1, 2}), Json::object(), o);
  const std::string id = r.id();
  gateway().revoke(id).get();
  CHECK_THROWS_AS(r.get(), CancelledError);
}

TEST_CASE("the same task id applied twice runs once", "[celery]") {
  const std::string key = unique("touch");
  ApplyOptions o;
  o.task_id = "11111111-0000-4000-8000-" + std::to_string(300000000000 + std::rand() % 99999999);
  auto first = gateway().apply_async<int>("tasks.touch", Json::array({key}), Json::object(), o);
  auto second = gateway().apply_async<int>("tasks.touch", Json::array({key}), Json::object(), o);
  CHECK(first.get() == 1);
  CHECK(second.get() == 1);
  CHECK(gateway().apply_async<int>("tasks.count", Json::array({key})).get() == 1);
}

TEST_CASE("a gateway that is down: TransportError after the retry policy", "[celery]") {
  const int port = http_task_test::free_port_pair();  // nothing listens there
  celery::GatewayOptions options;
  RetryPolicy p = RetryPolicy::attempts(3);
  p.initial_backoff = 10ms;
  options.apply_retry = p;
  Gateway down("http://127.0.0.1:" + std::to_string(port) + "/", client(), options);
  auto r = down.apply_async("tasks.add", Json::array({1, 2}));
  CHECK_THROWS_AS(r.get(), TransportError);
  CHECK(r.attempts() == 0);  // a result of the Gateway, not a call
}

TEST_CASE("round trip: C++ -> gateway -> worker -> http_dispatch -> C++ webhook", "[celery]") {
#ifdef HTTP_TASK_MULTIPLY_SERVER
  http_task_test::ServerProcess webhook({HTTP_TASK_MULTIPLY_SERVER});
  const std::string url = webhook.base_url() + "/multiply";
  auto get = gateway().apply_async<int>(
      "tasks.http_dispatch", Json::array({url, "GET", Json::object({{"x", 6}, {"y", 7}})}));
  CHECK(get.get() == 42);
  auto post = gateway().apply_async<int>(
      "tasks.http_dispatch", Json::array(),
      Json::object(
          {{"url", url}, {"method", "POST"}, {"kwargs", Json::object({{"x", 3}, {"y", 5}})}}));
  CHECK(post.get() == 15);
  // The webhook's failure comes back as the task's FAILURE, with the remote reason.
  auto bad = gateway().apply_async<int>(
      "tasks.http_dispatch", Json::array({url, "GET", Json::object({{"x", "a"}, {"y", 7}})}));
  CHECK_THROWS_AS(bad.get(), TaskFailedError);
#else
  WARN("cpp-httplib not installed: the C++ webhook server was not built");
#endif
}

TEST_CASE("per-task result polls, as against a real Flower, give the same outcomes", "[celery]") {
  celery::GatewayOptions options;
  options.batch_wait = false;
  Gateway flower(cluster().base_url(), client(), options);
  std::vector<AsyncResult<int>> sums;
  for (int i = 0; i < 20; ++i)
    sums.push_back(flower.apply_async<int>("tasks.add", Json::array({i, 1})));
  for (int i = 0; i < 20; ++i) CHECK(sums[static_cast<std::size_t>(i)].get() == i + 1);
  CHECK_THROWS_AS(flower.apply_async("tasks.fail", Json::array({"x"})).get(), TaskFailedError);
  CHECK(flower.waits_sent() == 0);
  CHECK(flower.result_polls_sent() >= 21);
}

TEST_CASE("1,000 tasks in flight from one Client, at most 3 threads", "[celery]") {
  Gateway g(cluster().base_url(), client());
  std::vector<AsyncResult<int>> results;
  results.reserve(1000);
  std::size_t max_threads = thread_count();
  for (int i = 0; i < 1000; ++i) {
    results.push_back(g.apply_async<int>("tasks.add", Json::array({i, i})));
    if (i % 50 == 0) max_threads = std::max(max_threads, thread_count());
  }
  auto all = when_all(std::move(results));
  while (all.wait_for(20ms) != std::future_status::ready)
    max_threads = std::max(max_threads, thread_count());
  auto done = all.get();
  int right = 0;
  for (int i = 0; i < 1000; ++i) right += done[static_cast<std::size_t>(i)].get() == 2 * i;
  CHECK(right == 1000);
  CHECK(max_threads <= 3 + kSanitizerThreads);
  // The waiting was batched: far fewer status requests than tasks.
  WARN("1,000 tasks: " << g.waits_sent() << " status long-polls, " << max_threads
                       << " threads at most");
  CHECK(g.waits_sent() < 1000);
}

TEST_CASE("the gateway restarted while tasks wait: they recover", "[celery][faults]") {
  std::vector<AsyncResult<double>> results;
  ApplyOptions o;
  o.deadline = 90s;
  for (int i = 0; i < 8; ++i)
    results.push_back(
        gateway().apply_async<double>("tasks.sleep", Json::array({2}), Json::object(), o));
  cluster().signal_and_wait(SIGUSR2, "restarted gateway", 60s);
  for (auto& r : results) CHECK(r.get() == 2.0);
  CHECK(gateway().apply_async<int>("tasks.add", Json::array({2, 2})).get() == 4);
}

TEST_CASE("Redis restarted while tasks wait: every future completes", "[celery][faults]") {
  // Applied first (send_task answers once the gateway took each), so that the restart
  // hits the waiting, not the applying.
  std::vector<AsyncResult<double>> results;
  for (int i = 0; i < 8; ++i) {
    const std::string id = gateway().send_task("tasks.sleep", Json::array({2})).get();
    results.push_back(gateway().result<double>(id, 60s));
  }
  cluster().signal_and_wait(SIGUSR1, "restarted redis", 60s);
  int values = 0;
  int errors = 0;
  for (auto& r : results) {
    try {
      values += r.get() == 2.0;
    } catch (const Error& e) {
      ++errors;  // a clear error (the deadline, naming the task) is allowed; a hang is not
      WARN(e.what());
    }
  }
  CHECK(values + errors == 8);
  CHECK(gateway().apply_async<int>("tasks.add", Json::array({3, 3})).get() == 6);
}

TEST_CASE("kill -9 of the worker running a task: the future still gets the value",
          "[celery][faults]") {
  ApplyOptions o;
  o.deadline = 120s;
  auto r = gateway().apply_async<double>("tasks.sleep", Json::array({4}), Json::object(), o);
  const auto started = wait_for_state(r.id(), "STARTED");
  const auto pool_pid = started.result.get<long>("pid");
  const auto hostname = started.result.get<std::string>("hostname");
  const std::string role = hostname.substr(0, hostname.find('@'));  // w1 or w2
  const pid_t worker = cluster().role_pid(role);
  REQUIRE(worker > 0);
  ::kill(worker, SIGKILL);
  ::kill(static_cast<pid_t>(pool_pid), SIGKILL);
  CHECK(r.get() == 4.0);  // redelivered to the other worker once the visibility timeout passed
}
