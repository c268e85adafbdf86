// SPDX-License-Identifier: MIT
// Memory stays bounded when continuations are slower than the answers (queued ones
// count against max_pending_calls), and a cancelled call waiting for its retry is
// released at the cancel, not when its retry would have been due.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"
#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::server_url;

namespace {

template <class Done>
bool poll_until(Done done) {
  auto guard = std::chrono::steady_clock::now() + 60s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > guard) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

TEST_CASE("continuations waiting for the completion thread count against max_pending_calls",
          "[backpressure]") {
  std::atomic<int> finished{0};
  std::atomic<int> refused{0};
  ClientOptions options;
  options.max_pending_calls = 4;
  options.on_call_finished = [&](const CallRecord& record) {
    try {
      if (record.error) std::rethrow_exception(record.error);
    } catch (const RequestError&) {
      ++refused;
    } catch (...) {
    }
    ++finished;
  };
  Client client(options);
  URL multiply(server_url("/multiply"), client);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();

  // One call at a time, each answered before the next starts: calls in flight stay at
  // most one, while their continuations pile up behind the first, which is held.
  std::vector<AsyncResult<int>> results;
  std::atomic<int> running{0};
  int accepted = 0;
  for (int i = 0; i < 20 && refused == 0; ++i) {
    results.push_back(
        multiply.get_async<int>({{"x", i}, {"y", 1}}).then([released, &running](int n) {
          ++running;
          released.wait();
          return n;
        }));
    REQUIRE(poll_until([&] { return finished == i + 1; }));
    // The first is taken off the queue before the count is read.
    REQUIRE(poll_until([&] { return running > 0; }));
    if (refused == 0) ++accepted;
  }
  // The one running plus max_pending_calls queued.
  CHECK(refused == 1);
  CHECK(accepted == 5);

  release.set_value();
  for (int i = 0; i < accepted; ++i) CHECK(results[i].get() == i);
  CHECK_THROWS_AS(results.back().get(), RequestError);
  // Room again once they ran.
  CHECK(multiply.get_async<int>({{"x", 6}, {"y", 7}}).get() == 42);
}

TEST_CASE("a cancelled call waiting for its retry is released at once", "[backpressure]") {
  auto server = http_task_test::start_webhook_server();  // private: its /stats are ours
  Client client;
  URL stats(server->base_url() + "/stats", client);
  auto requests = [&] { return stats.get_async().get().find("requests")->as<int>(); };

  // Held by the call as long as the loop holds the call.
  auto dispatcher = std::make_shared<const Dispatcher>();
  std::weak_ptr<const Dispatcher> held = dispatcher;
  Request request;
  request.url = server->base_url() + "/flaky?key=release&fail=5&status=503&retry_after=600";
  RetryPolicy policy = RetryPolicy::attempts(3);
  policy.max_retry_after = 600s;
  request.options.retry = policy;
  request.options.timeout = 0ms;  // no deadline, which would rule the retry out
  auto r = client.dispatch(request, std::move(dispatcher));

  // The first attempt was answered (the /stats asking counts itself), and one more round
  // trip to the server lets the loop read that answer: the call now waits 600 s.
  REQUIRE(poll_until([&] { return requests() >= 2; }));
  requests();
  REQUIRE_FALSE(r.ready());
  CHECK(r.attempts() == 1);

  CHECK(r.cancel());
  r = AsyncResult<Json>();
  CHECK(poll_until([&] { return held.expired(); }));
}
