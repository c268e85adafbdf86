// SPDX-License-Identifier: MIT
// Building Json values (Json::from, Json::array, Json::object) and iterating over them
// (Json::items, Json::elements).
//
// A built Json owns a document of its own, like a parsed one: the same JsonHolder, so a
// small value costs one allocation and a copy of the Json is still an atomic increment.
// A Json put inside another one is deep-copied into the new document (iteratively: a
// parsed Json may be nested as deep as its parser allowed), since a RapidJSON array holds
// its elements in one block of its own allocator.
#pragma once

#include <http_task/detail/utf8.hpp>
#include <http_task/error.hpp>
#include <http_task/json.hpp>

#include <rapidjson/document.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

// The document a built value lives in: json_holder.hpp's JsonHolder, included below.
struct JsonHolder;
inline std::shared_ptr<JsonHolder> make_build_holder();
inline rapidjson::MemoryPoolAllocator<>& holder_allocator(JsonHolder& holder);
inline rapidjson::Value& holder_root(JsonHolder& holder);
inline Json holder_json(const std::shared_ptr<JsonHolder>& holder);

using BuildAllocator = rapidjson::MemoryPoolAllocator<>;

// Copies src into out, every string too, using a's memory: the result does not refer to
// src's document. Iterative for the same reason as dump_value.
inline void copy_value(rapidjson::Value& out, const rapidjson::Value& src, BuildAllocator& a) {
  std::vector<std::pair<rapidjson::Value*, const rapidjson::Value*>> pending{{&out, &src}};
  while (!pending.empty()) {
    const auto [to, from] = pending.back();
    pending.pop_back();
    switch (from->GetType()) {
      case rapidjson::kArrayType: {
        to->SetArray();
        to->Reserve(from->Size(), a);
        for (rapidjson::SizeType i = 0; i < from->Size(); ++i) to->PushBack(rapidjson::Value(), a);
        // Reserved first, so the elements no longer move while they are filled in.
        for (rapidjson::SizeType i = 0; i < from->Size(); ++i)
          pending.emplace_back(&(*to)[i], &(*from)[i]);
        break;
      }
      case rapidjson::kObjectType: {
        to->SetObject();
        for (auto it = from->MemberBegin(); it != from->MemberEnd(); ++it) {
          rapidjson::Value name(it->name.GetString(), it->name.GetStringLength(), a);
          to->AddMember(name, rapidjson::Value(), a);
        }
        // All members added first: AddMember may move the member block.
        auto it = from->MemberBegin();
        for (auto m = to->MemberBegin(); m != to->MemberEnd(); ++m, ++it)
          pending.emplace_back(&m->value, &it->value);
        break;
      }
      case rapidjson::kStringType:
        to->SetString(from->GetString(), from->GetStringLength(), a);
        break;
      case rapidjson::kNumberType:
        if (from->IsDouble()) {
          to->SetDouble(from->GetDouble());
        } else if (from->IsInt64()) {
          to->SetInt64(from->GetInt64());
        } else {
          to->SetUint64(from->GetUint64());
        }
        break;
      case rapidjson::kTrueType:
      case rapidjson::kFalseType:
        to->SetBool(from->GetBool());
        break;
      case rapidjson::kNullType:
        to->SetNull();
        break;
    }
  }
}

[[noreturn]] inline void throw_build_error(const JsonPath* path, const std::string& what) {
  throw JsonPathError(path_string(path), what);
}

