// SPDX-License-Identifier: MIT
// What a RetryPolicy decides about a finished attempt, apart from the loop: which HTTP
// statuses are tried again, how long the wait before the next attempt is, and the
// DeadLetter of a call it gave up on; and the CallRecord of every finished call, for the
// log hook. The loop's driver calls these.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/dead_letter.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/retry_policy.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {
namespace detail {

// Whether an HTTP answer with this status is tried again (a 2xx never is).
inline bool retries_status(const RetryPolicy& policy, long status) noexcept {
  if (status >= 200 && status < 300) return false;
  if (policy.retry_any_status) return status != 410;  // Gone: for good
  for (long s : policy.retry_statuses)
    if (s == status) return true;
  return false;
}

// The wait before attempt attempts_made + 1, Retry-After aside: the policy's schedule
// with its jitter, or full jitter over the doubling backoff.
template <class Random>
std::chrono::steady_clock::duration backoff(const RetryPolicy& policy, int attempts_made,
                                            Random& random) {
  using Millis = std::chrono::duration<double, std::milli>;
  double ms = 0;
  if (!policy.retry_schedule.empty()) {
    const std::size_t n = std::min<std::size_t>(
        static_cast<std::size_t>(std::max(attempts_made, 1)), policy.retry_schedule.size());
    const double base = static_cast<double>(policy.retry_schedule[n - 1].count());
    const double j = std::clamp(policy.schedule_jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> factor(1.0 - j, 1.0 + j);
    ms = base * (j > 0 ? factor(random) : 1.0);
  } else {
    double ceiling = std::min<double>(
        static_cast<double>(policy.max_backoff.count()),
        static_cast<double>(policy.initial_backoff.count()) * std::ldexp(1.0, attempts_made - 1));
    std::uniform_real_distribution<double> jitter(0.0, ceiling);
    ms = jitter(random);
  }
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(Millis(ms));
}

// The call as sent, for ClientOptions::on_dead_letter; before retire() drops its body.
// default_headers: the list a call without headers of its own was sent with.
inline DeadLetter make_dead_letter(const Transfer& call, const curl_slist* default_headers) {
  DeadLetter letter;
  letter.id = call.id();
  letter.method = call.method;
  letter.url = call.url;
  for (const curl_slist* l = call.headers ? call.headers.get() : default_headers; l; l = l->next) {
    // "Name: value", "Name;" (sent empty) or "Name:" (libcurl's own header left out,
    // such as the default "Expect:"; not the call's to replay).
    const std::string_view line = l->data;
    const std::size_t colon = line.find_first_of(":;");
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (line[colon] == ':' && value.empty()) continue;
    letter.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  letter.body = call.body;
  letter.attempts = call.attempts_made;
  letter.http_status = call.http_status;
  letter.error = call.outcome().error;
  letter.duration = std::chrono::steady_clock::now() - call.created;
  return letter;
}

// Calls the dead-letter hook; whatever it or the letter throws stays here.
inline void send_dead_letter(const ClientOptions& options, const Transfer& call,
                             const curl_slist* default_headers) noexcept {
  try {
    options.on_dead_letter(make_dead_letter(call, default_headers));
  } catch (...) {
  }
}

// Calls the log hook (ClientOptions::on_call_finished) with the call's record; a log hook
// (or its record, out of memory) must not take the loop down.
inline void send_call_record(const ClientOptions& options, const Transfer& call) noexcept {
  try {
    const Outcome& outcome = call.outcome();
    CallRecord record;
    record.id = call.id();
    record.method = call.method;
    std::string url = redact_credentials(call.url);
    record.url = url;
    record.http_status = call.http_status;
    record.attempts = call.attempts_made;
    record.duration = std::chrono::steady_clock::now() - call.created;
    record.retval = outcome.ok() ? &outcome.value : nullptr;
    record.error = outcome.error;
    options.on_call_finished(record);
  } catch (...) {
  }
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
