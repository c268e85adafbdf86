// SPDX-License-Identifier: MIT
// The SSRF guard: a webhook URL typed by a user must not reach the machine's own
// services or the cloud's metadata endpoint. Checked on each address a host name
// resolves to, at connect time, so DNS tricks (rebinding, names that resolve to
// 127.0.0.1, octal and hex IPv4 forms) do not get past it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {

/// The SSRF guard of a Client (ClientOptions::address_guard): which addresses its calls
/// may not connect to.
///
/// Each address a host name resolves to is checked when a connection to it is opened,
/// so DNS tricks do not get past it; a call that found no address it may use ends with
/// BlockedAddressError. Unix domain sockets
/// (ClientOptions::unix_socket) are not checked. With a proxy, the guard checks the
/// proxy's address (ClientOptions::proxy).
struct AddressGuard {
  /// Whether the guard is on. Off by default: most webhook clients call their own services.
  bool enabled = false;
  /// Ranges let through even though they are in a blocked class, as CIDR strings:
  /// "10.1.2.0/24", "127.0.0.1/32", "fd00::/8". Invalid text makes the Client
  /// constructor throw std::invalid_argument.
  std::vector<std::string> allow;

  /// A guard that is on, letting through the `allowed` ranges (as #allow).
  ///
  /// Blocked when enabled: loopback, "this network" (0.0.0.0/8, ::), private
  /// (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the
  /// metadata address 169.254.169.254, fe80::/10), carrier-grade NAT (100.64/10),
  /// multicast and broadcast, reserved (240/4), benchmarking (198.18/15),
  /// documentation ranges, and IPv6 forms that embed such an IPv4 address
  /// (\::ffff:a.b.c.d, \::a.b.c.d, 64:ff9b::/96, 2002::/16).
  static AddressGuard on(std::vector<std::string> allowed = {}) {
    AddressGuard g;
    g.enabled = true;
    g.allow = std::move(allowed);
    return g;
  }
};

}  // namespace v1
}  // namespace http_task
