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

// One argument value. Strings go as they are; integers in decimal; floating point in
// the shortest text that reads back to the same number (10.5 -> "10.5", 1e16 ->
// "1e+16"); bools as "true"/"false", which Django, Rails, Flask and Express all parse.
class ParamValue {
 public:
  ParamValue(std::string text) : text_(std::move(text)) {}
  ParamValue(std::string_view text) : text_(text) {}
  ParamValue(const char* text) : text_(text) {}

  // Plain `char` is excluded: 'x' is more often a mistake than a number.
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

  template <class F, std::enable_if_t<std::is_floating_point_v<F>, int> = 0>
  ParamValue(F number) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
    text_.assign(buf, ec == std::errc() ? end : buf);
  }

  // A template so that pointers do not decay to bool.
  template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  ParamValue(B flag) : text_(flag ? "true" : "false") {}

  const std::string& text() const& noexcept { return text_; }
  std::string text() && noexcept { return std::move(text_); }

 private:
  std::string text_;
};

class Params {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;

  Params() = default;
  Params(std::initializer_list<std::pair<std::string, ParamValue>> pairs) {
    pairs_.reserve(pairs.size());
    for (const auto& p : pairs) pairs_.emplace_back(p.first, p.second.text());
  }

  // Appends a pair; a name may repeat (a=1&a=2), as HTML forms allow.
  Params& add(std::string name, ParamValue value) {
    pairs_.emplace_back(std::move(name), std::move(value).text());
    return *this;
  }

  // Replaces every pair of that name with one pair (or appends it).
  Params& set(std::string name, ParamValue value) {
    erase(name);
    return add(std::move(name), std::move(value));
  }

  // Removes every pair of that name; returns how many went.
  std::size_t erase(std::string_view name) {
    std::size_t before = pairs_.size();
    std::vector<value_type> kept;
    kept.reserve(before);
    for (auto& p : pairs_)
      if (p.first != name) kept.push_back(std::move(p));
    pairs_.swap(kept);
    return before - pairs_.size();
  }

  // The value of the first pair of that name, or nullptr.
  const std::string* find(std::string_view name) const noexcept {
    for (const auto& p : pairs_)
      if (p.first == name) return &p.second;
    return nullptr;
  }

  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  bool empty() const noexcept { return pairs_.empty(); }
  std::size_t size() const noexcept { return pairs_.size(); }
  const_iterator begin() const noexcept { return pairs_.begin(); }
  const_iterator end() const noexcept { return pairs_.end(); }

  friend bool operator==(const Params& a, const Params& b) { return a.pairs_ == b.pairs_; }
  friend bool operator!=(const Params& a, const Params& b) { return !(a == b); }

 private:
  std::vector<value_type> pairs_;
};

}  // namespace http_task
