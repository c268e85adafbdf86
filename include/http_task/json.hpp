// SPDX-License-Identifier: MIT
/// @file
/// http_task::Json: the value a webhook returned (its "retval"), owned and immutable, and
/// the converter contract (JsonConverter) that maps it to and from your own types.
//
// A Json is a shared pointer to a RapidJSON value that lives inside the parsed document:
// copying one is an atomic increment, a sub-value keeps the whole document alive, and any
// number of threads may read the same Json at once (nothing in it ever changes).
//
// Converting to your own types: specialize JsonConverter with a static from_json().
//
//   struct Point { int x; int y; };
//   template <>
//   struct http_task::JsonConverter<Point> {
//     static Point from_json(const http_task::Json& j) {
//       return Point{j.get<int>("x"), j.get<int>("y")};
//     }
//   };
//   auto points = result.as<std::vector<Point>>();  // errors name the path: "[3].y: ..."
#pragma once

#include <http_task/detail/decode/json_path.hpp>
#include <http_task/detail/decode/json_traits.hpp>
#include <http_task/detail/decode/json_value.hpp>
#include <http_task/error.hpp>

#include <rapidjson/document.h>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace http_task {
inline namespace v1 {

namespace detail {
struct JsonAccess;
class JsonItems;
class JsonElements;
template <class T>
T from_value(const rapidjson::Value& v, const Json& owner, const JsonPath* path);
}  // namespace detail

/// Customization point for Json::as<T>(), Json::get<T>() and Json::from(): specialize it
/// for your type with `static T from_json(const Json&)` (reading) and/or
/// `static Json to_json(const T&)` (building). The Enable parameter allows partial
/// specializations constrained with std::enable_if_t. Built-in conversions (bool, numbers,
/// std::string, std::vector, std::map<std::string, T>, std::optional, Json) take
/// precedence. An error thrown by from_json is re-anchored at the path of the value it
/// was converting.
template <class T, class Enable>
struct JsonConverter;

/// An owned, immutable JSON value: a shared pointer into the document it was parsed or
/// built in. Copies are cheap (an atomic increment), a sub-value keeps its whole document
/// alive, and any number of threads may read one Json at once.
class Json {
 public:
  /// null, without allocating.
  Json() noexcept : value_(detail::null_alias()) {}

  /// Wraps a RapidJSON value whose lifetime the shared_ptr's owner guarantees (use the
  /// aliasing constructor to point into a document you own). A null pointer gives null.
  explicit Json(std::shared_ptr<const rapidjson::Value> value) noexcept
      : value_(value ? std::move(value) : detail::null_alias()) {}

  /// Shares the value: no copy of the document.
  Json(const Json&) = default;
  /// Shares other's value: no copy of the document.
  Json& operator=(const Json&) = default;
  /// Takes other's value; a moved-from Json is null, never a dangling or empty pointer.
  Json(Json&& other) noexcept : value_(std::move(other.value_)) {
    other.value_ = detail::null_alias();
  }
  /// Takes other's value; other is left null.
  Json& operator=(Json&& other) noexcept {
    if (this != &other) {
      value_ = std::move(other.value_);
      other.value_ = detail::null_alias();
    }
    return *this;
  }
  /// Releases this reference to the document; the last one frees it.
  ~Json() = default;

  /// Any value Json::from takes converts implicitly, so that arrays and objects read like
  /// JSON: Json::object({{"x", 10}, {"tags", std::vector<std::string>{"a"}}}).
  template <class T, std::enable_if_t<!std::is_same_v<T, Json> && detail::IsJsonBuildable<T>::value,
                                      int> = 0>
  Json(const T& value)  // NOLINT(google-explicit-constructor): the point of it
      : Json(from(value)) {}

  /// Builds a value (a request body, task arguments), an owned document of its own.
  /// Takes bool, integers, floating point (NaN and infinities throw http_task::Error: JSON
  /// has no such numbers), strings (must be valid UTF-8, else http_task::Error), nullptr,
  /// std::vector, std::map<std::string, U>, std::optional (nullopt -> null), Json, and
  /// types with a JsonConverter<T> that has `static Json to_json(const T&)`. Errors name
  /// the path of the bad value, e.g. `[2].ratio: NaN is not a JSON number`.
  template <class T>
  static Json from(const T& value);
  /// A JSON array of the elements, in order: Json::array({1, "two", nullptr}).
  static Json array(std::initializer_list<Json> elements = {});
  /// A JSON object of the members, in order. A repeated key keeps its first place and its
  /// last value (a Python dict's rule).
  static Json object(std::initializer_list<std::pair<std::string, Json>> members = {});

  /// An object's members, in order: `for (const auto& [key, value] : j.items())`; key is a
  /// std::string_view into the document, which `value` keeps alive. Throws
  /// http_task::Error when this is not an object.
  detail::JsonItems items() const;
  /// An array's elements, in order: `for (const Json& e : j.elements())`. Throws
  /// http_task::Error when this is not an array.
  detail::JsonElements elements() const;

  /// Parses text (UTF-8, explicit length, at most max_depth nested arrays/objects).
  /// Throws InvalidResponseError with the parser's message and offset.
  static Json parse(std::string_view text, std::size_t max_depth = 128);

  /// The value as T: bool; any integer type (exact and range-checked; a double is accepted
  /// when it is a whole number in range); float, double; std::string (may hold NUL bytes);
  /// std::vector<U>; std::map<std::string, U> (a duplicate key: the last one wins, as in
  /// Python); std::optional<U> (null -> nullopt); Json; or any type with a JsonConverter.
  /// Throws http_task::Error naming the path, e.g. `[2].name: expected integer, got string
  /// "a"`.
  template <class T>
  T as() const {
    return detail::from_value<T>(*value_, *this, nullptr);
  }

  /// The member key of this object as T, by as<T>()'s rules; errors carry the key in their
  /// path. A missing member is an error, except for std::optional<U>, which gives nullopt.
  template <class T>
  T get(std::string_view key) const {
    if (!value_->IsObject()) {
      throw detail::JsonPathError(
          "", std::string("expected object, got ") + detail::type_name(*value_));
    }
    const detail::JsonPath step{nullptr, key, 0, true};
    if (const rapidjson::Value* member = detail::find_member(*value_, key)) {
      return detail::from_value<T>(*member, *this, &step);
    }
    if constexpr (detail::IsOptional<T>::value) {
      return T{};
    } else {
      throw detail::JsonPathError(detail::path_string(&step), "missing key");
    }
  }

  /// Whether this is null.
  bool is_null() const noexcept { return value_->IsNull(); }
  /// Whether this is true or false.
  bool is_bool() const noexcept { return value_->IsBool(); }
  /// Whether this is a number (integer or floating point).
  bool is_number() const noexcept { return value_->IsNumber(); }
  /// Whether this is a string.
  bool is_string() const noexcept { return value_->IsString(); }
  /// Whether this is an array.
  bool is_array() const noexcept { return value_->IsArray(); }
  /// Whether this is an object.
  bool is_object() const noexcept { return value_->IsObject(); }
  /// "null", "bool", "number", "string", "array" or "object".
  const char* type_name() const noexcept { return detail::type_name(*value_); }

  /// Elements of an array, members of an object, 0 for anything else.
  std::size_t size() const noexcept {
    if (value_->IsArray()) return value_->Size();
    if (value_->IsObject()) return value_->MemberCount();
    return 0;
  }

  /// Element i of an array. Throws http_task::Error if this is not an array or i is out of
  /// range.
  Json operator[](std::size_t i) const {
    if (!value_->IsArray()) {
      throw detail::JsonPathError("",
                                  std::string("expected array, got ") + detail::type_name(*value_));
    }
    if (i >= value_->Size()) {
      throw detail::JsonPathError(
          "[" + std::to_string(i) + "]",
          "index out of range (array of " + std::to_string(value_->Size()) + ")");
    }
    return alias((*value_)[static_cast<rapidjson::SizeType>(i)]);
  }

  /// Member key of an object (the last one if the key is repeated); nullopt when this is
  /// not an object or has no such member.
  std::optional<Json> find(std::string_view key) const {
    if (!value_->IsObject()) return std::nullopt;
    if (const rapidjson::Value* member = detail::find_member(*value_, key)) return alias(*member);
    return std::nullopt;
  }

  /// Compact JSON text.
  std::string dump() const { return detail::dump_value(*value_); }

  /// The RapidJSON value itself, valid as long as this Json (or a copy) lives.
  const rapidjson::Value& value() const noexcept { return *value_; }

  /// Deep comparison; 1 == 1.0; objects compare as dictionaries (member order ignored).
  friend bool operator==(const Json& a, const Json& b) {
    return a.value_ == b.value_ || detail::values_equal(*a.value_, *b.value_);
  }
  /// !(a == b).
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }

 private:
  friend struct detail::JsonAccess;

  Json alias(const rapidjson::Value& sub) const {
    return Json(std::shared_ptr<const rapidjson::Value>(value_, &sub));
  }

  std::shared_ptr<const rapidjson::Value> value_;  // never null
};

namespace detail {

// The way into a Json's private aliasing, for the machinery in detail/.
struct JsonAccess {
  static Json alias(const Json& owner, const rapidjson::Value& sub) { return owner.alias(sub); }
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task

// Json::as, Json::parse and the builders are defined there; included last so that any of
// them may be included first.
#include <http_task/detail/decode/json_builder.hpp>
#include <http_task/detail/decode/json_conversion.hpp>
#include <http_task/detail/decode/json_parser.hpp>
