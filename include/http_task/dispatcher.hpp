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

// The HTTP answer a Dispatcher decodes. Valid only during decode().
struct Response {
  long status = 0;                 // HTTP status code
  std::string_view body;           // the body's bytes (decompressed)
  std::string_view id;             // the call's id
  std::size_t max_json_depth = 0;  // the Client's nesting limit, for your own parsing
  std::size_t max_error_body = 0;  // how much of a non-2xx body an HttpError keeps
};

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;

  // Runs on the calling thread before the call is queued: change the method, URL,
  // arguments, headers or timeouts. An exception thrown here ends the call with it.
  virtual void prepare(Request& request) const { (void)request; }

  // Runs on the thread running the loop with the answer: return the retval or throw (preferably
  // an http_task::Error). Keep it quick: other calls wait while it runs. The default
  // is the Celery webhook protocol.
  virtual Json decode(const Response& response) const {
    auto outcome = detail::decode_answer(response.status, response.body,
                                         {response.max_json_depth, response.max_error_body});
    if (!outcome.ok()) std::rethrow_exception(outcome.error);
    return outcome.value;
  }
};

}  // namespace http_task
