// SPDX-License-Identifier: MIT
// An explicit proxy for a Client's calls: HTTP (CONNECT for https://) or SOCKS5.
#pragma once

#include <string>

namespace http_task {
inline namespace v1 {

/// The proxy a Client's calls go through (ClientOptions::proxy); docs/proxies-and-sockets.md.
struct ProxyOptions {
  /// The proxy: "http://host:port", "socks5://host:port" (names resolved here) or
  /// "socks5h://host:port" (names resolved by the proxy).
  ///
  /// Empty: no explicit proxy. Then libcurl reads the usual environment variables
  /// (http_proxy, https_proxy, no_proxy...) unless the address guard is on: a proxy it did
  /// not choose would be the only address the guard checks.
  std::string url;
  /// User name for the proxy (Proxy-Authorization: Basic, or SOCKS5 username/password).
  /// Sent only to the proxy, never to the webhook.
  std::string user;
  /// Password for the proxy, with #user.
  std::string password;
  /// Hosts called directly, not through the proxy: libcurl's no-proxy list, such as
  /// "localhost,127.0.0.1,.internal.example". "*" bypasses the proxy for every host.
  std::string no_proxy;

  /// Whether a proxy is set (#url is not empty).
  bool enabled() const noexcept { return !url.empty(); }
};

}  // namespace v1
}  // namespace http_task
