// SPDX-License-Identifier: MIT
// The general form of a call, as Celery's HttpDispatchTask took it: a method, a URL
// and arguments, plus per-call options. URL::get_async and post_async build one.
#pragma once

#include <http_task/detail/call/base64.hpp>
#include <http_task/json.hpp>
#include <http_task/params.hpp>
#include <http_task/retry_policy.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {

/// HTTP header fields as name/value pairs, in order; a name may repeat.
using Headers = std::vector<std::pair<std::string, std::string>>;

class RequestSigner;

/// Per-call settings; what is left unset comes from the Client's options
/// (ClientOptions).
///
/// The `with_...` setters and header() return `*this`, so that they chain:
///
///     url.post_async(args, CallOptions().with_timeout(5s).bearer_token(token));
///
/// Invalid settings (a header name that is not an HTTP token, a value with CR, LF or
/// NUL, a Unix socket path that does not fit) end the call with RequestError through
/// its result.
struct CallOptions {
  /// How long connecting may take; unset: ClientOptions::connect_timeout.
  std::optional<std::chrono::milliseconds> connect_timeout;
  /// How long the whole call may take, redirects and retries included; unset:
  /// ClientOptions::timeout. Past it the call ends in TimeoutError.
  std::optional<std::chrono::milliseconds> timeout;
  /// Redirects followed at most, whatever the method (0: do not follow); unset:
  /// ClientOptions::max_redirects for GET and HEAD, none for other methods.
  std::optional<int> max_redirects;
  /// Request headers, sent as given after validation. A name given here replaces the
  /// default header of that name ("Accept: application/json").
  Headers headers;
  /// When this call is retried; unset: ClientOptions::retry.
  std::optional<RetryPolicy> retry;
  /// Whether repeating the call is harmless. POST and PATCH are retried only when
  /// this is true; unset means what the method says (GET, PUT, DELETE... are).
  std::optional<bool> idempotent;
  /// Signs this call's attempts; null: ClientOptions::signer, if any.
  std::shared_ptr<const RequestSigner> signer;
  /// The Unix domain socket to connect to; unset: the Client's (ClientOptions::unix_socket);
  /// "": TCP to the URL's host even when the Client has a socket.
  std::optional<std::string> unix_socket;

  /// Adds a request header (name, value); see #headers.
  CallOptions& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  /// Adds "Authorization: Basic ..." for `user` and `password`. Like every
  /// Authorization header, libcurl drops it when a redirect leads to another host.
  CallOptions& basic_auth(std::string_view user, std::string_view password) {
    std::string credentials(user);
    credentials += ':';
    credentials += password;
    return header("Authorization", "Basic " + detail::base64_encode(credentials));
  }
  /// Adds "Authorization: Bearer <token>" (dropped on a redirect to another host, as
  /// basic_auth()).
  CallOptions& bearer_token(std::string_view token) {
    return header("Authorization", "Bearer " + std::string(token));
  }
  /// Sets #retry.
  CallOptions& with_retry(RetryPolicy policy) {
    retry = std::move(policy);
    return *this;
  }
  /// Sets #idempotent.
  CallOptions& with_idempotent(bool yes = true) {
    idempotent = yes;
    return *this;
  }
  /// Sets #timeout.
  CallOptions& with_timeout(std::chrono::milliseconds t) {
    timeout = t;
    return *this;
  }
  /// Sets #connect_timeout.
  CallOptions& with_connect_timeout(std::chrono::milliseconds t) {
    connect_timeout = t;
    return *this;
  }
  /// Sets #max_redirects.
  CallOptions& with_max_redirects(int hops) {
    max_redirects = hops;
    return *this;
  }
  /// Sets #unix_socket.
  CallOptions& with_unix_socket(std::string path) {
    unix_socket = std::move(path);
    return *this;
  }
};

/// The general form of a call (Celery's HttpDispatchTask): a method, a URL, arguments
/// and options, for Client::dispatch() and Dispatcher::prepare().
///
/// A request that breaks a rule below is refused with RequestError through the call's
/// result; nothing is sent.
struct Request {
  std::string method = "GET";  ///< Sent exactly as written; must be an HTTP token.
  std::string url;             ///< http:// or https:// only.
  Params params;               ///< Query string, or form body for POST, PUT and PATCH.
  CallOptions options;         ///< This call's settings.

  /// A JSON body; unset: none (arguments as #params says).
  ///
  /// When set, the body is exactly json->dump(), sent as "Content-Type: application/json"
  /// (unless options.headers sets a Content-Type) with any method but HEAD; params then go
  /// in the query string. Signers see these bytes.
  std::optional<Json> json = std::nullopt;
};

/// Whether the method's arguments travel in a form body rather than the query string:
/// true for POST, PUT and PATCH (compared exactly, case-sensitive).
inline bool method_has_body(std::string_view method) noexcept {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace v1
}  // namespace http_task
