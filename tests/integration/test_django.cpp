// SPDX-License-Identifier: MIT
// The Celery documentation's own example: the Django `multiply` view, served by a real
// Django app (examples/django_webhook), called with GET and POST.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

using namespace http_task;

namespace {
std::string multiply_url() { return http_task_test::django_server().base_url() + "/multiply"; }
}  // namespace

TEST_CASE("Django multiply answers GET", "[django]") {
  URL multiply(multiply_url());  // default_client(), as in the docs
  auto res = multiply.get_async({{"x", 10}, {"y", 10}});
  CHECK(res.get().as<int>() == 100);
}

TEST_CASE("Django multiply answers POST", "[django]") {
  URL multiply(multiply_url());
  CHECK(multiply.post_async<int>({{"x", 10}, {"y", 10}}).get() == 100);
  CHECK(multiply.post_async<long long>({{"x", -123456789}, {"y", 1000}}).get() == -123456789000LL);
}

TEST_CASE("Django multiply reports bad arguments as a remote failure", "[django]") {
  URL multiply(multiply_url());
  CHECK_THROWS_AS(multiply.get_async({{"x", "ten"}, {"y", 10}}).get(), RemoteExecuteError);
  CHECK_THROWS_AS(multiply.post_async({{"x", 10}}).get(), RemoteExecuteError);
}
