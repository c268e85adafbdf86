// SPDX-License-Identifier: MIT
// Waiting for a result where the wait could never end (docs/blocking.md): on the thread
// running a Client's loop it throws std::logic_error, which reaches the call as its
// error; on the completion thread it runs the continuations queued behind it. Each case
// runs in a forked child with an alarm, so that a regression fails instead of hanging.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/child_process.hpp"
#include "support/webhook_urls.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::run_in_child;
using http_task_test::server_url;

namespace {

// Whether f throws std::logic_error naming the way out (then()).
template <class F>
bool throws_refusal(F&& f) {
  try {
    f();
  } catch (const std::logic_error& e) {
    if (std::strstr(e.what(), "then()")) return true;
    std::fprintf(stderr, "child: unexpected logic_error: %s\n", e.what());
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child: unexpected error: %s\n", e.what());
    return false;
  }
  std::fprintf(stderr, "child: no error\n");
  return false;
}

// The parent starts the server, which the child then uses (and does not own).
template <class F>
http_task_test::ChildEnd in_child(F&& body, unsigned alarm_seconds = 60) {
  server_url("/");
  return run_in_child(std::forward<F>(body), alarm_seconds);
}

// A call that stays unfinished for as long as a test takes.
std::string slow_url() { return server_url("/slow?ms=600000"); }

}  // namespace

TEST_CASE("an inline continuation that waits for another call gets logic_error, not a hang",
          "[blocking]") {
  auto end = in_child([] {
    Client client;
    URL multiply(server_url("/multiply"), client);
    auto pending = URL(slow_url(), client).get_async();
    auto r = multiply.get_async<int>({{"x", 2}, {"y", 3}}).then(inline_executor, [&](int n) {
      pending.get();
      return n;
    });
    int code = throws_refusal([&] { r.get(); }) ? 0 : 1;
    // The loop went on: later calls are answered.
    if (multiply.get_async<int>({{"x", 4}, {"y", 4}}).get() != 16) code = 2;
    return code;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("wait_for with time on the loop thread is refused too; without time it only looks",
          "[blocking]") {
  auto end = in_child([] {
    Client client;
    URL multiply(server_url("/multiply"), client);
    auto pending = URL(slow_url(), client).get_async();
    std::atomic<bool> looked{false};
    auto r = multiply.get_async<int>({{"x", 2}, {"y", 3}}).then(inline_executor, [&](int n) {
      looked = pending.wait_for(0ms) == std::future_status::timeout;
      pending.wait_for(10ms);
      return n;
    });
    int code = throws_refusal([&] { r.get(); }) ? 0 : 1;
    return looked ? code : 3;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("the log hook waiting for a call gets logic_error, and the loop goes on", "[blocking]") {
  auto end = in_child([] {
    auto pending = std::make_shared<AsyncResult<Json>>();
    std::atomic<int> refused{0};
    std::atomic<bool> once{false};
    ClientOptions options;
    options.on_call_finished = [&](const CallRecord&) {
      if (once.exchange(true)) return;
      if (throws_refusal([&] { pending->get(); })) ++refused;
    };
    Client client(options);
    *pending = URL(slow_url(), client).get_async();
    URL multiply(server_url("/multiply"), client);
    int code = multiply.get_async<int>({{"x", 5}, {"y", 5}}).get() == 25 ? 0 : 1;
    if (multiply.get_async<int>({{"x", 6}, {"y", 6}}).get() != 36) code = 2;
    if (refused != 1) code = 3;
    return code;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("a signer waiting for a call fails its own call with logic_error", "[blocking]") {
  struct WaitingSigner : RequestSigner {
    std::shared_ptr<AsyncResult<Json>> pending = std::make_shared<AsyncResult<Json>>();
    Headers sign(const SigningInput&) const override {
      if (pending->valid()) pending->get();
      return {};
    }
  };
  auto end = in_child([] {
    auto signer = std::make_shared<WaitingSigner>();
    Client client;
    *signer->pending = URL(slow_url(), client).get_async();
    CallOptions options;
    options.signer = signer;
    URL multiply(server_url("/multiply"), client);
    return throws_refusal([&] {
      multiply.get_async<int>({{"x", 1}, {"y", 1}}, options).get();
    })
               ? 0
               : 1;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("a dispatcher's decode waiting for a call fails its own call with logic_error",
          "[blocking]") {
  struct WaitingDispatcher : Dispatcher {
    std::shared_ptr<AsyncResult<Json>> pending;
    Json decode(const Response& response) const override {
      pending->get();
      return Dispatcher::decode(response);
    }
  };
  auto end = in_child([] {
    Client client;
    auto dispatcher = std::make_shared<WaitingDispatcher>();
    dispatcher->pending = std::make_shared<AsyncResult<Json>>(URL(slow_url(), client).get_async());
    Request request;
    request.url = server_url("/multiply?x=2&y=2");
    auto r = client.dispatch<int>(request, dispatcher);
    int code = throws_refusal([&] { r.get(); }) ? 0 : 1;
    if (URL(server_url("/multiply"), client).get_async<int>({{"x", 3}, {"y", 3}}).get() != 9)
      code = 2;
    return code;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("a continuation run by run_once() that waits for a call gets logic_error",
          "[blocking][user_driven]") {
  auto end = in_child([] {
    ClientOptions options;
    options.own_thread = false;
    Client client(options);
    auto pending = URL(slow_url(), client).get_async();
    auto r =
        URL(server_url("/multiply"), client).get_async<int>({{"x", 2}, {"y", 2}}).then([&](int n) {
          pending.get();
          return n;
        });
    auto guard = std::chrono::steady_clock::now() + 60s;
    while (!r.ready() && std::chrono::steady_clock::now() < guard) client.run_once(50ms);
    return throws_refusal([&] { r.get(); }) ? 0 : 1;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("a completion-thread continuation waiting for one queued behind it does not hang",
          "[blocking]") {
  auto end = in_child([] {
    Client client;
    URL multiply(server_url("/multiply"), client);
    auto r = multiply.get_async<int>({{"x", 2}, {"y", 5}}).then([&](int n) {
      // Posted to this same completion thread, behind the job running now.
      auto inner = make_ready_result(n).then(client.executor(), [](int m) { return m + 1; });
      return inner.get();
    });
    int code = r.get() == 11 ? 0 : 1;
    // And a wait with a deadline there, for a call: still answered.
    auto s = multiply.get_async<int>({{"x", 3}, {"y", 1}}).then([&](int n) {
      auto again = multiply.get_async<int>({{"x", n}, {"y", 2}}).then(client.executor(), [](int m) {
        return m;
      });
      return again.wait_for(60s) == std::future_status::ready ? again.get() : -1;
    });
    if (s.get() != 6) code = 2;
    return code;
  });
  INFO(end.describe());
  CHECK(end.exit_code == 0);
}

TEST_CASE("~Client from code its own loop runs is refused loudly, not a hang", "[blocking]") {
  auto end = in_child(
      [] {
        ClientOptions options;
        options.own_thread = false;
        auto* client = new Client(options);
        auto r = URL(server_url("/multiply"), *client)
                     .get_async<int>({{"x", 2}, {"y", 2}})
                     .then(inline_executor, [&](int n) {
                       delete client;
                       return n;
                     });
        for (int i = 0; i < 1000 && !r.ready(); ++i) client->run_once(50ms);
        return 1;  // not reached: the delete aborts
      },
      60);
  INFO(end.describe());
  CHECK(end.signal == SIGABRT);
}
