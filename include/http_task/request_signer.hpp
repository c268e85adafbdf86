// SPDX-License-Identifier: MIT
// Adds headers that depend on each attempt's exact bytes and time: request signing.
// Runs on the thread running the loop before every attempt, so each retry is signed anew.
// http_task/standard_webhooks.hpp has the Standard Webhooks signer.
#pragma once

#include <http_task/request.hpp>

#include <chrono>
#include <string_view>

namespace http_task {
inline namespace v1 {

/// What a RequestSigner signs: one attempt of a call. The views are valid during
/// RequestSigner::sign() only.
struct SigningInput {
  std::string_view id;                        ///< The call's id (stable across retries).
  std::string_view method;                    ///< As sent.
  std::string_view url;                       ///< As sent, query included.
  std::string_view body;                      ///< The exact bytes sent (empty for GET).
  std::chrono::system_clock::time_point now;  ///< When this attempt is signed.
  int attempt = 1;                            ///< 1 for the first attempt, 2 for the first retry...
};

/// Adds headers computed from each attempt's exact bytes and time: request signing.
///
/// Give one to ClientOptions::signer (every call) or CallOptions::signer (one call). It
/// is held as `shared_ptr<const RequestSigner>`; shared by several Clients, it may be
/// called on several threads at once, so sign() must be thread-safe.
/// StandardWebhooksSigner (standard_webhooks.hpp) implements the Standard Webhooks scheme.
class RequestSigner {
 public:
  virtual ~RequestSigner() = default;
  /// The headers to add to this attempt.
  ///
  /// Runs on the thread running the loop, before every attempt, so that each retry is
  /// signed anew. Keep it quick: the loop waits for it. An exception thrown here ends
  /// the call with it; a header name or value that is not valid ends it with
  /// RequestError. Waiting for a result here throws std::logic_error.
  virtual Headers sign(const SigningInput& input) const = 0;
};

}  // namespace v1
}  // namespace http_task
