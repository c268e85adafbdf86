// SPDX-License-Identifier: MIT
// then(), make_ready_result, cancel propagation and when_all/when_any over results the
// test completes by hand: no network, no Client.
#include <catch2/catch.hpp>

#include <http_task/async_result.hpp>
#include <http_task/when_all.hpp>

#include "support/checks.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace http_task;
using http_task::detail::CallState;
using http_task::detail::Outcome;

namespace {

// A pending "call" whose outcome the test decides.
struct Pending {
  std::shared_ptr<CallState> state = std::make_shared<CallState>("pending-id");
  template <class T = Json>
  AsyncResult<T> result() {
    return detail::ResultAccess::make<T>(state);
  }
  void succeed(const std::string& json) { state->complete(Outcome::success(Json::parse(json))); }
  void fail() { state->complete(Outcome::failure(RemoteExecuteError("boom"))); }
};

using http_task_test::ManualExecutor;

}  // namespace

TEST_CASE("then on a ready result runs right away and composes", "[async_result]") {
  auto r = make_ready_result(20).then([](int x) { return x + 1; }).then([](int x) {
    return std::to_string(x * 2);
  });
  REQUIRE(r.ready());
  CHECK(r.get() == "42");
  CHECK(r.get() == "42");  // copyable values: get() again
}

TEST_CASE("then with the whole result sees values and errors", "[async_result]") {
  Pending ok, bad;
  auto a = ok.result<int>().then([](AsyncResult<int>&& r) { return r.get() * 10; });
  std::string seen;
  auto b = bad.result<int>().then([&](AsyncResult<int>&& r) {
    try {
      r.get();
    } catch (const RemoteExecuteError& e) {
      seen = e.reason();
    }
  });
  CHECK_FALSE(a.ready());
  ok.succeed("7");
  bad.fail();
  CHECK(a.get() == 70);
  b.get();
  CHECK(seen == "boom");
  CHECK(a.id() == "pending-id");  // a continuation carries the id of its call
}

TEST_CASE("a value continuation is skipped by an error, which flows on", "[async_result]") {
  Pending p;
  bool ran = false;
  auto r = p.result<int>().then([&](int) { ran = true; }).then([] { return 1; });
  p.fail();
  CHECK_FALSE(ran);
  CHECK_THROWS_AS(r.get(), RemoteExecuteError);
}

TEST_CASE("an exception thrown in a continuation reaches the next result", "[async_result]") {
  auto r = make_ready_result().then([] { throw std::out_of_range("in f"); }).then([] {});
  CHECK_THROWS_AS(r.get(), std::out_of_range);
  auto conv = make_ready_result(std::string("x")).then([](const std::string& s) {
    if (s == "x") throw std::runtime_error("conversion");
    return 1;
  });
  CHECK_THROWS_WITH(conv.get(), "conversion");
}

TEST_CASE("a value that does not convert fails the continuation's result", "[async_result]") {
  Pending p;
  auto r = p.result<int>().then([](int x) { return x; });
  p.succeed("\"not a number\"");
  CHECK_THROWS_AS(r.get(), Error);
}

TEST_CASE("a continuation returning a result is flattened", "[async_result]") {
  Pending outer, inner;
  auto r = outer.result<int>().then(
      [&](int x) { return inner.result<int>().then([x](int y) { return x + y; }); });
  static_assert(std::is_same_v<decltype(r), AsyncResult<int>>);
  outer.succeed("1");
  CHECK_FALSE(r.ready());
  inner.succeed("2");
  CHECK(r.get() == 3);
}

TEST_CASE("then runs f on the given executor, never inline", "[async_result]") {
  ManualExecutor ex;
  Pending p;
  std::thread::id ran_on;
  auto r = p.result<int>().then(ex, [&](int x) {
    ran_on = std::this_thread::get_id();
    return x;
  });
  p.succeed("5");
  CHECK_FALSE(r.ready());  // queued on the executor, not run by complete()
  REQUIRE(ex.jobs->size() == 1);
  std::thread([&] { ex.run_all(); }).join();
  CHECK(r.get() == 5);
  CHECK(ran_on != std::this_thread::get_id());

  // Already finished: posted at once.
  auto again = make_ready_result(1).then(ex, [](int x) { return x; });
  CHECK(ex.jobs->size() == 1);
  ex.run_all();
  CHECK(again.get() == 1);
}

TEST_CASE("move-only values and move-only continuations", "[async_result]") {
  auto owned = std::make_unique<int>(9);
  auto r = make_ready_result(std::make_unique<int>(3))
               .then([p = std::move(owned)](std::unique_ptr<int> v) {
                 return std::make_unique<int>(*v + *p);
               });
  std::unique_ptr<int> v = r.get();
  CHECK(*v == 12);
}

TEST_CASE("an executor that drops or refuses the job fails the result", "[async_result]") {
  ManualExecutor dropping;
  auto dropped = make_ready_result(1).then(dropping, [](int x) { return x; });
  dropping.jobs->clear();
  CHECK_THROWS_AS(dropped.get(), Error);

  auto refusing = [](Job) { throw std::runtime_error("pool stopped"); };
  auto refused = make_ready_result(1).then(refusing, [](int x) { return x; });
  CHECK_THROWS_WITH(refused.get(), "pool stopped");
}