inline void build_string(rapidjson::Value& out, std::string_view s, BuildAllocator& a,
                         const JsonPath* path) {
  if (!is_valid_utf8(s))
    throw_build_error(path, "string " + quoted_preview(s) + " is not valid UTF-8");
  if (s.size() > 0xffffffffu) throw_build_error(path, "string longer than 4 GiB");
  out.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

template <class T>
void build_value(rapidjson::Value& out, const T& v, BuildAllocator& a, const JsonPath* path) {
  if constexpr (std::is_same_v<T, Json>) {
    copy_value(out, v.value(), a);
  } else if constexpr (std::is_same_v<T, bool>) {
    out.SetBool(v);
  } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
    out.SetNull();
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(!std::is_same_v<T, char>,
                  "Json::from(char): a character or a number? Pass a std::string or an int");
    if constexpr (std::is_signed_v<T>) {
      out.SetInt64(static_cast<std::int64_t>(v));
    } else {
      out.SetUint64(static_cast<std::uint64_t>(v));
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    const double d = static_cast<double>(v);
    if (std::isnan(d)) throw_build_error(path, "NaN is not a JSON number");
    if (!std::isfinite(d)) throw_build_error(path, "infinity is not a JSON number");
    out.SetDouble(d);
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    build_string(out, std::string_view(v), a, path);
  } else if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
    if (v == nullptr) throw_build_error(path, "null const char* is not a string");
    build_string(out, std::string_view(v), a, path);
  } else if constexpr (std::is_array_v<T>) {
    static_assert(std::is_same_v<std::remove_extent_t<T>, char>, "Json::from: char arrays only");
    // A literal's last byte is its NUL; a filled buffer may have none.
    const std::size_t n = std::extent_v<T>;
    std::size_t len = 0;
    while (len < n && v[len] != '\0') ++len;
    build_string(out, std::string_view(v, len), a, path);
  } else if constexpr (IsVector<T>::value) {
    if (v.size() > 0xffffffffu) throw_build_error(path, "array longer than 2^32 elements");
    out.SetArray();
    out.Reserve(static_cast<rapidjson::SizeType>(v.size()), a);
    std::size_t i = 0;
    for (const auto& element : v) {
      const JsonPath step{path, {}, i++, false};
      rapidjson::Value item;
      const typename T::value_type& e = element;  // vector<bool>: its proxy, as bool
      build_value(item, e, a, &step);
      out.PushBack(item, a);
    }
  } else if constexpr (IsStringMap<T>::value) {
    out.SetObject();
    for (const auto& [key, mapped] : v) {
      const JsonPath step{path, key, 0, true};
      rapidjson::Value name;
      build_string(name, key, a, &step);
      rapidjson::Value item;
      build_value(item, mapped, a, &step);
      out.AddMember(name, item, a);
    }
  } else if constexpr (IsOptional<T>::value) {
    if (v) {
      build_value(out, *v, a, path);
    } else {
      out.SetNull();
    }
  } else if constexpr (HasToJson<T>::value) {
    Json converted;
    if (path == nullptr) {
      converted = JsonConverter<T>::to_json(v);
    } else {
      try {
        converted = JsonConverter<T>::to_json(v);
      } catch (const JsonPathError& e) {
        throw JsonPathError(join_paths(path_string(path), e.path()), e.detail());
      }
    }
    copy_value(out, converted.value(), a);
  } else {
    static_assert(AlwaysFalse<T>::value,
                  "Json::from<T>: no conversion from T; specialize http_task::JsonConverter<T> "
                  "with static http_task::Json to_json(const T&)");
  }
}

// An iterator over the elements or members of its owner, by index: read(owner, i) makes
// what it yields, a Json that refers into the owner. The iterator holds the owner, so
// what it yields stays valid on its own.
template <class Value, Value (*read)(const Json&, rapidjson::SizeType)>
class JsonIndexIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = Value;

  JsonIndexIterator() = default;
  JsonIndexIterator(const Json* owner, rapidjson::SizeType i) : owner_(owner), i_(i) {}
  Value operator*() const { return read(*owner_, i_); }
  JsonIndexIterator& operator++() {
    ++i_;
    return *this;
  }
  JsonIndexIterator operator++(int) {
    JsonIndexIterator old = *this;
    ++i_;
    return old;
  }
  friend bool operator==(const JsonIndexIterator& x, const JsonIndexIterator& y) {
    return x.i_ == y.i_;
  }
  friend bool operator!=(const JsonIndexIterator& x, const JsonIndexIterator& y) {
    return x.i_ != y.i_;
  }

 private:
  const Json* owner_ = nullptr;
  rapidjson::SizeType i_ = 0;
};

