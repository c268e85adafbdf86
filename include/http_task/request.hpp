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

using Headers = std::vector<std::pair<std::string, std::string>>;

class RequestSigner;

// Per-call settings; what is left unset comes from the Client's options.
struct CallOptions {
  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<std::chrono::milliseconds> timeout;  // the whole call, redirects included
  std::optional<int> max_redirects;                  // 0: do not follow; any method
  Headers headers;                                   // sent as given, after validation
  std::optional<RetryPolicy> retry;                  // unset: the Client's policy
  // Whether repeating the call is harmless. POST and PATCH are retried only when
  // this is true; unset means what the method says (GET, PUT, DELETE... are).
  std::optional<bool> idempotent;
  std::shared_ptr<const RequestSigner> signer;  // unset: the Client's signer, if any
  // The Unix domain socket to connect to; unset: the Client's (ClientOptions::unix_socket);
  // "": TCP to the URL's host even when the Client has a socket.
  std::optional<std::string> unix_socket;

  CallOptions& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // "Authorization: Basic ...". Like every Authorization header, libcurl drops it
  // when a redirect leads to another host.
  CallOptions& basic_auth(std::string_view user, std::string_view password) {
    std::string credentials(user);
    credentials += ':';
    credentials += password;
    return header("Authorization", "Basic " + detail::base64_encode(credentials));
  }
  CallOptions& bearer_token(std::string_view token) {
    return header("Authorization", "Bearer " + std::string(token));
  }
  CallOptions& with_retry(RetryPolicy policy) {
    retry = std::move(policy);
    return *this;
  }
  CallOptions& with_idempotent(bool yes = true) {
    idempotent = yes;
    return *this;
  }
  CallOptions& with_timeout(std::chrono::milliseconds t) {
    timeout = t;
    return *this;
  }
  CallOptions& with_connect_timeout(std::chrono::milliseconds t) {
    connect_timeout = t;
    return *this;
  }
  CallOptions& with_max_redirects(int hops) {
    max_redirects = hops;
    return *this;
  }
  CallOptions& with_unix_socket(std::string path) {
    unix_socket = std::move(path);
    return *this;
  }
};

struct Request {
  std::string method = "GET";  // sent exactly as written; must be an HTTP token
  std::string url;             // http:// or https:// only
  Params params;               // query string, or form body for POST, PUT and PATCH
  CallOptions options;
  // When set, the body is exactly json->dump(), sent as "Content-Type: application/json"
  // (unless options.headers sets a Content-Type) with any method but HEAD; params then go
  // in the query string. Signers see these bytes.
  std::optional<Json> json = std::nullopt;
};

// Whether the method's arguments travel in a form body rather than the query string.
inline bool method_has_body(std::string_view method) noexcept {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace http_task
