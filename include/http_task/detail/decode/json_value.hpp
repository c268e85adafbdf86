// SPDX-License-Identifier: MIT
// What a Json does with the RapidJSON value it points to: its null, its type's name,
// its compact text, member lookup and deep equality. Iterative where RapidJSON would
// recurse, as a value may be as deep as its parser's max_depth.
#pragma once

#include <http_task/detail/decode/json_stack.hpp>

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

inline const rapidjson::Value& null_value() noexcept {
  // Never destroyed: a Json alive during static destruction must still see a valid null.
  alignas(rapidjson::Value) static unsigned char storage[sizeof(rapidjson::Value)];
  static const rapidjson::Value* const value = new (storage) rapidjson::Value();
  return *value;
}

inline std::shared_ptr<const rapidjson::Value> null_alias() noexcept {
  return std::shared_ptr<const rapidjson::Value>(std::shared_ptr<const rapidjson::Value>(),
                                                 &null_value());
}

inline const char* type_name(const rapidjson::Value& v) noexcept {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "bool";
    case rapidjson::kNumberType:
      return "number";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kObjectType:
      return "object";
  }
  return "unknown";
}

// std::string as the output stream of rapidjson::Writer, so dump() makes no extra copy.
struct StringOutput {
  using Ch = char;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};

// Iterative on purpose: Value::Accept recurses once per nesting level, and a Json may be
// as deep as the max_depth its parser was given.
inline std::string dump_value(const rapidjson::Value& root) {
  std::string out;
  StringOutput stream{&out};
  StackAllocator stack_allocator;
  rapidjson::Writer<StringOutput, rapidjson::UTF8<>, rapidjson::UTF8<>, StackAllocator> writer(
      stream, &stack_allocator);
  struct Frame {
    const rapidjson::Value* value;
    rapidjson::SizeType next;
  };
  std::vector<Frame> stack;
  auto emit = [&](const rapidjson::Value& v) {
    switch (v.GetType()) {
      case rapidjson::kNullType:
        writer.Null();
        break;
      case rapidjson::kFalseType:
      case rapidjson::kTrueType:
        writer.Bool(v.GetBool());
        break;
      case rapidjson::kNumberType:
        if (v.IsDouble()) {
          // Only a hand-built Value can hold NaN or infinity; the Writer would emit nothing.
          if (std::isfinite(v.GetDouble())) {
            writer.Double(v.GetDouble());
          } else {
            writer.Null();
          }
        } else if (v.IsUint64()) {
          writer.Uint64(v.GetUint64());
        } else {
          writer.Int64(v.GetInt64());
        }
        break;
      case rapidjson::kStringType:
        writer.String(v.GetString(), v.GetStringLength());
        break;
      case rapidjson::kArrayType:
        writer.StartArray();
        stack.push_back(Frame{&v, 0});
        break;
      case rapidjson::kObjectType:
        writer.StartObject();
        stack.push_back(Frame{&v, 0});
        break;
    }
  };
  emit(root);
  while (!stack.empty()) {
    const std::size_t top = stack.size() - 1;
    const rapidjson::Value& v = *stack[top].value;
    if (v.IsArray()) {
      if (stack[top].next < v.Size()) {
        emit(v[stack[top].next++]);
      } else {
        writer.EndArray();
        stack.pop_back();
      }
    } else if (stack[top].next < v.MemberCount()) {
      const auto member = v.MemberBegin() + stack[top].next++;
      writer.Key(member->name.GetString(), member->name.GetStringLength());
      emit(member->value);
    } else {
      writer.EndObject();
      stack.pop_back();
    }
  }
  return out;
}

inline bool key_equals(const rapidjson::Value& name, std::string_view key) noexcept {
  return name.GetStringLength() == key.size() &&
         (key.empty() || std::memcmp(name.GetString(), key.data(), key.size()) == 0);
}

// The last member named key, as Python's json (and so a Python webhook) would see it.
inline const rapidjson::Value* find_member(const rapidjson::Value& object,
                                           std::string_view key) noexcept {
  for (auto it = object.MemberEnd(); it != object.MemberBegin();) {
    --it;
    if (key_equals(it->name, key)) return &it->value;
  }
  return nullptr;
}

inline bool scalar_equal(const rapidjson::Value& a, const rapidjson::Value& b) noexcept {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.IsDouble() || b.IsDouble()) return a.GetDouble() == b.GetDouble();
    if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
    if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
    return false;
  }
  if (a.GetType() != b.GetType()) return false;
  if (a.IsString()) {
    return a.GetStringLength() == b.GetStringLength() &&
           std::memcmp(a.GetString(), b.GetString(), a.GetStringLength()) == 0;
  }
  return true;  // null, true, false: equal types are equal values
}

// Deep equality, iterative for the same reason as dump_value. Objects compare as
// dictionaries: same keys, the last duplicate wins.
inline bool values_equal(const rapidjson::Value& lhs, const rapidjson::Value& rhs) {
  std::vector<std::pair<const rapidjson::Value*, const rapidjson::Value*>> pending{{&lhs, &rhs}};
  while (!pending.empty()) {
    const auto [a, b] = pending.back();
    pending.pop_back();
    if (a->IsArray() && b->IsArray()) {
      if (a->Size() != b->Size()) return false;
      for (rapidjson::SizeType i = 0; i < a->Size(); ++i) pending.emplace_back(&(*a)[i], &(*b)[i]);
    } else if (a->IsObject() && b->IsObject()) {
      // Same key sets, compared both ways: member counts differ when one repeats a key.
      for (auto it = a->MemberBegin(); it != a->MemberEnd(); ++it) {
        const std::string_view key(it->name.GetString(), it->name.GetStringLength());
        const rapidjson::Value* other = find_member(*b, key);
        if (other == nullptr) return false;
        pending.emplace_back(find_member(*a, key), other);
      }
      for (auto it = b->MemberBegin(); it != b->MemberEnd(); ++it) {
        const std::string_view key(it->name.GetString(), it->name.GetStringLength());
        if (find_member(*a, key) == nullptr) return false;
      }
    } else if (!scalar_equal(*a, *b)) {
      return false;
    }
  }
  return true;
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
