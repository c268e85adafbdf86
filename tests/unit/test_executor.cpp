// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/executor.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

using http_task::Executor;
using http_task::Job;

namespace {

// The three shapes of executor users already have.
struct CallablePool {
  std::shared_ptr<std::vector<Job>> jobs = std::make_shared<std::vector<Job>>();
  void operator()(Job j) const { jobs->push_back(std::move(j)); }
};
struct ExecutePool {
  std::vector<std::function<void()>> jobs;  // std::function: needs a copyable job
  void execute(std::function<void()> f) { jobs.push_back(std::move(f)); }
};
struct PostPool {
  std::deque<Job> jobs;
  template <class F>
  void post(F&& f) {
    jobs.emplace_back(std::forward<F>(f));
  }
};
struct NotAnExecutor {};

}  // namespace

static_assert(http_task::is_executor_v<CallablePool>);
static_assert(http_task::is_executor_v<ExecutePool>);
static_assert(http_task::is_executor_v<PostPool>);
static_assert(http_task::is_executor_v<std::reference_wrapper<ExecutePool>>);
static_assert(http_task::is_executor_v<std::function<void(std::function<void()>)>>);
static_assert(!http_task::is_executor_v<NotAnExecutor>);
static_assert(!http_task::is_executor_v<int>);

TEST_CASE("a Job owns move-only state and runs at most once over all its copies", "[executor]") {
  int runs = 0;
  Job job([p = std::make_unique<int>(1), &runs] { runs += *p; });
  Job copy = job;
  std::function<void()> as_function = copy;  // fits std::function-based pools
  as_function();
  job();
  copy();
  CHECK(runs == 1);
  CHECK_FALSE(Job());
}

TEST_CASE("Executor wraps callables, execute() and post() objects", "[executor]") {
  int runs = 0;
  CallablePool callable;
  Executor a = callable;
  a.post(Job([&] { ++runs; }));
  REQUIRE(callable.jobs->size() == 1);
  (*callable.jobs)[0]();

  ExecutePool exec_pool;
  Executor b = std::ref(exec_pool);  // by reference: the pool is not copied
  b(Job([&] { ++runs; }));
  REQUIRE(exec_pool.jobs.size() == 1);
  exec_pool.jobs[0]();

  PostPool post_pool;
  Executor c = std::ref(post_pool);
  c.execute(Job([&] { ++runs; }));
  REQUIRE(post_pool.jobs.size() == 1);
  post_pool.jobs[0]();
  CHECK(runs == 3);

  Executor copy = c;
  CHECK(copy == c);
  CHECK(copy != a);
}

TEST_CASE("an empty Executor and inline_executor run jobs at once", "[executor]") {
  int runs = 0;
  Executor none;
  CHECK_FALSE(none);
  none.post(Job([&] { ++runs; }));
  Executor inl = http_task::inline_executor;
  CHECK(inl);
  inl.post(Job([&] { ++runs; }));
  CHECK(runs == 2);
}
