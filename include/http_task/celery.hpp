// SPDX-License-Identifier: MIT
// http_task::celery::Gateway: applies tasks on a Celery cluster over HTTP and awaits
// their results as futures, through Flower's REST API or the project's own gateway
// (examples/celery_gateway). Not included by http_task.hpp.
//
//   http_task::celery::Gateway celery("http://127.0.0.1:8000/");
//   auto sum = celery.apply_async<int>("tasks.add", http_task::Json::array({2, 3}));
//   std::cout << sum.id() << " = " << sum.get() << "\n";  // the Celery task id, 5
//
// The task id is made here (UUID v4) and sent with the apply, so id() is known at once
// and a retried apply cannot run the task twice (the gateway applies an id once).
// Waiting costs no thread: see detail/celery/task_waiter.hpp. docs/celery.md has more.
#pragma once

#include <http_task/async_result.hpp>
#include <http_task/client.hpp>
#include <http_task/detail/call/uuid.hpp>
#include <http_task/detail/celery/task_waiter.hpp>
#include <http_task/detail/future/value_state.hpp>
#include <http_task/error.hpp>
#include <http_task/json.hpp>
#include <http_task/request.hpp>
#include <http_task/retry_policy.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

/// Celery over HTTP: apply tasks on a Celery cluster and await their results as
/// futures (Gateway; celery.hpp, not included by http_task.hpp).
namespace http_task {
inline namespace v1 {
namespace celery {

/// One Celery task's state as the gateway reports it (Gateway::state(), or the value of
/// `apply_async<TaskState>()`).
struct TaskState {
  std::string id;           ///< The Celery task id.
  std::string state;        ///< PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED.
  Json result;              ///< SUCCESS: the return value; else what the gateway sent.
  std::string exc_type;     ///< FAILURE: the exception's class, such as "ValueError".
  std::string traceback;    ///< FAILURE: the worker's traceback.
  std::string exc_message;  ///< FAILURE: str() of the exception (the reason).

  /// Whether the task has finished: SUCCESS, FAILURE or REVOKED.
  bool ready() const { return detail::celery_state_ready(state); }
};

/// A task that ended in FAILURE. reason() is the exception's message, and so is what()
/// when there is one (as RemoteExecuteError).
class TaskFailedError : public RemoteExecuteError {
 public:
  /// An error for this task, exception message, exception class and traceback.
  TaskFailedError(std::string task_id, std::string reason, std::string exc_type,
                  std::string traceback)
      : RemoteExecuteError(std::move(reason)),
        task_id_(std::move(task_id)),
        exc_type_(std::move(exc_type)),
        traceback_(std::move(traceback)) {}
  /// The Celery task id.
  const std::string& task_id() const noexcept { return task_id_; }
  /// The exception's class, such as "ValueError" ("" when the gateway did not say).
  const std::string& exc_type() const noexcept { return exc_type_; }
  /// The worker's traceback ("" when the gateway did not send one).
  const std::string& traceback() const noexcept { return traceback_; }

 private:
  std::string task_id_;
  std::string exc_type_;
  std::string traceback_;
};

/// How one task is applied (Gateway::apply_async(), Gateway::send_task()).
struct ApplyOptions {
  /// The task id; unset: a fresh UUID. It is the result's AsyncResult::id().
  std::optional<std::string> task_id;
  /// Delay before the task may run (Celery's countdown); unset: none.
  std::optional<std::chrono::milliseconds> countdown;
  /// The Celery queue to send it to; unset: the task's default queue.
  std::optional<std::string> queue;
  /// How long the whole wait may take, apply included; unset: the Gateway's
  /// GatewayOptions::default_deadline.
  ///
  /// Past it the result fails with TimeoutError naming the task and its last state (the
  /// task itself goes on; cancel() to stop it). Separate from each HTTP request's own
  /// timeout. A task nobody runs stays PENDING: only a deadline ends that.
  std::optional<std::chrono::milliseconds> deadline;
};

/// How a Gateway talks to the gateway server.
struct GatewayOptions {
  /// The deadline of results whose ApplyOptions::deadline is unset; unset: wait as long
  /// as it takes.
  std::optional<std::chrono::milliseconds> default_deadline;
  /// How long one status long-poll may wait on the gateway for tasks to finish.
  std::chrono::milliseconds poll_wait{20'000};
  std::size_t max_ids_per_wait = 1000;  ///< Task ids in one POST /api/tasks/wait at most.
  std::size_t max_waits_in_flight = 8;  ///< Those requests in flight at once at most.

  /// Per-task result polls in flight at once at most (a real Flower, without the batch
  /// route).
  std::size_t max_result_polls_in_flight = 64;
  /// The apply's retry policy (it is always sent as idempotent). Unset: the Client's.
  std::optional<RetryPolicy> apply_retry;
  /// The timeout of each apply, state and revoke request.
  std::chrono::milliseconds request_timeout{30'000};
  /// Headers sent with every request, such as Flower's basic auth.
  Headers headers;
  /// Whether to ask the batch route (POST /api/tasks/wait) first. A gateway without it
  /// (404/405: a real Flower) switches the waiter to per-task polls anyway; false starts
  /// with those.
  bool batch_wait = true;
};

namespace detail_celery {

inline std::string string_member(const Json& j, std::string_view key) {
  if (auto v = j.find(key); v && v->is_string()) return v->as<std::string>();
  return {};
}

// The class name in a repr such as "ValueError('boom')" (what a real Flower sends).
inline std::string class_of_repr(const std::string& repr) {
  const auto paren = repr.find('(');
  return paren == std::string::npos ? std::string() : repr.substr(0, paren);
}

inline TaskState to_state(const Json& t) {
  if (!t.is_object())
    throw InvalidResponseError(std::string("gateway answer: expected object, got ") +
                               t.type_name());
  TaskState s;
  s.id = string_member(t, "task-id");
  s.state = string_member(t, "state");
  if (s.state.empty()) throw InvalidResponseError("gateway answer without a task state");
  if (auto r = t.find("result")) s.result = *r;
  s.traceback = string_member(t, "traceback");
  s.exc_type = string_member(t, "exc_type");
  s.exc_message = string_member(t, "exc_message");
  if (s.state == "FAILURE") {
    const std::string repr = s.result.is_string() ? s.result.as<std::string>() : s.result.dump();
    if (s.exc_type.empty()) s.exc_type = class_of_repr(repr);
    if (s.exc_message.empty() && !t.find("exc_message")) s.exc_message = repr;
  }
  return s;
}

// Completes state from a ready task object.
template <class T>
void settle(detail::ValueState<T>& out, const Json& task) noexcept {
  try {
    TaskState s = to_state(task);
    if (s.state == "SUCCESS") {
      if constexpr (std::is_void_v<T>) {
        out.set_value();
      } else if constexpr (std::is_same_v<T, TaskState>) {
        out.set_value(std::move(s));
      } else {
        out.set_value(s.result.template as<T>());
      }
    } else if (s.state == "FAILURE") {
      out.set_error(
          std::make_exception_ptr(TaskFailedError(s.id, s.exc_message, s.exc_type, s.traceback)));
    } else {
      out.set_error(
          std::make_exception_ptr(CancelledError("Celery task " + s.id + " was revoked")));
    }
  } catch (...) {
    out.set_error(std::current_exception());
  }
}

}  // namespace detail_celery

/// A Celery HTTP gateway (Flower's REST API or the project's own gateway,
/// examples/celery_gateway): applies tasks and awaits their results as futures.
///
/// Waiting costs no thread: one waiter per Gateway long-polls the gateway for every
/// waiting task. Results continue on the Client's executor. Copies share one waiter.
/// Thread-safe. Errors come through the results: RequestError for bad arguments,
/// the HTTP call's errors for the apply and the polls (HttpError, TransportError...),
/// TaskFailedError, CancelledError for a revoked task, TimeoutError past a deadline.
/// docs/celery.md.
class Gateway {
 public:
  /// A Gateway at `base_url` ("http://127.0.0.1:8000/") over default_client().
  explicit Gateway(std::string base_url) : Gateway(std::move(base_url), default_client()) {}
  /// A Gateway at `base_url` over `client`, which must outlive the Gateway and its
  /// results.
  Gateway(std::string base_url, Client& client)
      : Gateway(std::move(base_url), client, GatewayOptions()) {}
  /// A Gateway at `base_url` over `client` (which must outlive the Gateway and its
  /// results), with these options.
  Gateway(std::string base_url, Client& client, GatewayOptions options)
      : options_(std::move(options)),
        waiter_(std::make_shared<detail::TaskWaiter>(std::move(base_url), client,
                                                     waiter_settings(options_))) {}

  /// Applies the task and awaits it: completes with its return value (as `T`, or the
  /// whole TaskState for `T` = TaskState) once it has finished, with TaskFailedError on
  /// FAILURE, CancelledError on REVOKED.
  ///
  /// `args` must be a JSON array and `kwargs` an object, and `task` not empty, or the
  /// result is RequestError. id() is the Celery task id. cancel() revokes the task with
  /// terminate, so a task already running is stopped too (Celery leaves a running task
  /// STARTED when revoked without terminate).
  template <class T = Json>
  AsyncResult<T> apply_async(std::string task, Json args = Json::array(),
                             Json kwargs = Json::object(), ApplyOptions options = {}) const {
    std::string id = options.task_id ? *options.task_id : detail::Uuid4::random().str();
    const auto deadline = deadline_of(options);
    auto out = waiting_state<T>(id);
    const std::uint64_t key = out.second;
    std::shared_ptr<detail::ValueState<T>> state = std::move(out.first);
    AsyncResult<Json> applied = apply(std::move(task), id, args, kwargs, options);
    std::move(applied).then([waiter = waiter_, state, id, key, deadline](AsyncResult<Json>&& r) {
      try {
        r.get();
      } catch (...) {
        state->set_error(std::current_exception());
        return;
      }
      if (state->ready()) return;  // cancelled meanwhile
      follow<T>(*waiter, state, id, key, deadline);
    });
    return detail::ResultAccess::make_typed<T>(std::move(state));
  }

  /// Applies the task and completes with its id once the gateway has taken it, without
  /// awaiting the task (result() can, later).
  AsyncResult<std::string> send_task(std::string task, Json args = Json::array(),
                                     Json kwargs = Json::object(),
                                     ApplyOptions options = {}) const {
    std::string id = options.task_id ? *options.task_id : detail::Uuid4::random().str();
    auto state = std::make_shared<detail::ValueState<std::string>>(id);
    state->set_executor(waiter_->client().executor());
    AsyncResult<Json> applied = apply(std::move(task), id, args, kwargs, options);
    std::move(applied).then([state, id](AsyncResult<Json>&& r) {
      try {
        r.get();
        state->set_value(id);
      } catch (...) {
        state->set_error(std::current_exception());
      }
    });
    return detail::ResultAccess::make_typed<std::string>(std::move(state));
  }

  /// Awaits a task applied before (by anyone), as apply_async() does. cancel() revokes
  /// it, as for apply_async(). `deadline` unset: GatewayOptions::default_deadline.
  template <class T = Json>
  AsyncResult<T> result(std::string task_id,
                        std::optional<std::chrono::milliseconds> deadline = std::nullopt) const {
    ApplyOptions o;
    o.deadline = deadline;
    const auto until = deadline_of(o);
    auto out = waiting_state<T>(task_id);
    follow<T>(*waiter_, out.first, task_id, out.second, until);
    return detail::ResultAccess::make_typed<T>(std::move(out.first));
  }

  /// One look at the task now (?timeout=0), whatever its state.
  AsyncResult<TaskState> state(std::string task_id) const {
    return waiter_->look(task_id, std::chrono::milliseconds(0)).then([](const Json& t) {
      return detail_celery::to_state(t);
    });
  }

  /// Revokes the task; terminate also stops it when it is running (SIGTERM to its
  /// process). Completes once the gateway has accepted the revoke.
  AsyncResult<void> revoke(std::string task_id, bool terminate = false) const {
    return revoke_on(*waiter_, task_id, terminate, options_.request_timeout);
  }

  /// Batch long-polls (POST /api/tasks/wait) sent so far by this Gateway's waiter, for
  /// measurements.
  std::size_t waits_sent() const { return waiter_->waits_sent(); }
  /// Per-task result polls sent so far by this Gateway's waiter, for measurements.
  std::size_t result_polls_sent() const { return waiter_->result_polls_sent(); }

 private:
  static detail::TaskWaiterSettings waiter_settings(const GatewayOptions& o) {
    detail::TaskWaiterSettings s;
    s.poll_wait = o.poll_wait;
    s.max_ids_per_wait = o.max_ids_per_wait;
    s.max_waits_in_flight = o.max_waits_in_flight;
    s.max_result_polls_in_flight = o.max_result_polls_in_flight;
    s.headers = o.headers;
    s.batch_wait = o.batch_wait;
    return s;
  }

  std::optional<detail::TaskWaiter::Clock::time_point> deadline_of(const ApplyOptions& o) const {
    const auto d = o.deadline ? o.deadline : options_.default_deadline;
    if (!d) return std::nullopt;
    return detail::TaskWaiter::Clock::now() + *d;
  }

  static AsyncResult<void> revoke_on(const detail::TaskWaiter& waiter, const std::string& id,
                                     bool terminate, std::chrono::milliseconds timeout) {
    CallOptions o = waiter.options();
    o.with_idempotent().with_timeout(timeout);
    return waiter
        .endpoint("/api/task/revoke/" + detail::path_segment(id) +
                  (terminate ? "?terminate=true" : ""))
        .post_async({}, std::move(o))
        .then([](const Json&) {});
  }

  // The state of a waiting result; cancelling it stops the waiting and revokes the task.
  template <class T>
  std::pair<std::shared_ptr<detail::ValueState<T>>, std::uint64_t> waiting_state(
      const std::string& id) const {
    auto state = std::make_shared<detail::ValueState<T>>(id);
    state->set_executor(waiter_->client().executor());
    const std::uint64_t key = waiter_->next_key();
    state->on_cancel([weak = std::weak_ptr<detail::TaskWaiter>(waiter_), id, key,
                      timeout = options_.request_timeout] {
      if (auto w = weak.lock()) {
        w->remove(id, key);
        revoke_on(*w, id, true, timeout);  // fired; its answer is not awaited
      }
    });
    return {std::move(state), key};
  }

  template <class T>
  static void follow(detail::TaskWaiter& waiter,
                     const std::shared_ptr<detail::ValueState<T>>& state, const std::string& id,
                     std::uint64_t key,
                     std::optional<detail::TaskWaiter::Clock::time_point> deadline) {
    detail::TaskWaiter::Waiter w;
    w.key = key;
    w.deadline = deadline;
    w.finish = [state](const Json& task) { detail_celery::settle<T>(*state, task); };
    w.fail = [state](std::exception_ptr e) { state->set_error(std::move(e)); };
    waiter.add(id, std::move(w));
  }

  AsyncResult<Json> apply(std::string task, const std::string& id, const Json& args,
                          const Json& kwargs, const ApplyOptions& options) const {
    try {
      if (!args.is_array()) throw RequestError("Celery task args must be a JSON array");
      if (!kwargs.is_object()) throw RequestError("Celery task kwargs must be a JSON object");
      if (task.empty()) throw RequestError("empty Celery task name");
      std::map<std::string, Json> body{{"args", args}, {"kwargs", kwargs}, {"task_id", id}};
      if (options.countdown)
        body["countdown"] = static_cast<double>(options.countdown->count()) / 1000.0;
      if (options.queue) body["queue"] = *options.queue;
      CallOptions o = waiter_->options();
      o.with_idempotent().with_timeout(options_.request_timeout);
      if (options_.apply_retry) o.with_retry(*options_.apply_retry);
      return waiter_->endpoint("/api/task/async-apply/" + detail::path_segment(task))
          .post_json(Json::from(body), std::move(o));
    } catch (...) {
      return make_exceptional_result<Json>(std::current_exception());
    }
  }

  GatewayOptions options_;
  std::shared_ptr<detail::TaskWaiter> waiter_;
};

}  // namespace celery
}  // namespace v1
}  // namespace http_task
