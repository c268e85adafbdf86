// SPDX-License-Identifier: MIT
// Tallies over many calls' results, for tests that start calls in bulk.
#pragma once

#include <catch2/catch.hpp>

#include <http_task/async_result.hpp>

#include <vector>

namespace http_task_test {

// Whether every one of the results is ready.
template <class T>
bool all_ready(const std::vector<http_task::AsyncResult<T>>& results) {
  for (const auto& r : results)
    if (!r.ready()) return false;
  return true;
}

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
