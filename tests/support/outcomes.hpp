// Tallies over many calls' results, for tests that start calls in bulk.
#pragma once

#include <catch2/catch.hpp>

#include <http_task/async_result.hpp>

#include <vector>

namespace http_task_test {

// How many of the results failed with Error; every result must be ready.
template <class Error, class T>
int count_failed_with(std::vector<http_task::AsyncResult<T>>& results) {
  int n = 0;
  for (auto& r : results) {
    REQUIRE(r.ready());
    try {
      r.get();
    } catch (const Error&) {
      ++n;
    }
  }
  return n;
}

}  // namespace http_task_test
