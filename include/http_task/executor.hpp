// SPDX-License-Identifier: MIT
// Where continuations run. An executor is whatever the application already has: a
// callable taking a job, or an object with execute(job) or post(job) (a thread pool, a
// job system, an event loop's post). http_task hands it a Job and never blocks on it.
//
//   boost::asio::thread_pool pool(4);
//   http_task::Executor on_pool = [&pool](http_task::Job job) {
//     boost::asio::post(pool, std::move(job));
//   };
//   url.get_async<int>().then(on_pool, [](int n) { return n * 2; });
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace http_task {
inline namespace v1 {

/// One unit of work for an executor: nullary, returns nothing, never throws out of its
/// call.
///
/// The task inside may own move-only things (results); a Job is nevertheless
/// copyable, so it fits executors built on std::function: copies share the one task,
/// and the first call runs it (later calls, on any copy, do nothing). A task whose last
/// copy is destroyed without having run reports that through the result it would have
/// completed, which then fails instead of hanging. Copies may be called and destroyed on
/// any threads.
class Job {
 public:
  /// An empty Job: calling it does nothing.
  Job() noexcept = default;

  /// A Job that runs `f` (a nullary callable, moved or copied in) on its first call.
  template <class F, std::enable_if_t<!std::is_same_v<std::decay_t<F>, Job> &&
                                          std::is_invocable_v<std::decay_t<F>&>,
                                      int> = 0>
  explicit Job(F&& f) : task_(std::make_shared<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  /// Whether the Job holds a task (it may have run already).
  explicit operator bool() const noexcept { return task_ != nullptr; }

  /// Runs the task if no copy has run it yet; otherwise does nothing. Thread-safe.
  void operator()() const {
    if (task_ && !task_->taken.exchange(true, std::memory_order_acq_rel)) task_->call();
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void call() = 0;
    std::atomic<bool> taken{false};
  };
  template <class F>
  struct Model final : Concept {
    template <class G>
    explicit Model(G&& g) : f(std::forward<G>(g)) {}
    void call() override { f(); }
    F f;
  };
  std::shared_ptr<Concept> task_;
};

namespace detail {

template <class E, class = void>
struct HasExecute : std::false_type {};
template <class E>
struct HasExecute<E, std::void_t<decltype(std::declval<E&>().execute(std::declval<Job>()))>>
    : std::true_type {};

template <class E, class = void>
struct HasPost : std::false_type {};
template <class E>
struct HasPost<E, std::void_t<decltype(std::declval<E&>().post(std::declval<Job>()))>>
    : std::true_type {};

template <class E>
struct Unwrapped {
  using type = E;
};
template <class E>
struct Unwrapped<std::reference_wrapper<E>> {
  using type = E;
};

// Calls, in order of preference, e(job), e.execute(job), e.post(job).
template <class E>
void post_job(E& e, Job job) {
  if constexpr (std::is_invocable_v<E&, Job>) {
    e(std::move(job));
  } else if constexpr (HasExecute<E>::value) {
    e.execute(std::move(job));
  } else {
    e.post(std::move(job));
  }
}

}  // namespace detail

/// Whether E can serve as an executor: a callable taking a Job, or a type with
/// `execute(Job)` or `post(Job)` (tried in that order); std::reference_wrapper<E> when E
/// can.
template <class E>
inline constexpr bool is_executor_v =
    std::is_invocable_v<typename detail::Unwrapped<std::decay_t<E>>::type&, Job> ||
    detail::HasExecute<typename detail::Unwrapped<std::decay_t<E>>::type>::value ||
    detail::HasPost<typename detail::Unwrapped<std::decay_t<E>>::type>::value;

/// Runs each job at once, on the thread that posts it.
///
/// For continuations this is the thread that completed the call, usually the one
/// running the Client's loop (its loop thread, or a thread waiting in get()): only for
/// quick, non-blocking work, or every other call of that Client waits. Waiting for an
/// unfinished result there throws std::logic_error.
struct InlineExecutor {
  /// Runs the job now, on this thread.
  void operator()(Job job) const { job(); }
};
/// The InlineExecutor, as in `std::move(r).then(http_task::inline_executor, f)`.
inline constexpr InlineExecutor inline_executor{};

/// Any executor, type-erased and cheap to copy (copies share the one held).
///
/// Holds a copy of what it is given; give std::ref(pool) for a pool that must not be
/// copied, which must then outlive every result that may still post to it. An empty
/// Executor runs jobs inline. Copies may be used on any threads; whether posting to the
/// held executor is thread-safe is up to it (results post from the thread that
/// completes them).
class Executor {
 public:
  /// An empty Executor: runs jobs inline, on the posting thread.
  Executor() noexcept = default;

  /// Holds a copy of `executor` (a callable taking a Job, or a type with execute(Job) or
  /// post(Job); see is_executor_v). Implicit, so any executor converts.
  template <class E, std::enable_if_t<!std::is_same_v<std::decay_t<E>, Executor> &&
                                          is_executor_v<std::decay_t<E>>,
                                      int> = 0>
  Executor(E&& executor)  // NOLINT(google-explicit-constructor): any executor converts
      : impl_(std::make_shared<Model<std::decay_t<E>>>(std::forward<E>(executor))) {}

  /// Whether an executor is held (false: jobs run inline).
  explicit operator bool() const noexcept { return impl_ != nullptr; }

  /// Hands the job to the held executor, or runs it inline when there is none. Whatever
  /// the executor throws (say, a pool that was shut down) comes out of here.
  void post(Job job) const {
    if (impl_)
      impl_->post(std::move(job));
    else
      job();
  }
  /// The same as post().
  void execute(Job job) const { post(std::move(job)); }
  /// The same as post().
  void operator()(Job job) const { post(std::move(job)); }

  /// Whether two Executors share one held executor (copies of one Executor), or are
  /// both empty.
  friend bool operator==(const Executor& a, const Executor& b) noexcept {
    return a.impl_ == b.impl_;
  }
  /// Not operator==.
  friend bool operator!=(const Executor& a, const Executor& b) noexcept { return !(a == b); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void post(Job job) = 0;
  };
  template <class E>
  struct Model final : Concept {
    template <class G>
    explicit Model(G&& g) : e(std::forward<G>(g)) {}
    void post(Job job) override {
      if constexpr (std::is_same_v<typename detail::Unwrapped<E>::type, E>)
        detail::post_job(e, std::move(job));
      else
        detail::post_job(e.get(), std::move(job));
    }
    E e;
  };
  std::shared_ptr<Concept> impl_;
};

}  // namespace v1
}  // namespace http_task
