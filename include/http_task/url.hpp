// SPDX-License-Identifier: MIT
// A webhook endpoint, as Celery's celery.task.http.URL: get_async() and post_async()
// send the arguments and return the future of the answer's retval.
//
//   http_task::URL multiply("http://localhost:8000/multiply");
//   int n = multiply.get_async<int>({{"x", 10}, {"y", 10}}).get();  // 100
#pragma once

#include <http_task/async_result.hpp>
#include <http_task/client.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/request.hpp>

#include <memory>
#include <string>
#include <utility>

namespace http_task {
inline namespace v1 {

/// A webhook endpoint, as Celery's `celery.task.http.URL`: its calls return the future
/// of the answer's retval.
///
/// A URL holds its address, the Client its calls go through (by reference: that Client
/// must outlive every use of the URL; the calls themselves may outlive both), an
/// optional Dispatcher and default CallOptions. Starting calls is const and thread-safe;
/// set_options() is not, so set options before sharing a URL between threads.
///
/// No call method throws for a bad call: a URL that is not http(s), an invalid method or
/// header, arguments that are not UTF-8 or a full queue end the call with RequestError
/// through its result. The result is read as `T` (default Json) by AsyncResult::get(),
/// which throws the call's error: RemoteExecuteError, HttpError, InvalidResponseError,
/// TransportError, TimeoutError, CancelledError or RequestError.
class URL {
 public:
  /// A URL whose calls go through default_client(), which is created at the first call.
  explicit URL(std::string url) : url_(std::move(url)) {}
  /// A URL whose calls go through `client` (which must outlive every use of it), prepared and
  /// decoded by `dispatcher` (null: the Celery webhook protocol).
  URL(std::string url, Client& client, std::shared_ptr<const Dispatcher> dispatcher = nullptr)
      : url_(std::move(url)), client_(&client), dispatcher_(std::move(dispatcher)) {}

  /// The URL as given.
  const std::string& str() const noexcept { return url_; }
  /// The Client its calls go through (default_client() unless one was given).
  Client& client() const { return client_ ? *client_ : default_client(); }

  /// Sets the options for every call through this URL (every field of CallOptions:
  /// timeouts, redirects, headers, retry policy, idempotence, signer, Unix socket); a
  /// call's own options override them field by field, and its headers replace headers of
  /// the same name. Not thread-safe: set them before starting calls from other threads.
  URL& set_options(CallOptions options) {
    options_ = std::move(options);
    return *this;
  }
  /// The options set by set_options().
  const CallOptions& options() const noexcept { return options_; }

  /// Calls the webhook with GET, the arguments in the query string.
  template <class T = Json>
  AsyncResult<T> get_async(Params params = {}, CallOptions options = {}) const {
    return dispatch<T>("GET", std::move(params), std::move(options));
  }

  /// Calls the webhook with POST, the arguments in a form body
  /// (application/x-www-form-urlencoded). POST is not retried unless options say it is
  /// idempotent.
  template <class T = Json>
  AsyncResult<T> post_async(Params params = {}, CallOptions options = {}) const {
    return dispatch<T>("POST", std::move(params), std::move(options));
  }

  /// Calls the webhook with POST and a JSON body.
  ///
  /// Sends body as "Content-Type: application/json" (the exact bytes of body.dump()); the
  /// answer is decoded as any other call's (the Celery webhook protocol, or the URL's
  /// Dispatcher). POST is not retried unless options say it is idempotent.
  template <class T = Json>
  AsyncResult<T> post_json(Json body, CallOptions options = {}) const {
    return dispatch_json<T>("POST", std::move(body), std::move(options));
  }

  /// Calls the webhook with a JSON body and any method but HEAD (PUT, PATCH, DELETE...);
  /// params go in the query string. HEAD ends in RequestError.
  template <class T = Json>
  AsyncResult<T> dispatch_json(std::string method, Json body, CallOptions options = {},
                               Params params = {}) const {
    Request request{std::move(method), url_, std::move(params), merged(std::move(options)),
                    std::move(body)};
    return client().dispatch<T>(std::move(request), dispatcher_);
  }

  /// Calls the webhook with any method, sent as written: arguments go in the query
  /// string, or in a form body for POST, PUT and PATCH (method_has_body()).
  template <class T = Json>
  AsyncResult<T> dispatch(std::string method, Params params = {}, CallOptions options = {}) const {
    if (dispatcher_) {
      Request request{std::move(method), url_, std::move(params), merged(std::move(options))};
      return client().dispatch<T>(std::move(request), dispatcher_);
    }
    return detail::ResultAccess::make<T>(
        client().start(url_, std::move(method), params, merged(std::move(options))));
  }

 private:
  // Every field of CallOptions, named by the structured bindings: a field added to
  // CallOptions stops this from compiling until it is merged here too, so none can be
  // dropped silently (retry, idempotent and signer once were).
  CallOptions merged(CallOptions call) const {
    auto& [connect_timeout, timeout, max_redirects, headers, retry, idempotent, signer,
           unix_socket] = call;
    const auto& [url_connect_timeout, url_timeout, url_max_redirects, url_headers, url_retry,
                 url_idempotent, url_signer, url_unix_socket] = options_;
    if (!connect_timeout) connect_timeout = url_connect_timeout;
    if (!timeout) timeout = url_timeout;
    if (!max_redirects) max_redirects = url_max_redirects;
    if (!retry) retry = url_retry;
    if (!idempotent) idempotent = url_idempotent;
    if (!signer) signer = url_signer;
    if (!unix_socket) unix_socket = url_unix_socket;
    if (!url_headers.empty()) {
      Headers all;
      for (const auto& h : url_headers) {
        bool replaced = false;
        for (const auto& c : headers) replaced = replaced || detail::iequals(c.first, h.first);
        if (!replaced) all.push_back(h);
      }
      all.insert(all.end(), headers.begin(), headers.end());
      headers = std::move(all);
    }
    return call;
  }

  std::string url_;
  Client* client_ = nullptr;
  std::shared_ptr<const Dispatcher> dispatcher_;
  CallOptions options_;
};

}  // namespace v1
}  // namespace http_task
