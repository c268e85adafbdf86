// SPDX-License-Identifier: MIT
// How a call is prepared and how its answer is read. Celery invited users to subclass
// HttpDispatch to add headers, auth or their own reading of the answer; in C++ you
// derive from Dispatcher, override what you need and give it to a URL or dispatch().
// The loop itself is never touched.
//
//   struct TokenAuth : http_task::Dispatcher {
//     void prepare(http_task::Request& r) const override {
//       r.options.header("Authorization", "Bearer " + token());
//     }
//   };
//   http_task::URL url("https://hooks.example/multiply", client,
//                      std::make_shared<TokenAuth>());
#pragma once

#include <http_task/detail/decode/answer_decoder.hpp>
#include <http_task/json.hpp>
#include <http_task/request.hpp>

#include <cstddef>
#include <exception>
#include <string_view>

namespace http_task {
inline namespace v1 {

/// The HTTP answer a Dispatcher decodes. Valid only during Dispatcher::decode().
struct Response {
  long status = 0;                 ///< HTTP status code.
  std::string_view body;           ///< The body's bytes (decompressed).
  std::string_view id;             ///< The call's id.
  std::size_t max_json_depth = 0;  ///< The Client's nesting limit, for your own parsing.
  std::size_t max_error_body = 0;  ///< How much of a non-2xx body an HttpError keeps.
};

/// How a call is prepared and how its answer is read: derive from it and override what
/// you need, then give it to a URL or to Client::dispatch().
///
/// Held as `shared_ptr<const Dispatcher>` and called for every call that uses it, from
/// several threads at once: an override must be thread-safe.
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;

  /// Changes the request before it is checked and queued: the method, URL, arguments,
  /// headers or timeouts. The default changes nothing.
  ///
  /// Runs on the thread that starts the call. An exception thrown here ends the call
  /// with it, through its result.
  virtual void prepare(Request& request) const { (void)request; }

  /// Turns the answer into the retval, or throws (preferably an http_task::Error), which
  /// ends the call with that error.
  ///
  /// Runs on the thread running the loop; keep it quick: other calls wait while it
  /// runs, and waiting for a result here throws std::logic_error. The default is the
  /// Celery webhook protocol: the retval of a 2xx {"status": "success"} answer;
  /// RemoteExecuteError for "failure", UnknownStatusError for another status,
  /// InvalidResponseError for an answer that is not a webhook answer, HttpError for a
  /// status outside 2xx.
  virtual Json decode(const Response& response) const {
    auto outcome = detail::decode_answer(response.status, response.body,
                                         {response.max_json_depth, response.max_error_body});
    if (!outcome.ok()) std::rethrow_exception(outcome.error);
    return outcome.value;
  }
};

}  // namespace v1
}  // namespace http_task
