// SPDX-License-Identifier: MIT
// The key per-origin policies (circuit breaker, statistics) file a call under: the URL's
// scheme and authority as origin_router.hpp takes them (url_authority), lowercased and
// without "user:password@" (the key is shown in errors and statistics), plus the Unix
// socket a call goes through (connection_route.hpp), which is the server then.
#pragma once

#include <http_task/detail/call/url_query.hpp>

#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {
namespace detail {

// Into `out`, whose capacity is reused: no allocation once it is large enough.
inline void origin_key(std::string_view url, std::string_view unix_socket, std::string& out) {
  out.clear();
  auto [start, end] = url_authority(url);
  if (start == 0) {  // not an absolute URL (an origin given as "host:port")
    end = url.find_first_of("/?#");
    end = end == std::string_view::npos ? url.size() : end;
  }
  std::string_view authority = url.substr(start, end - start);
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (start > 0) out.append(url.data(), start);  // "scheme://"
  out.append(authority);
  for (char& c : out) c = ascii_lower(c);
  if (!unix_socket.empty()) {
    out += " (unix:";
    out.append(unix_socket);
    out += ')';
  }
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
