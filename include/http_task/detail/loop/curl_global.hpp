// SPDX-License-Identifier: MIT
// libcurl's process-wide setup, done once before the first Client exists.
#pragma once

#include <http_task/error.hpp>

#include <curl/curl.h>

namespace http_task {
inline namespace v1 {
namespace detail {

// curl_global_init is thread-safe in Debian's build (and every libcurl >= 7.84), and a
// function-local static makes the call once. There is deliberately no cleanup: other
// code in the process may still use libcurl while static destructors run.
inline void ensure_curl_global_init() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) throw TransportError(rc, "curl_global_init failed");
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
