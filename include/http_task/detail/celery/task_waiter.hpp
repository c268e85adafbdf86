// SPDX-License-Identifier: MIT
// How http_task::celery::Gateway follows waiting tasks without a thread per task: one
// TaskWaiter per Gateway keeps every waiting task id, and long-polls the gateway for
// them from the Client's own continuations, never blocking.
//
// Our gateway's batch route (`POST /api/tasks/wait` with up to max_ids_per_wait ids) is
// asked first: one parked request serves up to 1,000 tasks and returns as soon as one of
// them is ready. A gateway that answers it 404 or 405 is a real Flower: from then on each
// task has its own `GET /api/task/result/<id>?timeout=S`, with a cap on those in flight.
//
// Polls ride out a gateway restart and a Redis outage (connection refused, reset, 503)
// through their retry policy: its backoff is the only delay this needs, so there is no
// timer. A deadline is checked when a poll returns, and polls of tasks with a deadline
// wait no longer than it on the server.
#pragma once

#include <http_task/async_result.hpp>
#include <http_task/client.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/error.hpp>
#include <http_task/json.hpp>
#include <http_task/request.hpp>
#include <http_task/retry_policy.hpp>
#include <http_task/url.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

// Flower's and our gateway's answers are plain JSON, not Celery webhook answers: 2xx is
// the value, anything else an HttpError with the gateway's {"error": ...} as reason.
class PlainJsonDispatcher final : public Dispatcher {
 public:
  Json decode(const Response& r) const override {
    if (r.status >= 200 && r.status < 300)
      return Json::parse(r.body, r.max_json_depth ? r.max_json_depth : 128);
    std::string reason;
    try {
      const Json j = Json::parse(r.body, 16);
      if (auto e = j.find("error"); e && e->is_string()) reason = e->as<std::string>();
    } catch (const Error&) {
    }
    throw HttpError(r.status, std::string(r.body.substr(0, r.max_error_body)), reason);
  }
};

