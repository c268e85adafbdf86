// SPDX-License-Identifier: MIT
// Where in a Json a conversion failed, as a path ("[2].name"), and the error that
// carries it; with the log-safe quoting that paths and error messages use.
#pragma once

#include <http_task/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

// One step from the root to the value being converted. Steps live on the caller's stack,
// so a successful conversion never builds a path string.
struct JsonPath {
  const JsonPath* parent;
  std::string_view key;  // meaningful when is_key
  std::size_t index;     // meaningful when !is_key
  bool is_key;
};

// A conversion error that knows where it happened, so that errors raised inside a user's
// JsonConverter can be re-anchored at the position of the value it was converting.
class JsonPathError : public Error {
 public:
  JsonPathError(std::string path, std::string detail)
      : Error(path.empty() ? detail : path + ": " + detail),
        path_(std::move(path)),
        detail_(std::move(detail)) {}
  const std::string& path() const noexcept { return path_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::string path_;
  std::string detail_;
};

inline bool is_identifier(std::string_view key) noexcept {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Plain ASCII for the log: printable bytes as they are, everything else as \xNN.
inline void append_escaped(std::string& out, std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
}

// A short, quoted, log-safe rendering of possibly hostile bytes.
inline std::string quoted_preview(std::string_view bytes, std::size_t max_bytes = 32) {
  std::string out = "\"";
  append_escaped(out, bytes.substr(0, max_bytes));
  out += bytes.size() > max_bytes ? "\"..." : "\"";
  return out;
}

inline void append_path_step(std::string& out, const JsonPath& step) {
  if (!step.is_key) {
    out += '[';
    out += std::to_string(step.index);
    out += ']';
  } else if (is_identifier(step.key)) {
    if (!out.empty()) out += '.';
    out.append(step.key.data(), step.key.size());
  } else {
    out += '[';
    out += quoted_preview(step.key, 64);
    out += ']';
  }
}

inline std::string path_string(const JsonPath* path) {
  std::vector<const JsonPath*> steps;
  for (; path != nullptr; path = path->parent) steps.push_back(path);
  std::string out;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) append_path_step(out, **it);
  return out;
}

// "[2]" + "name" -> "[2].name"; "[2]" + "[0]" -> "[2][0]".
inline std::string join_paths(const std::string& outer, const std::string& inner) {
  if (outer.empty()) return inner;
  if (inner.empty()) return outer;
  return inner.front() == '[' ? outer + inner : outer + "." + inner;
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
