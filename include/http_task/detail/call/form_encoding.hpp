// SPDX-License-Identifier: MIT
// application/x-www-form-urlencoded, as HTML forms and Python's urlencode write it:
// letters, digits and "-._~" stay, space becomes '+', every other byte is %XX.
#pragma once

#include <http_task/detail/utf8.hpp>  // is_valid_utf8, for the arguments
#include <http_task/params.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {
namespace detail {

inline bool is_form_unreserved(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

inline void append_form_encoded(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (is_form_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
}

// "k=v&k2=v2" appended to out.
inline void append_form_encoded(std::string& out, const Params& params) {
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) out.push_back('&');
    first = false;
    append_form_encoded(out, name);
    out.push_back('=');
    append_form_encoded(out, value);
  }
}

inline std::string form_encode(const Params& params) {
  std::string out;
  append_form_encoded(out, params);
  return out;
}

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The inverse, lenient as browsers are: a '%' not followed by two hex digits stays.
inline std::string form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