TEST_CASE("cancel on a continuation cancels the call upstream", "[async_result]") {
  Pending p;
  bool ran = false;
  auto r = p.result<int>().then([&](int) { ran = true; });
  CHECK(r.cancel());
  CHECK_FALSE(r.cancel());
  CHECK(p.state->ready());
  CHECK_THROWS_AS(detail::ResultAccess::make<int>(p.state).get(), CancelledError);
  CHECK_THROWS_AS(r.get(), CancelledError);
  CHECK_FALSE(ran);
}

TEST_CASE("cancel after upstream finished: a queued f never runs", "[async_result]") {
  ManualExecutor ex;
  Pending p;
  bool ran = false;
  auto r = p.result<int>().then(ex, [&](int) { ran = true; });
  p.succeed("1");
  CHECK(r.cancel());
  ex.run_all();
  CHECK_FALSE(ran);
  CHECK_THROWS_AS(r.get(), CancelledError);
}

TEST_CASE("cancel of a flattened continuation cancels the inner result", "[async_result]") {
  Pending outer, inner;
  auto r = outer.result<int>().then([&](int) { return inner.result<int>(); });
  outer.succeed("1");
  CHECK(r.cancel());
  CHECK(inner.state->ready());
}

TEST_CASE("empty results refuse then and fan-in", "[async_result]") {
  AsyncResult<int> empty;
  CHECK_THROWS_AS(std::move(empty).then([](int) {}), std::future_error);
  std::vector<AsyncResult<int>> v;
  v.emplace_back();
  CHECK_THROWS_AS(when_all(std::move(v)), std::future_error);
  CHECK_THROWS_AS(make_exceptional_result<int>(nullptr), std::invalid_argument);
}

TEST_CASE("when_all waits for every input and keeps each one's outcome", "[when_all]") {
  std::vector<Pending> pending(3);
  std::vector<AsyncResult<int>> inputs;
  for (auto& p : pending) inputs.push_back(p.result<int>());
  auto all = when_all(inputs.begin(), inputs.end());
  pending[2].succeed("2");
  pending[0].succeed("0");
  CHECK_FALSE(all.ready());
  pending[1].fail();
  auto done = all.get();
  REQUIRE(done.size() == 3);
  CHECK(done[0].get() == 0);
  CHECK_THROWS_AS(done[1].get(), RemoteExecuteError);
  CHECK(done[2].get() == 2);

  CHECK(when_all(std::vector<AsyncResult<int>>()).get().empty());
}

TEST_CASE("when_any completes with the first to finish", "[when_all]") {
  std::vector<Pending> pending(3);
  std::vector<AsyncResult<int>> inputs;
  for (auto& p : pending) inputs.push_back(p.result<int>());
  auto any = when_any(std::move(inputs));
  pending[1].succeed("11");
  pending[2].succeed("22");
  auto first = any.get();
  CHECK(first.index == 1);
  REQUIRE(first.results.size() == 3);
  CHECK(first.results[1].get() == 11);
  CHECK_FALSE(first.results[0].ready());
  // The others are still usable: continue one of them.
  auto rest = std::move(first.results[0]).then([](int x) { return x + 1; });
  pending[0].succeed("99");
  CHECK(rest.get() == 100);

  CHECK(when_any(std::vector<AsyncResult<int>>()).get().index == WhenAnyResult<int>::npos);
}

TEST_CASE("cancel on when_all or when_any cancels every input", "[when_all]") {
  std::vector<Pending> pending(3);
  std::vector<AsyncResult<int>> inputs;
  for (auto& p : pending) inputs.push_back(p.result<int>());
  auto all = when_all(std::move(inputs));
  pending[0].succeed("1");
  CHECK(all.cancel());
  CHECK(pending[1].state->ready());
  CHECK(pending[2].state->ready());
  CHECK_THROWS_AS(all.get(), CancelledError);

  Pending a, b;
  std::vector<AsyncResult<int>> two;
  two.push_back(a.result<int>());
  two.push_back(b.result<int>());
  auto any = when_any(std::move(two));
  CHECK(any.cancel());
  CHECK(a.state->ready());
  CHECK(b.state->ready());
}

TEST_CASE("completions racing from threads: every result resolves once", "[when_all]") {
  for (int round = 0; round < 50; ++round) {
    std::vector<Pending> pending(8);
    std::vector<AsyncResult<int>> inputs;
    for (auto& p : pending) inputs.push_back(p.result<int>());
    auto all = when_all(std::move(inputs));
    std::atomic<int> continuations{0};
    auto counted = std::move(all).then([&](std::vector<AsyncResult<int>> done) {
      ++continuations;
      return done.size();
    });
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < pending.size(); ++i)
      threads.emplace_back([&, i] {
        if (i % 3 == 0)
          pending[i].state->cancel();
        else
          pending[i].succeed("1");
      });
    for (auto& t : threads) t.join();
    CHECK(counted.get() == 8u);
    CHECK(continuations == 1);
  }
}
