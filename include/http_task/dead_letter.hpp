// SPDX-License-Identifier: MIT
// What ClientOptions::on_dead_letter is told about a call its retry policy gave up on.
#pragma once

#include <http_task/json.hpp>
#include <http_task/request.hpp>
#include <http_task/webhook.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {

/// A call that failed with an error its retry policy retries, after its last attempt
/// (attempts used up, or no time left before its deadline for another one): all it
/// takes to send it again later. Handed to ClientOptions::on_dead_letter once per such
/// call; the hook may keep a copy.
struct DeadLetter {
  std::string id;      ///< the call's UUID (also its Idempotency-Key / webhook-id)
  std::string method;  ///< as sent
  std::string url;     ///< as sent, query string included, credentials included
  /// The call's own headers, as sent before signing: a signer signs a replay anew.
  Headers headers;
  std::string body;                      ///< as sent (form-encoded or JSON)
  int attempts = 0;                      ///< attempts made
  long http_status = 0;                  ///< of the last attempt; 0 when no HTTP answer came
  std::exception_ptr error;              ///< the last attempt's error, the call's result
  std::chrono::nanoseconds duration{0};  ///< from the call's start to its end

  /// The same call, to send again (Client::dispatch): a JSON body (Content-Type
  /// application/json) goes back as Request::json, a form body as its parameters, and the
  /// headers as they were, Idempotency-Key included, so the receiver can tell a replay
  /// from a new delivery. Throws JsonError when a JSON body no longer parses.
  Request to_request() const {
    Request request;
    request.method = method;
    request.url = url;
    request.options.headers = headers;
    bool json = false;
    for (const auto& [name, value] : headers)
      json = json || (equal_ignoring_case(name, "Content-Type") &&
                      value.compare(0, 16, "application/json") == 0);
    if (json)
      request.json = Json::parse(body);
    else if (!body.empty())
      request.params = webhook::parse_form(body);
    return request;
  }

 private:
  static bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  }
};

}  // namespace v1
}  // namespace http_task
