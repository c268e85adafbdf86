// SPDX-License-Identifier: MIT
// Call arguments: ordered name/value pairs, sent as a query string (GET) or a form
// body (POST). Values are kept as the text that goes on the wire.
#pragma once

#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {

/// One argument value, kept as the text that goes on the wire; made implicitly from a
/// string, a number or a bool.
///
/// Strings go as they are; integers in decimal; floating point in the shortest text
/// that reads back to the same number (10.5 -> "10.5", 1e16 -> "1e+16"); bools as
/// "true"/"false", which Django, Rails, Flask and Express all parse.
class ParamValue {
 public:
  /// The text as it is.
  ParamValue(std::string text) : text_(std::move(text)) {}
  /// The text as it is.
  ParamValue(std::string_view text) : text_(text) {}
  /// The text as it is (a null-terminated string; not null).
  ParamValue(const char* text) : text_(text) {}

  /// An integer, in decimal. Plain `char` (and the other character types) is excluded:
  /// 'x' is more often a mistake than a number.
  template <class I,
            std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                 !std::is_same_v<I, char> && !std::is_same_v<I, wchar_t> &&
                                 !std::is_same_v<I, char16_t> && !std::is_same_v<I, char32_t>,
                             int> = 0>
  ParamValue(I number) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
    text_.assign(buf, end);
    (void)ec;  // 24 bytes hold every 64-bit integer
  }

  /// A floating-point number, in the shortest text that reads back to the same number.
  template <class F, std::enable_if_t<std::is_floating_point_v<F>, int> = 0>
  ParamValue(F number) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
    text_.assign(buf, ec == std::errc() ? end : buf);
  }

  /// A bool, as "true" or "false". A template so that pointers do not decay to bool.
  template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  ParamValue(B flag) : text_(flag ? "true" : "false") {}

  /// The text sent.
  const std::string& text() const& noexcept { return text_; }
  /// The text sent, moved out.
  std::string text() && noexcept { return std::move(text_); }

 private:
  std::string text_;
};

/// Call arguments: ordered name/value pairs, sent as a query string (GET) or a form
/// body (POST, PUT, PATCH); names and values must be UTF-8, or the call ends in
/// RequestError.
///
///     Params args{{"x", 10}, {"y", 2.5}, {"verbose", true}};
///     args.add("tag", "a").add("tag", "b");  // tag=a&tag=b
class Params {
 public:
  using value_type = std::pair<std::string, std::string>;          ///< A name and its text.
  using const_iterator = std::vector<value_type>::const_iterator;  ///< Over the pairs, in order.

  /// No arguments.
  Params() = default;
  /// The pairs in the order given: `{{"x", 10}, {"name", "ada"}}`.
  Params(std::initializer_list<std::pair<std::string, ParamValue>> pairs) {
    pairs_.reserve(pairs.size());
    for (const auto& p : pairs) pairs_.emplace_back(p.first, p.second.text());
  }

  /// Appends a pair; a name may repeat (a=1&a=2), as HTML forms allow.
  Params& add(std::string name, ParamValue value) {
    pairs_.emplace_back(std::move(name), std::move(value).text());
    return *this;
  }

  /// Replaces every pair of that name with one pair at the end (or appends it).
  Params& set(std::string name, ParamValue value) {
    erase(name);
    return add(std::move(name), std::move(value));
  }

  /// Removes every pair of that name; returns how many went.
  std::size_t erase(std::string_view name) {
    std::size_t before = pairs_.size();
    std::vector<value_type> kept;
    kept.reserve(before);
    for (auto& p : pairs_)
      if (p.first != name) kept.push_back(std::move(p));
    pairs_.swap(kept);
    return before - pairs_.size();
  }

  /// The value of the first pair of that name, or nullptr. The pointer is valid until
  /// the Params changes.
  const std::string* find(std::string_view name) const noexcept {
    for (const auto& p : pairs_)
      if (p.first == name) return &p.second;
    return nullptr;
  }

  /// Whether a pair has that name.
  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  /// Whether there are no pairs.
  bool empty() const noexcept { return pairs_.empty(); }
  /// How many pairs, repeats included.
  std::size_t size() const noexcept { return pairs_.size(); }
  /// The first pair.
  const_iterator begin() const noexcept { return pairs_.begin(); }
  /// Past the last pair.
  const_iterator end() const noexcept { return pairs_.end(); }

  /// Same pairs in the same order.
  friend bool operator==(const Params& a, const Params& b) { return a.pairs_ == b.pairs_; }
  /// Not operator==.
  friend bool operator!=(const Params& a, const Params& b) { return !(a == b); }

 private:
  std::vector<value_type> pairs_;
};

}  // namespace v1
}  // namespace http_task