// The i-th element of an array.
inline Json json_element_at(const Json& owner, rapidjson::SizeType i) {
  return JsonAccess::alias(owner, owner.value()[i]);
}

// The i-th member of an object: its name and its value.
inline std::pair<std::string_view, Json> json_item_at(const Json& owner, rapidjson::SizeType i) {
  const auto member = owner.value().MemberBegin() + i;
  return {std::string_view(member->name.GetString(), member->name.GetStringLength()),
          JsonAccess::alias(owner, member->value)};
}

// A Json that refers to one element of an array or one member of an object of its owner.
class JsonElements {
 public:
  using iterator = JsonIndexIterator<Json, &json_element_at>;

  explicit JsonElements(Json owner) : owner_(std::move(owner)) {}
  iterator begin() const { return iterator(&owner_, 0); }
  iterator end() const { return iterator(&owner_, owner_.value().Size()); }
  std::size_t size() const noexcept { return owner_.value().Size(); }

 private:
  Json owner_;  // an array
};

class JsonItems {
 public:
  using Item = std::pair<std::string_view, Json>;
  using iterator = JsonIndexIterator<Item, &json_item_at>;

  explicit JsonItems(Json owner) : owner_(std::move(owner)) {}
  iterator begin() const { return iterator(&owner_, 0); }
  iterator end() const { return iterator(&owner_, owner_.value().MemberCount()); }
  std::size_t size() const noexcept { return owner_.value().MemberCount(); }

 private:
  Json owner_;  // an object
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task

namespace http_task {
inline namespace v1 {

template <class T>
Json Json::from(const T& value) {
  if constexpr (std::is_same_v<T, Json>) {
    return value;  // immutable: sharing is copying
  } else {
    auto holder = detail::make_build_holder();
    detail::build_value(detail::holder_root(*holder), value, detail::holder_allocator(*holder),
                        nullptr);
    return detail::holder_json(holder);
  }
}

inline Json Json::array(std::initializer_list<Json> elements) {
  auto holder = detail::make_build_holder();
  auto& a = detail::holder_allocator(*holder);
  rapidjson::Value& root = detail::holder_root(*holder);
  root.SetArray();
  root.Reserve(static_cast<rapidjson::SizeType>(elements.size()), a);
  for (const Json& e : elements) {
    rapidjson::Value item;
    detail::copy_value(item, e.value(), a);
    root.PushBack(item, a);
  }
  return detail::holder_json(holder);
}

inline Json Json::object(std::initializer_list<std::pair<std::string, Json>> members) {
  auto holder = detail::make_build_holder();
  auto& a = detail::holder_allocator(*holder);
  rapidjson::Value& root = detail::holder_root(*holder);
  root.SetObject();
  for (const auto& [key, value] : members) {
    const detail::JsonPath step{nullptr, key, 0, true};
    rapidjson::Value item;
    detail::copy_value(item, value.value(), a);
    auto existing = root.MemberBegin();
    while (existing != root.MemberEnd() && !detail::key_equals(existing->name, key)) ++existing;
    if (existing != root.MemberEnd()) {
      existing->value = item;  // RapidJSON's operator= moves
    } else {
      rapidjson::Value name;
      detail::build_string(name, key, a, &step);
      root.AddMember(name, item, a);
    }
  }
  return detail::holder_json(holder);
}

inline detail::JsonItems Json::items() const {
  if (!value_->IsObject())
    throw detail::JsonPathError(
        "", std::string("items(): expected object, got ") + detail::type_name(*value_));
  return detail::JsonItems(*this);
}

inline detail::JsonElements Json::elements() const {
  if (!value_->IsArray())
    throw detail::JsonPathError(
        "", std::string("elements(): expected array, got ") + detail::type_name(*value_));
  return detail::JsonElements(*this);
}

}  // namespace v1
}  // namespace http_task

// The holder is defined there, and needs json.hpp, which includes this header: the
// functions above that need it complete are defined after it.
#include <http_task/detail/decode/json_holder.hpp>
