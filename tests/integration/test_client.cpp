// SPDX-License-Identifier: MIT
// The loop: concurrency from many threads, connection reuse, timeouts, cancellation,
// shutdown, the log hook. No call may be left without an answer.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/checks.hpp"
#include "support/outcomes.hpp"
#include "support/webhook_urls.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::require_throws_as;
using http_task_test::server_url;

TEST_CASE("many threads start calls on one Client at once", "[client]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      std::vector<AsyncResult<int>> results;
      for (int i = 0; i < 50; ++i) results.push_back(multiply.get_async<int>({{"x", t}, {"y", i}}));
      for (int i = 0; i < 50; ++i)
        if (results[i].get() == t * i) ++correct;
    });
  for (auto& th : threads) th.join();
  CHECK(correct == 400);
}

TEST_CASE("sequential calls reuse one connection", "[client]") {
  auto server = http_task_test::start_webhook_server();
  Client client;
  URL(server->base_url() + "/stats/reset", client).get_async().get();
  URL multiply(server->base_url() + "/multiply", client);
  for (int i = 0; i < 20; ++i)
    REQUIRE(multiply.get_async<int>({{"x", i}, {"y", 2}}).get() == 2 * i);
  Json stats = URL(server->base_url() + "/stats", client).get_async().get();
  CHECK(stats.find("requests")->as<int>() == 21);  // 20 calls and this one
  CHECK(stats.find("connections")->as<int>() <= 1);
}

namespace {

// Starts `calls` calls to the test server's `path` at once on a Client with `options`,
// checks that each is answered `expected`, and returns the server's /stats for them
// (connections, max_open, requests: the calls and the /stats call itself).
Json burst(const ClientOptions& options, int calls, const std::string& path,
           const std::string& expected) {
  auto server = http_task_test::start_webhook_server();
  Client client(options);
  URL(server->base_url() + "/stats/reset", client).get_async().get();
  URL route(server->base_url() + path, client);
  std::vector<AsyncResult<Json>> results;
  for (int i = 0; i < calls; ++i) results.push_back(route.get_async());
  int answered = 0;
  for (auto& r : results)
    if (r.get().as<std::string>() == expected) ++answered;
  CHECK(answered == calls);
  return URL(server->base_url() + "/stats", client).get_async().get();
}

}  // namespace

// The loop spreads calls over several curl multi handles, 64 each (multi_shard.hpp).
// The gate answers only once all 300 wait at once, however slow the machine.
TEST_CASE("300 calls at once all run at once, over several multi handles", "[client]") {
  Json stats = burst(ClientOptions(), 300, "/gate?key=burst&n=300", "open");
  CHECK(stats.find("max_open")->as<int>() >= 300);
}

// libcurl counts a cap per multi handle, so a capped Client keeps to one.
TEST_CASE("a connection cap holds for more calls than one multi handle takes", "[client]") {
  ClientOptions options;
  options.max_host_connections = 100;
  Json stats = burst(options, 300, "/slow?ms=200", "slow");
  CHECK(stats.find("max_open")->as<int>() <= 100);
  CHECK(stats.find("requests")->as<int>() == 301);  // the 300 calls and /stats
}

namespace {

int open_descriptors() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++n;
  }
  return n;
}

}  // namespace

// A burst spreads calls over many multi handles. Each keeps libcurl's wake-up socket pair
// and the idle connections that libcurl prunes only while the handle runs transfers, so
// the empty ones are closed once the calls in flight fall back. What stays is the first
// multi handle's share: at most 64 connections, which libcurl keeps for reuse.
TEST_CASE("after a burst, the Client closes the multi handles it no longer needs", "[client]") {
  auto server = http_task_test::start_webhook_server();
  Client client;
  URL(server->base_url() + "/stats/reset", client).get_async().get();
  const int before = open_descriptors();
  // The gate answers only once all 1,000 wait at once, however slow the machine.
  URL gate(server->base_url() + "/gate?key=burst&n=1000", client);
  std::vector<AsyncResult<Json>> results;
  for (int i = 0; i < 1000; ++i) results.push_back(gate.get_async());
  for (auto& r : results) REQUIRE(r.get().as<std::string>() == "open");
  Json stats = URL(server->base_url() + "/stats", client).get_async().get();
  const int after = open_descriptors();
  CHECK(stats.find("max_open")->as<int>() >= 1000);  // all at once: 16 multi handles
  CAPTURE(before, after);
  CHECK(after - before <= 64);
}

