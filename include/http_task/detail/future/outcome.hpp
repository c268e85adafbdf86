// SPDX-License-Identifier: MIT
// How a call ended: a value or an error, never both. The loop fills it once; the
// future hands it to the user.
#pragma once

#include <http_task/json.hpp>

#include <exception>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

struct Outcome {
  Json value;                // meaningful only when error is null
  std::exception_ptr error;  // set when the call failed

  static Outcome success(Json v) { return Outcome{std::move(v), nullptr}; }
  static Outcome failure(std::exception_ptr e) { return Outcome{Json(), std::move(e)}; }
  template <class E>
  static Outcome failure(E e) {
    return Outcome{Json(), std::make_exception_ptr(std::move(e))};
  }
  bool ok() const noexcept { return !error; }
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
