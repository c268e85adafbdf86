// SPDX-License-Identifier: MIT
// The calls waiting for another attempt, earliest first, and the rule that decides
// whether (and when) a finished attempt is tried again: the call's RetryPolicy, a
// status or transport error it names, exponential backoff with full jitter, the
// server's Retry-After, the call's deadline. The loop's driving thread only.
#pragma once

#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/policy/delivery_rules.hpp>
#include <http_task/retry_policy.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class RetryQueue {
 public:
  using Clock = std::chrono::steady_clock;

  // When to try again, or nothing: out of attempts, not retryable, past the deadline,
  // or the loop is closing. easy: the attempt's handle, off the multi handle but not
  // reused yet.
  std::optional<Clock::duration> retry_delay(const Transfer& call, CURLcode rc, CURL* easy,
                                             bool closing) {
    const RetryPolicy& policy = *call.retry;
    if (!call.may_retry || closing || call.attempts_made >= policy.max_attempts)
      return std::nullopt;
    if (!retryable(call, rc)) return std::nullopt;
    curl_off_t retry_after_s = -1;
    curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after_s);
    // The policy's schedule, or exponential backoff with full jitter (delivery_rules.hpp).
    Clock::duration delay = backoff(policy, call.attempts_made, random_);
    if (retry_after_s >= 0) {
      auto asked =
          std::min<Clock::duration>(std::chrono::seconds(retry_after_s), policy.max_retry_after);
      delay = std::max(delay, asked);
    }
    if (call.deadline && Clock::now() + delay >= *call.deadline) return std::nullopt;
    return delay;
  }

  // Whether the attempt's failure is one the call's policy tries again.
  static bool retryable(const Transfer& call, CURLcode rc) noexcept {
    if (rc == CURLE_OK) return retries_status(*call.retry, call.http_status);
    return call.retry->retry_transport_errors && !call.stopped_by_client() && is_transient(rc);
  }

  // The libcurl results another attempt may well not see: the network's, not the
  // request's.
  static bool is_transient(CURLcode rc) noexcept {
    switch (rc) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_OPERATION_TIMEDOUT:
      case CURLE_PARTIAL_FILE:
      case CURLE_GOT_NOTHING:
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
      case CURLE_SSL_CONNECT_ERROR:
        return true;
      default:
        return false;
    }
  }

  // False when the retry could not be queued (out of memory): the caller completes the
  // call with the answer it has.
  bool schedule_retry(const std::shared_ptr<Transfer>& call, Clock::duration delay) noexcept {
    try {
      waiting_.push_back({Clock::now() + delay, call});
    } catch (...) {
      return false;
    }
    call->waiting_retry = true;
    std::push_heap(waiting_.begin(), waiting_.end(), later_first);
    return true;
  }

  // The next call whose retry is due by now, off the queue; null when none is.
  std::shared_ptr<Transfer> take_due(Clock::time_point now) noexcept {
    if (waiting_.empty() || waiting_.front().due > now) return nullptr;
    std::pop_heap(waiting_.begin(), waiting_.end(), later_first);
    auto call = std::move(waiting_.back().call);
    waiting_.pop_back();
    call->waiting_retry = false;
    return call;
  }

  // Takes a cancelled call off the queue now, not when its retry would be due (up to
  // max_backoff or max_retry_after later). Returns it, to keep it alive while the loop
  // retires it; null if it was not queued.
  std::shared_ptr<Transfer> remove(const Transfer& call) {
    auto it = std::find_if(waiting_.begin(), waiting_.end(),
                           [&](const Waiting& w) { return w.call.get() == &call; });
    std::shared_ptr<Transfer> keep;
    if (it != waiting_.end()) {
      keep = std::move(it->call);
      *it = std::move(waiting_.back());
      waiting_.pop_back();
      std::make_heap(waiting_.begin(), waiting_.end(), later_first);
    }
    return keep;
  }

  bool empty() const noexcept { return waiting_.empty(); }
  Clock::time_point next_due() const noexcept { return waiting_.front().due; }  // not empty()

  template <class F>
  void for_each(F&& f) const {
    for (const auto& waiting : waiting_) f(*waiting.call);
  }
  void clear() noexcept { waiting_.clear(); }

 private:
  struct Waiting {
    Clock::time_point due;
    std::shared_ptr<Transfer> call;
  };
  static bool later_first(const Waiting& a, const Waiting& b) { return a.due > b.due; }

  std::vector<Waiting> waiting_;  // a min-heap on due
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
