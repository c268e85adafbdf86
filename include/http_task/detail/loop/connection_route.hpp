// SPDX-License-Identifier: MIT
// Where a call's connection goes: straight to the URL's host, through a proxy, or to a
// Unix domain socket. Kept apart from the loop, which only calls these two functions.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>
#include <sys/un.h>

#include <string>

namespace http_task {
inline namespace v1 {
namespace detail {

// Thrown by Transfer::prepare, so the call's future gets it: a path libcurl would cut
// or refuse later with a vaguer error.
inline void check_unix_socket_path(const std::string& path) {
  if (path.find('\0') != std::string::npos)
    throw RequestError("the Unix socket path contains a NUL byte");
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    throw RequestError("the Unix socket path is longer than " +
                       std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes: '" + path +
                       "'");
}

// Once per handle. With no explicit proxy and the address guard on, the environment's
// proxy is switched off: it would be the only address the guard checks. An explicit
// proxy is the application's choice; the guard then checks the proxy's address.
inline void configure_proxy(CURL* e, const ClientOptions& options, bool guarded) {
  const ProxyOptions& proxy = options.proxy;
  if (!proxy.enabled()) {
    if (guarded) curl_easy_setopt(e, CURLOPT_PROXY, "");
    return;
  }
  curl_easy_setopt(e, CURLOPT_PROXY, proxy.url.c_str());
  if (!proxy.user.empty() || !proxy.password.empty()) {
    curl_easy_setopt(e, CURLOPT_PROXYUSERNAME, proxy.user.c_str());
    curl_easy_setopt(e, CURLOPT_PROXYPASSWORD, proxy.password.c_str());
  }
  // Set even when empty, so that no_proxy from the environment does not apply either.
  curl_easy_setopt(e, CURLOPT_NOPROXY, proxy.no_proxy.c_str());
}

// Per call: a reused handle must not keep the previous call's socket.
inline void configure_unix_socket(CURL* e, const std::string& path) {
  curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, path.empty() ? nullptr : path.c_str());
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
