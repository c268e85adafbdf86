// SPDX-License-Identifier: MIT
// The compile-time rules of Json's conversions: which types Json::as<T>() and
// Json::from() take, and whether a JsonConverter<T> supplies from_json or to_json.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {

class Json;

// The converter contract, documented in json.hpp.
template <class T, class Enable = void>
struct JsonConverter;

namespace detail {

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};

template <class T>
struct IsStringMap : std::false_type {};
template <class T, class C, class A>
struct IsStringMap<std::map<std::string, T, C, A>> : std::true_type {};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T, class = void>
struct HasJsonConverter : std::false_type {};
template <class T>
struct HasJsonConverter<
    T, std::void_t<decltype(JsonConverter<T>::from_json(std::declval<const Json&>()))>>
    : std::true_type {};

template <class T>
struct AlwaysFalse : std::false_type {};

// What Json::from accepts (and so what converts to Json implicitly, as in
// Json::array({1, "two", nullptr})). Plain char is left out: a character or a number?
template <class T, class = void>
struct HasToJson : std::false_type {};
template <class T>
struct HasToJson<T, std::void_t<decltype(JsonConverter<T>::to_json(std::declval<const T&>()))>>
    : std::is_same<decltype(JsonConverter<T>::to_json(std::declval<const T&>())), Json> {};

template <class T>
struct IsJsonBuildable
    : std::bool_constant<
          std::is_same_v<T, Json> || std::is_same_v<T, bool> || std::is_same_v<T, std::nullptr_t> ||
          (std::is_arithmetic_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> &&
           !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>) ||
          std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
          std::is_same_v<T, const char*> || std::is_same_v<T, char*> || HasToJson<T>::value> {};
template <std::size_t N>
struct IsJsonBuildable<char[N]> : std::true_type {};
template <class T, class A>
struct IsJsonBuildable<std::vector<T, A>> : IsJsonBuildable<T> {};
template <class T, class C, class A>
struct IsJsonBuildable<std::map<std::string, T, C, A>> : IsJsonBuildable<T> {};
template <class T>
struct IsJsonBuildable<std::optional<T>> : IsJsonBuildable<T> {};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
