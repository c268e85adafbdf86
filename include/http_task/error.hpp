// SPDX-License-Identifier: MIT
// The error classes a call can end with. Every one derives from Error, which derives
// from std::runtime_error, so `catch (const http_task::Error&)` catches all of them.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

namespace http_task {
inline namespace v1 {

/// Base of every error a call ends with, and of what http_task throws for its own
/// reasons; `catch (const http_task::Error&)` catches them all. Misuse (waiting on the
/// thread that runs a loop, an empty AsyncResult) throws standard exceptions instead:
/// std::logic_error, std::future_error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The webhook answered {"status": "failure", "reason": ...}.
///
/// reason() is the remote reason ("" when the answer had none); what() is the reason
/// too, as in Celery ("remote task failed without a reason" when there was none).
class RemoteExecuteError : public Error {
 public:
  /// An error with this remote reason.
  explicit RemoteExecuteError(std::string reason)
      : Error(reason.empty() ? "remote task failed without a reason" : reason),
        reason_(std::move(reason)) {}
  /// The reason the webhook gave, as sent; "" when it gave none.
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

/// The answer was not a webhook answer: empty, not JSON, not an object, no "status",
/// "success" without "retval", too large or too deep (ClientOptions::max_response_bytes,
/// ClientOptions::max_json_depth, ClientOptions::max_header_bytes).
class InvalidResponseError : public Error {
 public:
  using Error::Error;
};

/// The answer had a "status" other than "success" or "failure" (matched exactly,
/// case-sensitive).
class UnknownStatusError : public InvalidResponseError {
 public:
  /// An error for this status, as sent.
  explicit UnknownStatusError(std::string status)
      : InvalidResponseError("unknown status in webhook answer: " + status),
        status_(std::move(status)) {}
  /// The status as sent: the string, or the JSON text of a status that was not a string.
  const std::string& status() const noexcept { return status_; }

 private:
  std::string status_;
};

/// The server answered with an HTTP status outside 2xx.
///
/// what() is "HTTP status <code>", followed by ": <reason>" when there is one.
class HttpError : public Error {
 public:
  /// An error for this status, body (already capped) and failure reason ("" if none).
  HttpError(long status_code, std::string body, std::string reason = {})
      : Error(message(status_code, reason)),
        status_code_(status_code),
        body_(std::move(body)),
        reason_(std::move(reason)) {}
  /// The HTTP status code.
  long status_code() const noexcept { return status_code_; }
  /// The start of the answer's body, at most ClientOptions::max_error_body bytes (not
  /// cut inside a UTF-8 sequence).
  const std::string& body() const noexcept { return body_; }
  /// When that body was a webhook failure answer, its reason; else "".
  const std::string& reason() const noexcept { return reason_; }

 private:
  static std::string message(long code, const std::string& reason) {
    std::string m = "HTTP status " + std::to_string(code);
    if (!reason.empty()) m += ": " + reason;
    return m;
  }
  long status_code_;
  std::string body_;
  std::string reason_;
};

/// libcurl could not complete the exchange: DNS, connect, TLS, reset, truncated body.
///
/// what() is libcurl's message for the code plus libcurl's detail.
class TransportError : public Error {
 public:
  /// An error for this libcurl code and message.
  TransportError(CURLcode code, const std::string& message) : Error(message), curl_code_(code) {}
  /// libcurl's code for the failure (CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT...).
  CURLcode curl_code() const noexcept { return curl_code_; }

 private:
  CURLcode curl_code_;
};

/// A time limit passed: the connect timeout, an attempt's or the whole call's, or a
/// celery::Gateway deadline. curl_code() is CURLE_OPERATION_TIMEDOUT.
class TimeoutError : public TransportError {
 public:
  using TransportError::TransportError;
};

/// The address guard (ClientOptions::address_guard) refused to connect to an address
/// the host name resolved to: loopback, private, link-local, metadata...
///
/// curl_code() is CURLE_COULDNT_CONNECT; what() names the address and why it is refused.
class BlockedAddressError : public TransportError {
 public:
  /// An error for this address (as text) and the reason it is refused.
  BlockedAddressError(std::string address, const std::string& why)
      : TransportError(CURLE_COULDNT_CONNECT,
                       "refused to connect to " + address + ": " + why + " (address guard)"),
        address_(std::move(address)) {}
  /// The refused address, as text ("127.0.0.1", "::1").
  const std::string& address() const noexcept { return address_; }

 private:
  std::string address_;
};

/// The origin's circuit breaker was open (ClientOptions::circuit_breaker): the call ended
/// at once and nothing was sent. origin() is the origin as the breaker keys it
/// ("http://host:port"); retry_at() is when the breaker lets a probe call through, in the
/// past when a probe is already under way (half-open). curl_code() is
/// CURLE_COULDNT_CONNECT: no connection was tried.
class CircuitOpenError : public TransportError {
 public:
  /// Names the origin and how long until the breaker lets a probe through.
  CircuitOpenError(std::string origin, std::chrono::steady_clock::time_point retry_at)
      : TransportError(CURLE_COULDNT_CONNECT, message(origin, retry_at)),
        origin_(std::move(origin)),
        retry_at_(retry_at) {}
  /// The origin whose breaker refused the call.
  const std::string& origin() const noexcept { return origin_; }
  /// When the breaker lets the next probe through (steady clock).
  std::chrono::steady_clock::time_point retry_at() const noexcept { return retry_at_; }

 private:
  static std::string message(const std::string& origin,
                             std::chrono::steady_clock::time_point retry_at) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    retry_at - std::chrono::steady_clock::now())
                    .count();
    std::string m = "circuit breaker open for " + origin + ": ";
    if (left <= 0) return m + "a probe call is under way";
    char when[48];
    std::snprintf(when, sizeof when, "next probe in %.3f s", static_cast<double>(left) / 1000.0);
    return m + when;
  }
  std::string origin_;
  std::chrono::steady_clock::time_point retry_at_;
};

/// The call was cancelled (AsyncResult::cancel()), or its Client was destroyed before
/// it finished.
class CancelledError : public Error {
 public:
  /// An error whose what() is "call cancelled".
  CancelledError() : Error("call cancelled") {}
  using Error::Error;
};

/// The call was refused before anything was sent: a URL that is not http(s), a method
/// that is not an HTTP token, a header with CR/LF, arguments that are not UTF-8,
/// a Client whose queue is full (ClientOptions::max_pending_calls), or a Client of the
/// parent process used after fork().
class RequestError : public Error {
 public:
  using Error::Error;
};

}  // namespace v1
}  // namespace http_task
