// SPDX-License-Identifier: MIT
// Json::as<T>() and Json::get<T>(): a RapidJSON value to T, by the built-in rules or a
// JsonConverter, errors naming the path of the value that did not fit. Included by
// json.hpp after the Json class, which it needs complete.
#pragma once

#include <http_task/detail/decode/json_path.hpp>
#include <http_task/detail/decode/json_traits.hpp>
#include <http_task/detail/decode/json_value.hpp>
#include <http_task/json.hpp>

#include <rapidjson/document.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace http_task {
inline namespace v1 {
namespace detail {

inline std::string preview(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
      return "bool false";
    case rapidjson::kTrueType:
      return "bool true";
    case rapidjson::kNumberType:
      return "number " + dump_value(v);
    case rapidjson::kStringType:
      return "string " + quoted_preview(std::string_view(v.GetString(), v.GetStringLength()));
    case rapidjson::kArrayType:
      return "array of " + std::to_string(v.Size()) + (v.Size() == 1 ? " element" : " elements");
    case rapidjson::kObjectType:
      return "object of " + std::to_string(v.MemberCount()) +
             (v.MemberCount() == 1 ? " member" : " members");
  }
  return "unknown";
}

[[noreturn]] inline void throw_mismatch(const std::string& expected, const rapidjson::Value& v,
                                        const JsonPath* path) {
  throw JsonPathError(path_string(path), "expected " + expected + ", got " + preview(v));
}

template <class T>
std::string integer_range() {
  std::string lo;
  if constexpr (std::is_signed_v<T>) {
    lo = std::to_string(static_cast<long long>(std::numeric_limits<T>::min()));
  } else {
    lo = "0";
  }
  return "integer in range [" + lo + ", " +
         std::to_string(static_cast<unsigned long long>(std::numeric_limits<T>::max())) + "]";
}

template <class T>
T to_integer(const rapidjson::Value& v, const JsonPath* path) {
  using Limits = std::numeric_limits<T>;
  if (v.IsNumber() && !v.IsDouble()) {
    if (v.IsInt64()) {
      const std::int64_t i = v.GetInt64();
      if constexpr (std::is_signed_v<T>) {
        if (i >= static_cast<std::int64_t>(Limits::min()) &&
            i <= static_cast<std::int64_t>(Limits::max())) {
          return static_cast<T>(i);
        }
      } else {
        if (i >= 0 && static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(Limits::max())) {
          return static_cast<T>(i);
        }
      }
    } else if (v.GetUint64() <= static_cast<std::uint64_t>(Limits::max())) {
      return static_cast<T>(v.GetUint64());
    }
    throw_mismatch(integer_range<T>(), v, path);
  }
  if (v.IsDouble()) {
    const double d = v.GetDouble();
    // [min, 2^digits) is exact in double for every integer type, so the cast below is defined.
    const double lo = static_cast<double>(Limits::min());
    const double hi = std::ldexp(1.0, Limits::digits);
    if (std::trunc(d) != d) throw_mismatch("integer", v, path);
    if (d >= lo && d < hi) return static_cast<T>(d);
    throw_mismatch(integer_range<T>(), v, path);
  }
  throw_mismatch("integer", v, path);
}

template <class T>
T from_value(const rapidjson::Value& v, const Json& owner, const JsonPath* path) {
  if constexpr (std::is_same_v<T, Json>) {
    return JsonAccess::alias(owner, v);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.IsBool()) throw_mismatch("bool", v, path);
    return v.GetBool();
  } else if constexpr (std::is_integral_v<T>) {
    return to_integer<T>(v, path);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.IsNumber()) throw_mismatch("number", v, path);
    const double d = v.GetDouble();
    if constexpr (sizeof(T) < sizeof(double)) {
      // Narrowing a double beyond the target's range is undefined behaviour.
      if (std::fabs(d) > static_cast<double>(std::numeric_limits<T>::max())) {
        throw_mismatch("number in float range", v, path);
      }
    }
    return static_cast<T>(d);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.IsString()) throw_mismatch("string", v, path);
    return std::string(v.GetString(), v.GetStringLength());
  } else if constexpr (IsVector<T>::value) {
    if (!v.IsArray()) throw_mismatch("array", v, path);
    T out;
    out.reserve(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      const JsonPath step{path, {}, i, false};
      out.push_back(from_value<typename T::value_type>(v[i], owner, &step));
    }
    return out;
  } else if constexpr (IsStringMap<T>::value) {
    if (!v.IsObject()) throw_mismatch("object", v, path);
    T out;
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string_view key(it->name.GetString(), it->name.GetStringLength());
      const JsonPath step{path, key, 0, true};
      out.insert_or_assign(std::string(key),
                           from_value<typename T::mapped_type>(it->value, owner, &step));
    }
    return out;
  } else if constexpr (IsOptional<T>::value) {
    if (v.IsNull()) return T{};
    return T{from_value<typename T::value_type>(v, owner, path)};
  } else if constexpr (HasJsonConverter<T>::value) {
    if (path == nullptr) return JsonConverter<T>::from_json(JsonAccess::alias(owner, v));
    try {
      return JsonConverter<T>::from_json(JsonAccess::alias(owner, v));
    } catch (const JsonPathError& e) {
      throw JsonPathError(join_paths(path_string(path), e.path()), e.detail());
    }
  } else {
    static_assert(AlwaysFalse<T>::value,
                  "Json::as<T>: no conversion to T; specialize http_task::JsonConverter<T> with "
                  "static T from_json(const http_task::Json&)");
  }
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
