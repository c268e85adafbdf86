// Adds headers that depend on each attempt's exact bytes and time: request signing.
// Runs on the thread running the loop before every attempt, so each retry is signed anew.
// http_task/standard_webhooks.hpp has the Standard Webhooks signer.
#pragma once

#include <http_task/request.hpp>

#include <chrono>
#include <string_view>

namespace http_task {

struct SigningInput {
  std::string_view id;      // the call's id (stable across retries)
  std::string_view method;  // as sent
  std::string_view url;     // as sent, query included
  std::string_view body;    // the exact bytes sent (empty for GET)
  std::chrono::system_clock::time_point now;
  int attempt = 1;
};

class RequestSigner {
 public:
  virtual ~RequestSigner() = default;
  // The headers to add to this attempt. Keep it quick: the loop waits for it.
  virtual Headers sign(const SigningInput& input) const = 0;
};

}  // namespace http_task
