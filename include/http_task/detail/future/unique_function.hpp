// SPDX-License-Identifier: MIT
// A move-only std::function<void()>: continuations and executor jobs may own results
// (AsyncResult is move-only), which std::function cannot hold in C++17.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

class UniqueFunction {
 public:
  UniqueFunction() noexcept = default;
  UniqueFunction(std::nullptr_t) noexcept {}

  template <class F, std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction> &&
                                          std::is_invocable_v<std::decay_t<F>&>,
                                      int> = 0>
  UniqueFunction(F&& f) : impl_(std::make_unique<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  UniqueFunction(UniqueFunction&&) noexcept = default;
  UniqueFunction& operator=(UniqueFunction&&) noexcept = default;

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  void operator()() { impl_->call(); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void call() = 0;
  };
  template <class F>
  struct Model final : Concept {
    explicit Model(F&& f) : f_(std::move(f)) {}
    explicit Model(const F& f) : f_(f) {}
    void call() override { f_(); }
    F f_;
  };
  std::unique_ptr<Concept> impl_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
