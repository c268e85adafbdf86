// SPDX-License-Identifier: MIT
// Decides, for each address libcurl is about to connect to, whether the address
// guard lets it through. Works on resolved binary addresses only: every textual
// trick (octal, hex, decimal IPv4, IPv4-mapped IPv6) has been undone by then.
#pragma once

#include <http_task/address_guard.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

// An address as 16 bytes: IPv4 a.b.c.d is stored as ::ffff:a.b.c.d, so one table of
// ranges serves both families.
using Address16 = std::array<unsigned char, 16>;

struct AddressRange {
  Address16 base{};
  int prefix = 0;  // bits, over the 16-byte form

  bool contains(const Address16& a) const noexcept {
    int full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(a.data(), base.data(), static_cast<std::size_t>(full)) != 0) return false;
    if (rest == 0) return true;
    auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
    return (a[full] & mask) == (base[full] & mask);
  }
};

inline Address16 mapped_v4(const unsigned char* v4) {
  Address16 a{};
  a[10] = a[11] = 0xFF;
  std::memcpy(a.data() + 12, v4, 4);
  return a;
}

// "10.0.0.0/8", "fd00::/8", or a bare address (one host). Throws on bad text.
inline AddressRange parse_range(std::string_view text) {
  std::string s(text);
  int prefix = -1;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    std::string bits = s.substr(slash + 1);
    s.resize(slash);
    if (bits.empty() || bits.size() > 3 ||
        bits.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("bad address range: " + std::string(text));
    prefix = std::stoi(bits);
  }
  AddressRange r;
  unsigned char v4[4];
  if (::inet_pton(AF_INET, s.c_str(), v4) == 1) {
    if (prefix > 32) throw std::invalid_argument("bad address range: " + std::string(text));
    r.base = mapped_v4(v4);
    r.prefix = 96 + (prefix < 0 ? 32 : prefix);
  } else if (::inet_pton(AF_INET6, s.c_str(), r.base.data()) == 1) {
    if (prefix > 128) throw std::invalid_argument("bad address range: " + std::string(text));
    r.prefix = prefix < 0 ? 128 : prefix;
  } else {
    throw std::invalid_argument("bad address range: " + std::string(text));
  }
  return r;
}

struct BlockedRange {
  const char* range;
  const char* why;
};

// Order matters only for the message: the first match names the reason.
inline constexpr BlockedRange kBlockedRanges[] = {
    {"169.254.169.254/32", "cloud metadata address"},
    {"fd00:ec2::254/128", "cloud metadata address"},
    {"0.0.0.0/8", "'this network' address"},
    {"10.0.0.0/8", "private address"},
    {"100.64.0.0/10", "carrier-grade NAT address"},
    {"127.0.0.0/8", "loopback address"},
    {"169.254.0.0/16", "link-local address"},
    {"172.16.0.0/12", "private address"},
    {"192.0.0.0/24", "reserved address"},
    {"192.0.2.0/24", "documentation address"},
    {"192.88.99.0/24", "reserved address"},
    {"192.168.0.0/16", "private address"},
    {"198.18.0.0/15", "benchmarking address"},
    {"198.51.100.0/24", "documentation address"},
    {"203.0.113.0/24", "documentation address"},
    {"224.0.0.0/4", "multicast address"},
    {"240.0.0.0/4", "reserved or broadcast address"},
    {"::/128", "unspecified address"},
    {"::1/128", "loopback address"},
    {"64:ff9b:1::/48", "local NAT64 address"},
    {"100::/64", "discard address"},
    {"2001::/32", "Teredo tunnel address"},
    {"2001:db8::/32", "documentation address"},
    {"fc00::/7", "unique local (private) address"},
    {"fe80::/10", "link-local address"},
    {"fec0::/10", "site-local address"},
    {"ff00::/8", "multicast address"},
};

// IPv6 forms that carry an IPv4 address: that address is judged too.
inline std::optional<Address16> embedded_v4(const Address16& a) {
  static const AddressRange compat = parse_range("::/96");
  static const AddressRange nat64 = parse_range("64:ff9b::/96");
  static const AddressRange six_to_four = parse_range("2002::/16");
  if (compat.contains(a) || nat64.contains(a)) return mapped_v4(a.data() + 12);
  if (six_to_four.contains(a)) return mapped_v4(a.data() + 2);
  return std::nullopt;
}

class AddressFilter {
 public:
  explicit AddressFilter(const AddressGuard& guard) : enabled_(guard.enabled) {
    for (const auto& r : kBlockedRanges) blocked_.push_back({parse_range(r.range), r.why});
    for (const auto& text : guard.allow) allowed_.push_back(parse_range(text));
  }

  bool enabled() const noexcept { return enabled_; }

  // Why the address is refused, or nullptr when it may be used.
  const char* refusal(const Address16& a) const noexcept {
    for (const auto& r : allowed_)
      if (r.contains(a)) return nullptr;
    for (const auto& b : blocked_)
      if (b.range.contains(a)) return b.why;
    if (auto v4 = embedded_v4(a)) {
      for (const auto& b : blocked_)
        if (b.range.contains(*v4)) return b.why;
    }
    return nullptr;
  }

  // For libcurl's sockaddr: nullopt when allowed, else {address text, reason}.
  std::optional<std::pair<std::string, std::string>> check(const sockaddr* sa) const {
    Address16 a{};
    char text[INET6_ADDRSTRLEN] = {};
    if (sa->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
      a = mapped_v4(reinterpret_cast<const unsigned char*>(&in->sin_addr));
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    } else if (sa->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
      std::memcpy(a.data(), &in6->sin6_addr, 16);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    } else if (sa->sa_family == AF_UNIX) {
      // Only ClientOptions::unix_socket or CallOptions::unix_socket lead here: a path
      // the program chose, not one a URL can name.
      return std::nullopt;
    } else {
      return std::make_pair(std::string("address of family ") + std::to_string(sa->sa_family),
                            std::string("not an IP address"));
    }
    if (const char* why = refusal(a)) return std::make_pair(std::string(text), std::string(why));
    return std::nullopt;
  }

 private:
  struct Blocked {
    AddressRange range;
    const char* why;
  };
  bool enabled_;
  std::vector<Blocked> blocked_;
  std::vector<AddressRange> allowed_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
