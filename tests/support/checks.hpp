// SPDX-License-Identifier: MIT
// Checks shared by the test files: a call's error, a substring, an executor run by hand.
#pragma once

#include <catch2/catch.hpp>

#include <http_task/executor.hpp>

#include <cxxabi.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace http_task_test {

template <class T>
std::string type_name() {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(typeid(T).name());
}

// Requires that `result` (an AsyncResult) fails with E: not with a value, not with
// another error. Returns the error for further checks. The wait is bounded so that a
// call left without an answer fails here, naming it, rather than at the ctest timeout.
template <class E, class Result>
E require_throws_as(Result&& result, std::chrono::seconds wait = std::chrono::seconds(60)) {
  REQUIRE(result.wait_for(wait) == std::future_status::ready);
  try {
    result.get();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    FAIL("expected " << type_name<E>() << ", got another error: " << e.what());
  }
  FAIL("expected " << type_name<E>() << ", got a value");
  throw std::logic_error("unreachable: FAIL throws");
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs jobs when told: an executor whose jobs the test can hold back, run on a thread
// of its choice, or drop. Copies share one queue. Not thread-safe: one thread at a time.
struct ManualExecutor {
  std::shared_ptr<std::vector<http_task::Job>> jobs =
      std::make_shared<std::vector<http_task::Job>>();
  void operator()(http_task::Job job) const { jobs->push_back(std::move(job)); }
  // Runs the jobs queued so far (not those they queue); returns how many ran.
  std::size_t run_all() const {
    auto batch = std::move(*jobs);
    jobs->clear();
    for (auto& j : batch) j();
    return batch.size();
  }
};

}  // namespace http_task_test
