// SPDX-License-Identifier: MIT
// Building the URL a call goes to. Celery merged GET arguments into the URL's own
// query: the call's values win on the same name, other pairs stay, an empty path
// becomes "/", and the #fragment is kept (a '?' after '#' belongs to the fragment).
#pragma once

#include <http_task/detail/call/form_encoding.hpp>
#include <http_task/params.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {
namespace detail {

inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// "http" for "HTTP://x/": the scheme before "://", or "" when there is none.
inline std::string_view url_scheme(std::string_view url) noexcept {
  auto colon = url.find("://");
  if (colon == std::string_view::npos) return {};
  auto scheme = url.substr(0, colon);
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '-' || c == '.'))
      return {};
  return scheme;
}

inline bool is_http_scheme(std::string_view url) noexcept {
  auto scheme = url_scheme(url);
  return iequals(scheme, "http") || iequals(scheme, "https");
}

// Where the authority ("user:pw@host:port") of an absolute URL starts and ends.
inline std::pair<std::size_t, std::size_t> url_authority(std::string_view url) noexcept {
  auto start = url.find("://");
  if (start == std::string_view::npos) return {0, 0};
  start += 3;
  // Not find_first_of("/?#"): libstdc++ makes that a memchr per character.
  std::size_t end = start;
  while (end < url.size() && url[end] != '/' && url[end] != '?' && url[end] != '#') ++end;
  return {start, end};
}

// The URL with params merged into its query (see the note at the top of the file).
inline std::string merge_query(std::string_view url, const Params& params) {
  std::string_view fragment;
  if (auto hash = url.find('#'); hash != std::string_view::npos) {
    fragment = url.substr(hash);
    url = url.substr(0, hash);
  }
  std::string_view query;
  bool had_query = false;
  if (auto q = url.find('?'); q != std::string_view::npos) {
    query = url.substr(q + 1);
    url = url.substr(0, q);
    had_query = true;
  }

  std::string out;
  out.reserve(url.size() + query.size() + fragment.size() + 16 + params.size() * 16);
  out.append(url);
  // Query and fragment are cut off: the path is empty when no '/' follows "://".
  if (auto scheme_end = url.find("://"); scheme_end != std::string_view::npos &&
                                         url.find('/', scheme_end + 3) == std::string_view::npos)
    out.push_back('/');

  bool first = true;
  auto separator = [&] {
    out.push_back(first ? '?' : '&');
    first = false;
  };
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    if (!params.empty() && params.contains(form_decode(pair.substr(0, pair.find('='))))) continue;
    separator();
    out.append(pair);
  }
  for (const auto& [name, value] : params) {
    separator();
    append_form_encoded(out, name);
    out.push_back('=');
    append_form_encoded(out, value);
  }
  // "http://x/?" stays as it was written when there is nothing to merge.
  if (first && had_query && params.empty()) out.push_back('?');
  out.append(fragment);
  return out;
}

// The URL without "user:password@", for logs.
inline std::string redact_credentials(std::string_view url) {
  auto [start, end] = url_authority(url);
  auto at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, start));
  out.append(url.substr(start + at + 1));
  return out;
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