// Out of descriptors, a Client cannot be made, and says why; what it made before the
// failure is freed. Each limit lets one more descriptor be opened, so the failure moves
// through the loop's set-up: its eventfd, its epoll descriptor, its first multi handle
// (on the poll backend: its wake-up pipe, its first multi handle).
// (Under ASan, a header list left behind by a failed constructor is reported as a leak.)
TEST_CASE("a Client that runs out of descriptors while being made frees what it made", "[client]") {
  // UBSan checks a virtual call's object the first time it meets its type, probing the
  // memory through a pipe, which it cannot open while descriptors run out: it would
  // report the error category of the system_error thrown below as a bad object. Going
  // through the same calls once first (a Client made and destroyed, a system_error
  // thrown and read) leaves only cached checks for the run out of descriptors.
  { Client warm_up; }
  try {
    throw std::system_error(EMFILE, std::generic_category(), "warm-up");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("warm-up") == 0);
  }
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  const int before = open_descriptors();
  const int lowest_free = ::dup(0);
  REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  std::vector<std::string> failures;
  bool made = false;
  for (int extra = 0; extra < 8 && !made; ++extra) {
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(lowest_free + extra);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    try {
      Client client;
      made = true;
    } catch (const std::exception& e) {
      failures.emplace_back(e.what());
    }
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    CAPTURE(extra, failures);
    CHECK(open_descriptors() == before);
  }
  CAPTURE(failures);
  CHECK(made);
  const auto failed_at = [&](const std::string& step) {
    return std::any_of(failures.begin(), failures.end(),
                       [&](const std::string& f) { return f.find(step) != std::string::npos; });
  };
  const char* backend = std::getenv("HTTP_TASK_LOOP_BACKEND");
  if (backend && std::string(backend) == "poll") {  // the portable backend (asan-poll)
    CHECK(failed_at("pipe"));
  } else {
    CHECK(failed_at("eventfd"));
    CHECK(failed_at("epoll_create1"));
  }
}

// One call at a time, so every call reuses the same libcurl handle, whose receive buffer
// follows the size of its last answer (1 KiB by default, up to 16 KiB): each answer
// must come back whole whatever buffer the handle had, growing and shrinking.
TEST_CASE("answers of every size come back whole as a handle's receive buffer changes",
          "[client]") {
  Client client;
  URL answer(server_url("/answer"), client);
  for (std::size_t size : {10, 70'000, 10, 3'000, 70'000, 70'000, 100, 20'000, 1'500, 5, 9'000}) {
    CAPTURE(size);
    std::string text(size, 'x');
    for (std::size_t i = 0; i < size; i += 97) text[i] = static_cast<char>('a' + i % 26);
    const std::string body = R"({"status": "success", "retval": ")" + text + "\"}";
    CHECK(answer.post_async({{"body", body}}).get().as<std::string>() == text);
  }
}