// Percent-encodes one path segment (a task name or id).
inline std::string path_segment(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

inline bool celery_state_ready(std::string_view state) noexcept {
  return state == "SUCCESS" || state == "FAILURE" || state == "REVOKED";
}

struct TaskWaiterSettings {
  std::chrono::milliseconds poll_wait{20'000};  // how long one long-poll waits on the server
  std::size_t max_ids_per_wait = 1000;
  std::size_t max_waits_in_flight = 8;
  std::size_t max_result_polls_in_flight = 64;  // Flower: one request per task
  Headers headers;                              // on every request (e.g. Flower's auth)
  bool batch_wait = true;  // false: per-task polls from the start, as against Flower
};

class TaskWaiter : public std::enable_shared_from_this<TaskWaiter> {
 public:
  using Clock = std::chrono::steady_clock;

  // One future waiting for one task. finish gets the task's object as the gateway sent
  // it ({"task-id", "state", "result", ...}) once it is ready; fail gets any other end.
  struct Waiter {
    std::uint64_t key = 0;
    std::optional<Clock::time_point> deadline;
    std::function<void(const Json&)> finish;
    std::function<void(std::exception_ptr)> fail;
  };

  TaskWaiter(std::string base_url, Client& client, TaskWaiterSettings settings)
      : base_(std::move(base_url)),
        client_(client),
        settings_(std::move(settings)),
        plain_(std::make_shared<PlainJsonDispatcher>()),
        single_mode_(!settings_.batch_wait) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    if (settings_.max_ids_per_wait == 0) settings_.max_ids_per_wait = 1;
    if (settings_.max_waits_in_flight == 0) settings_.max_waits_in_flight = 1;
    if (settings_.max_result_polls_in_flight == 0) settings_.max_result_polls_in_flight = 1;
  }

  Client& client() const noexcept { return client_; }
  std::string url(std::string_view path) const { return base_ + std::string(path); }
  URL endpoint(std::string_view path) const { return URL(url(path), client_, plain_); }
  CallOptions options() const {
    CallOptions o;
    o.headers = settings_.headers;
    return o;
  }

  std::uint64_t next_key() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ++keys_;
  }

  // Starts following id for w (from any thread; never blocks on the network).
  void add(const std::string& id, Waiter w) {
    bool closed = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed = closed_;
      if (!closed) waiting_[id].push_back(std::move(w));
    }
    if (closed) {
      w.fail(std::make_exception_ptr(CancelledError("the Gateway's Client is shutting down")));
      return;
    }
    pump();
  }

  // Stops following id for the waiter with this key (a cancelled future).
  void remove(const std::string& id, std::uint64_t key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    auto& list = it->second;
    list.erase(
        std::remove_if(list.begin(), list.end(), [key](const Waiter& w) { return w.key == key; }),
        list.end());
    if (list.empty()) waiting_.erase(it);
  }

  // One look at a task now (?timeout=0).
  AsyncResult<Json> look(const std::string& id, std::chrono::milliseconds server_wait) const {
    CallOptions o = options();
    o.with_idempotent().with_timeout(server_wait + std::chrono::seconds(30));
    return endpoint("/api/task/result/" + path_segment(id) +
                    "?timeout=" + seconds_text(server_wait))
        .get_async({}, std::move(o));
  }

  // Numbers of requests this waiter has made, for tests and benchmarks.
  std::size_t waits_sent() const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    return waits_sent_;
  }
  std::size_t result_polls_sent() const noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    return result_polls_sent_;
  }

 private:
  struct Poll {
    std::vector<std::string> ids;
    std::chrono::milliseconds wait{0};
    bool batch = true;
  };

  static std::string seconds_text(std::chrono::milliseconds ms) {
    const long long v = std::max<long long>(0, ms.count());
    std::string s = std::to_string(v / 1000) + ".";
    const std::string frac = std::to_string(1000 + v % 1000).substr(1);
    return s + frac;
  }

  // The policy of every poll: connection refused, resets, 503 (Redis down), 502/504 (a
  // proxy) are retried with backoff until the poll's own timeout; then a new poll starts.
  RetryPolicy poll_retry() const {
    RetryPolicy p;
    p.max_attempts = 1'000'000;
    p.initial_backoff = std::chrono::milliseconds(100);
    p.max_backoff = std::chrono::milliseconds(2'000);
    p.max_retry_after = std::chrono::milliseconds(5'000);
    p.attempt_timeout = settings_.poll_wait + std::chrono::seconds(15);
    return p;
  }

  // Starts the polls that the tasks not yet covered need, within the caps, and fails
  // waiters past their deadline. Any thread; call without the lock.
  void pump() {
    std::vector<Poll> polls;
    std::vector<std::pair<std::string, Waiter>> expired;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;
      const auto now = Clock::now();
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        auto& list = it->second;
        for (auto w = list.begin(); w != list.end();) {
          if (w->deadline && *w->deadline <= now) {
            expired.emplace_back(it->first, std::move(*w));
            w = list.erase(w);
          } else {
            ++w;
          }
        }
        it = list.empty() ? waiting_.erase(it) : std::next(it);
      }
      const bool batch = !single_mode_;
      const std::size_t cap =
          batch ? settings_.max_waits_in_flight : settings_.max_result_polls_in_flight;
      std::size_t& in_flight = batch ? waits_in_flight_ : result_polls_in_flight_;
      // The uncovered ids spread over the free slots: a wait returns as soon as one of
      // its ids is ready and the rest are asked again, so smaller waits re-send less.
      std::size_t per_poll = 1;
      if (batch && in_flight < cap) {
        std::size_t uncovered = 0;
        for (const auto& entry : waiting_) uncovered += covered_.count(entry.first) == 0;
        const std::size_t free_slots = cap - in_flight;
        per_poll = std::clamp<std::size_t>((uncovered + free_slots - 1) / free_slots, 1,
                                           settings_.max_ids_per_wait);
      }
      Poll current;
      auto earliest = Clock::time_point::max();
      auto close_poll = [&] {
        current.batch = batch;
        current.wait = settings_.poll_wait;
        if (earliest != Clock::time_point::max()) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(earliest - now) +
                            std::chrono::milliseconds(1);
          current.wait = std::clamp(left, std::chrono::milliseconds(0), settings_.poll_wait);
        }
        for (const auto& id : current.ids) covered_.insert(id);
        ++in_flight;
        polls.push_back(std::move(current));
        current = Poll();
        earliest = Clock::time_point::max();
      };
      for (const auto& [id, list] : waiting_) {
        if (in_flight >= cap) break;
        if (covered_.count(id) != 0) continue;
        current.ids.push_back(id);
        for (const auto& w : list)
          if (w.deadline) earliest = std::min(earliest, *w.deadline);
        if (current.ids.size() >= per_poll) close_poll();
      }
      if (!current.ids.empty() && in_flight < cap) close_poll();
      if (batch)
        waits_sent_ += polls.size();
      else
        result_polls_sent_ += polls.size();
    }
    for (auto& [id, w] : expired) time_out(id, std::move(w));
    for (auto& poll : polls) start(std::move(poll));
  }

  void start(Poll poll) {
    auto self = shared_from_this();
    CallOptions o = options();
    o.with_retry(poll_retry()).with_idempotent().with_timeout(poll.wait + std::chrono::seconds(30));
    AsyncResult<Json> call;
    if (poll.batch) {
      const Json body =
          Json::object({{"ids", Json::from(poll.ids)},
                        {"timeout", static_cast<double>(poll.wait.count()) / 1000.0}});
      call = endpoint("/api/tasks/wait").post_json(body, std::move(o));
    } else {
      call = endpoint("/api/task/result/" + path_segment(poll.ids.front()) +
                      "?timeout=" + seconds_text(poll.wait))
                 .get_async({}, std::move(o));
    }
    std::move(call).then(
        [self, poll = std::move(poll)](AsyncResult<Json>&& r) mutable { self->answered(poll, r); });
  }

  // A poll came back: hand out what is ready, decide what the error means, poll again.
  void answered(const Poll& poll, AsyncResult<Json>& r) {
    std::vector<Json> ready;
    std::exception_ptr fatal;  // ends the waiters of this poll's ids
    bool close = false;
    bool to_single = false;
    try {
      const Json answer = r.get();
      if (poll.batch) {
        if (auto tasks = answer.find("tasks"); tasks && tasks->is_array())
          for (const Json& t : tasks->elements()) ready.push_back(t);
      } else {
        ready.push_back(answer);
      }
    } catch (const CancelledError&) {
      fatal = std::current_exception();
      close = true;  // only the Client's end cancels our polls
    } catch (const HttpError& e) {
      const long s = e.status_code();
      if (poll.batch && (s == 404 || s == 405)) {
        to_single = true;
      } else if (s == 408 || s == 429 || s == 502 || s == 503 || s == 504) {
        // Flower's "not ready yet", or the retries of an outage ran out: poll again.
      } else {
        fatal = std::current_exception();
      }
    } catch (const TimeoutError&) {
      // The gateway was down or stuck for the poll's whole timeout: poll again.
    } catch (const TransportError&) {
      // Retried, so transient, and the retries ran out: poll again. Not retried (a TLS
      // or URL error, say): polling again would fail the same way at once.
      if (r.attempts() <= 1) fatal = std::current_exception();
    } catch (...) {
      fatal = std::current_exception();
    }

    std::vector<std::pair<Json, Waiter>> finished;
    std::vector<Waiter> failed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& id : poll.ids) covered_.erase(id);
      --(poll.batch ? waits_in_flight_ : result_polls_in_flight_);
      if (to_single) single_mode_ = true;
      if (close) closed_ = true;
      for (const Json& t : ready) {
        const auto id = t.find("task-id");
        const auto state = t.find("state");
        if (!id || !id->is_string() || !state || !state->is_string()) continue;
        if (!celery_state_ready(state->as<std::string>())) continue;
        auto it = waiting_.find(id->as<std::string>());
        if (it == waiting_.end()) continue;
        for (auto& w : it->second) finished.emplace_back(t, std::move(w));
        waiting_.erase(it);
      }
      if (fatal) {
        for (const auto& id : poll.ids) {
          auto it = waiting_.find(id);
          if (it == waiting_.end()) continue;
          for (auto& w : it->second) failed.push_back(std::move(w));
          waiting_.erase(it);
        }
      }
      if (close) {
        for (auto& [id, list] : waiting_)
          for (auto& w : list) failed.push_back(std::move(w));
        waiting_.clear();
      }
    }
    for (auto& [t, w] : finished) w.finish(t);
    for (auto& w : failed) w.fail(fatal);
    pump();
  }

  // A waiter's deadline passed: one look tells its last state, then it fails.
  void time_out(const std::string& id, Waiter w) {
    auto fail = std::make_shared<Waiter>(std::move(w));
    look(id, std::chrono::milliseconds(0)).then([id, fail](AsyncResult<Json>&& r) {
      std::string last = "unknown";
      try {
        const Json t = r.get();
        if (auto s = t.find("state"); s && s->is_string()) last = s->as<std::string>();
        if (celery_state_ready(last)) {
          fail->finish(t);  // it finished just now after all
          return;
        }
      } catch (const std::exception& e) {
        last += std::string(" (") + e.what() + ")";
      }
      fail->fail(std::make_exception_ptr(TimeoutError(
          CURLE_OPERATION_TIMEDOUT,
          "Celery task " + id + " did not finish by its deadline (last state: " + last + ")")));
    });
  }

  std::string base_;
  Client& client_;
  TaskWaiterSettings settings_;
  std::shared_ptr<const Dispatcher> plain_;
  bool single_mode_ = false;  // the batch route is missing: a real Flower (guarded)

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<Waiter>> waiting_;
  std::unordered_set<std::string> covered_;  // ids in a poll in flight
  std::size_t waits_in_flight_ = 0;
  std::size_t result_polls_in_flight_ = 0;
  bool closed_ = false;  // the Client is going away
  std::uint64_t keys_ = 0;
  std::size_t waits_sent_ = 0;
  std::size_t result_polls_sent_ = 0;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