// An answer larger than a handle keeps is decoded in place in its own buffer, which
// the value keeps: values and errors, their quotes of the body included, must be those
// of a copy, and the handle must read the next answer into a new buffer.
TEST_CASE("large answers are decoded in their own buffer, values and errors alike", "[client]") {
  Client client;
  URL answer(server_url("/answer"), client);
  const std::string text(70'000, 'x');
  const auto answered = [&](const std::string& body) {
    return answer.post_async({{"body", body}});
  };
  const auto error_of = [](AsyncResult<Json> r) -> std::string {
    try {
      r.get();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string success = R"({"status": "success", "retval": ")";
  CHECK(answered(success + text + "\"}").get().as<std::string>() == text);
  CHECK(answered(R"({"status": "success", "retval": 5})").get().as<int>() == 5);
  CHECK_THAT(error_of(answered(R"(["a\"b", ")" + text + "\"]")),
             Catch::Contains("webhook answer is a JSON array") &&
                 Catch::Contains(R"(body begins "[\"a\\\"b\", \"xxx)"));
  CHECK_THAT(error_of(answered(success + text + "\"} x")),
             Catch::Contains("not valid JSON") &&
                 Catch::Contains(R"(body begins "{\"status\": \"success\", \"retval\": \"xxx)"));
  CHECK(error_of(answered(R"({"status": "failure", "reason": ")" + text + "\"}")) == text);
  CHECK(answered(R"({"status": "success", "retval": [1, "y"]})").get().dump() == R"([1,"y"])");
}

// Each multi handle has its own libcurl timer; the loop must fire every one.
TEST_CASE("timeouts fire for calls on every multi handle", "[client]") {
  ClientOptions options;
  options.timeout = 300ms;
  Client client(options);
  URL stalled(server_url("/slow?ms=30000"), client);
  std::vector<AsyncResult<Json>> results;
  for (int i = 0; i < 200; ++i) results.push_back(stalled.get_async());
  for (auto& r : results)
    REQUIRE(r.wait_for(20s) == std::future_status::ready);  // before the server answers
  CHECK(http_task_test::count_failed_with<TimeoutError>(results) == 200);
}

TEST_CASE("every call has its own UUID, readable on the result", "[client]") {
  Client client;
  URL multiply(server_url("/multiply"), client);
  auto a = multiply.get_async({{"x", 1}, {"y", 1}});
  auto b = multiply.get_async({{"x", 1}, {"y", 1}});
  CHECK(a.id().size() == 36);
  CHECK(a.id() != b.id());
  a.get();
  CHECK(a.id().size() == 36);  // still readable after get()
}

TEST_CASE("the future's state functions behave like std::future's", "[client]") {
  Client client;
  AsyncResult<Json> empty;
  CHECK_FALSE(empty.valid());
  CHECK_FALSE(empty.ready());
  CHECK_THROWS_AS(empty.get(), std::future_error);

  auto slow = URL(server_url("/slow?ms=300"), client).get_async<std::string>();
  CHECK(slow.valid());
  CHECK(slow.wait_for(0ms) == std::future_status::timeout);
  CHECK(slow.wait_until(std::chrono::system_clock::now() + 30s) == std::future_status::ready);
  CHECK(slow.ready());
  CHECK(slow.wait_for(std::chrono::hours::max()) == std::future_status::ready);
  CHECK(slow.get() == "slow");
  CHECK(slow.get() == "slow");  // get() may be called again

  AsyncResult<std::string> moved = std::move(slow);
  CHECK(moved.valid());
  CHECK_FALSE(slow.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
}

TEST_CASE("timeouts end in TimeoutError and the Client keeps serving", "[client]") {
  ClientOptions options;
  options.timeout = 300ms;
  Client client(options);
  auto slow = URL(server_url("/slow?ms=5000"), client).get_async();
  auto quick = URL(server_url("/multiply"), client).get_async<int>({{"x", 2}, {"y", 3}});
  CHECK_THROWS_AS(slow.get(), TimeoutError);
  CHECK(quick.get() == 6);
  // A per-call timeout overrides the Client's.
  auto patient = URL(server_url("/slow?ms=600"), client)
                     .get_async<std::string>({}, CallOptions().with_timeout(10s));
  CHECK(patient.get() == "slow");
  CHECK(require_throws_as<TimeoutError>(URL(server_url("/slow?ms=5000"), client).get_async())
            .curl_code() == CURLE_OPERATION_TIMEDOUT);
}

TEST_CASE("a refused connection is a TransportError", "[client]") {
  Client client;
  // A port nobody listens on: bind one, then close it.
  auto server = http_task_test::start_webhook_server();
  std::string url = server->base_url() + "/multiply";
  server.reset();
  {
    auto e = require_throws_as<TransportError>(URL(url, client).get_async());
    CHECK(e.curl_code() == CURLE_COULDNT_CONNECT);
  }
}

TEST_CASE("cancel stops a call, exactly once, and releases its connection", "[client]") {
  auto server = http_task_test::start_webhook_server();
  ClientOptions options;
  options.max_total_connections = 1;  // the next call can only run if cancel freed it
  Client client(options);
  auto slow = URL(server->base_url() + "/slow?ms=20000", client).get_async();
  std::this_thread::sleep_for(100ms);
  CHECK(slow.cancel());
  CHECK(slow.ready());
  CHECK_FALSE(slow.cancel());
  CHECK_THROWS_AS(slow.get(), CancelledError);

  auto done = URL(server->base_url() + "/multiply", client).get_async<int>({{"x", 2}, {"y", 2}});
  REQUIRE(done.wait_for(10s) == std::future_status::ready);
  CHECK(done.get() == 4);
  CHECK_FALSE(done.cancel());  // finished first: the value stays
  CHECK(done.get() == 4);
}

TEST_CASE("a call cancelled while it waits for a connection is never sent", "[client]") {
  auto server = http_task_test::start_webhook_server();
  ClientOptions options;
  options.max_total_connections = 1;
  Client client(options);
  URL(server->base_url() + "/stats/reset", client).get_async().get();
  // The one connection stays busy until the test opens the gate, however slow the machine.
  auto busy = URL(server->base_url() + "/gate?key=busy&n=2", client).get_async();
  auto waiting = URL(server->base_url() + "/echo", client).post_async({{"never", "sent"}});
  std::this_thread::sleep_for(100ms);  // likely queued by now; the cancel must win either way
  CHECK(waiting.cancel());
  Client other;
  CHECK(URL(server->base_url() + "/gate?key=busy&n=2", other).get_async<std::string>().get() ==
        "open");
  CHECK(busy.get().as<std::string>() == "open");
  Json stats = URL(server->base_url() + "/stats", client).get_async().get();
  CHECK(stats.find("requests")->as<int>() == 3);  // the gate twice and this one: never /echo
}

TEST_CASE("destroying a Client answers every pending call with CancelledError", "[client]") {
  std::vector<AsyncResult<Json>> pending;
  std::optional<Client> client(std::in_place);
  URL slow(server_url("/slow?ms=20000"), *client);
  for (int i = 0; i < 200; ++i) pending.push_back(slow.get_async());
  std::this_thread::sleep_for(200ms);
  client.reset();
  // No clock needed to see that the destructor did not wait for the server: had it
  // waited, the calls would have ended with the server's answer, not CancelledError.
  CHECK(http_task_test::count_failed_with<CancelledError>(pending) == 200);
}

TEST_CASE("the log hook sees every call that reached the loop", "[client]") {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> lines;
  std::vector<std::string> urls;
  ClientOptions options;
  options.on_call_finished = [&](const CallRecord& r) {
    {
      std::lock_guard<std::mutex> lock(m);
      lines.push_back(celery_log_line(r));
      urls.emplace_back(r.url);
    }
    cv.notify_all();
  };
  {
    Client client(options);
    std::string base = server_url("");
    std::string with_credentials = "http://user:secret@" + base.substr(7) + "/multiply";
    auto ok = URL(with_credentials, client).get_async({{"x", 10}, {"y", 10}});
    auto failed = URL(base + "/multiply", client).get_async({{"x", "ten"}});
    auto refused = URL("file:///etc/passwd", client).get_async();
    // The hook runs just after each result is published: wait for it, not for get().
    std::unique_lock<std::mutex> lock(m);
    REQUIRE(cv.wait_for(lock, 30s, [&] { return lines.size() == 3; }));
    CHECK(std::find(lines.begin(), lines.end(),
                    "Task http_task.dispatch[" + ok.id() + "] processed: 100") != lines.end());
    for (auto& u : urls) CHECK(u.find("secret") == std::string::npos);
  }
}

TEST_CASE("answers larger than the limit are refused as they arrive", "[client]") {
  ClientOptions options;
  options.max_response_bytes = 64 * 1024;
  Client client(options);
  // With a Content-Length, and chunked without one.
  CHECK_THROWS_AS(URL(server_url("/fault/huge-body?mib=8"), client).get_async().get(),
                  InvalidResponseError);
  CHECK_THROWS_AS(URL(server_url("/fault/huge-chunked?mib=8"), client).get_async().get(),
                  InvalidResponseError);
  CHECK(URL(server_url("/multiply"), client).get_async<int>({{"x", 1}, {"y", 1}}).get() == 1);
}
