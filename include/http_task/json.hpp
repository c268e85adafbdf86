// http_task::Json: the value a webhook returned (its "retval"), owned and immutable.
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

#include <http_task/error.hpp>

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace http_task::detail {

// The allocator of every RapidJSON stack http_task uses (reader, document, writer). It
// selects the Stack specialization below and lends one stack its first block, so that
// parsing a small answer costs no heap allocation for the reader's and the document's
// stacks. One allocator per stack; it must outlive the stack.
struct StackAllocator : rapidjson::CrtAllocator {
  static constexpr std::size_t kFirstBlock = 256;
  alignas(std::max_align_t) char first_block[kFirstBlock];
  bool first_block_lent = false;
};

}  // namespace http_task::detail

namespace rapidjson::internal {

// RapidJSON 1.1.0's Stack does arithmetic on a null pointer on its first push (`stackTop_ +
// n` before anything is allocated), undefined behaviour that UBSan reports on every parse.
// This specialization, for http_task's own allocator only, keeps offsets instead of pointers.
// Same interface; allocation failure throws std::bad_alloc instead of writing through null.
// NOLINTBEGIN(readability-identifier-naming): RapidJSON calls these names.
template <>
class Stack<http_task::detail::StackAllocator> {
  using Allocator = http_task::detail::StackAllocator;

 public:
  Stack(Allocator* allocator, size_t capacity) : allocator_(allocator), initial_(capacity) {}
  Stack(Stack&& other) noexcept { Swap(other); }
  Stack& operator=(Stack&& other) noexcept {
    if (this != &other) {
      Stack empty(nullptr, 0);
      Swap(empty);
      Swap(other);
    }
    return *this;
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  ~Stack() { release(); }

  void Swap(Stack& other) noexcept {
    std::swap(allocator_, other.allocator_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    std::swap(initial_, other.initial_);
  }

  void Clear() { size_ = 0; }

  void ShrinkToFit() {
    if (size_ == 0) {
      release();
    } else {
      resize(size_);
    }
  }

  template <typename T>
  void Reserve(size_t count = 1) {
    if (sizeof(T) * count > capacity_ - size_) expand(sizeof(T) * count);
  }
  template <typename T>
  T* Push(size_t count = 1) {
    Reserve<T>(count);
    return PushUnsafe<T>(count);
  }
  template <typename T>
  T* PushUnsafe(size_t count = 1) {
    T* top = reinterpret_cast<T*>(data_ + size_);
    size_ += sizeof(T) * count;
    return top;
  }
  template <typename T>
  T* Pop(size_t count) {
    size_ -= sizeof(T) * count;
    return reinterpret_cast<T*>(data_ + size_);
  }
  template <typename T>
  T* Top() {
    return reinterpret_cast<T*>(data_ + size_ - sizeof(T));
  }
  template <typename T>
  const T* Top() const {
    return reinterpret_cast<const T*>(data_ + size_ - sizeof(T));
  }
  template <typename T>
  T* End() {
    return reinterpret_cast<T*>(data_ + size_);
  }
  template <typename T>
  const T* End() const {
    return reinterpret_cast<const T*>(data_ + size_);
  }
  template <typename T>
  T* Bottom() {
    return reinterpret_cast<T*>(data_);
  }
  template <typename T>
  const T* Bottom() const {
    return reinterpret_cast<const T*>(data_);
  }

  bool HasAllocator() const { return allocator_ != nullptr; }
  Allocator& GetAllocator() {
    static Allocator fallback;  // stateless
    return allocator_ != nullptr ? *allocator_ : fallback;
  }
  bool Empty() const { return size_ == 0; }
  size_t GetSize() const { return size_; }
  size_t GetCapacity() const { return capacity_; }

 private:
  void expand(size_t bytes) {
    size_t capacity = capacity_ == 0 ? initial_ : capacity_ + (capacity_ + 1) / 2;
    if (capacity < size_ + bytes) capacity = size_ + bytes;
    resize(capacity);
  }
  char* first_block() const noexcept {
    return allocator_ != nullptr ? allocator_->first_block : nullptr;
  }
  void resize(size_t capacity) {
    constexpr size_t kFirst = Allocator::kFirstBlock;
    if (data_ == nullptr && capacity <= kFirst && allocator_ != nullptr &&
        !allocator_->first_block_lent) {
      allocator_->first_block_lent = true;
      data_ = allocator_->first_block;
      capacity_ = kFirst;
      return;
    }
    if (data_ != nullptr && data_ == first_block()) {
      if (capacity <= kFirst) return;  // shrinking: the block stays
      void* data = std::malloc(capacity);
      if (data == nullptr) throw std::bad_alloc();
      std::memcpy(data, data_, size_);
      allocator_->first_block_lent = false;
      data_ = static_cast<char*>(data);
      capacity_ = capacity;
      return;
    }
    void* data = std::realloc(data_, capacity);
    if (data == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(data);
    capacity_ = capacity;
  }
  void release() noexcept {
    if (data_ != nullptr && data_ == first_block())
      allocator_->first_block_lent = false;
    else
      std::free(data_);
    data_ = nullptr;
    capacity_ = 0;
  }

  Allocator* allocator_ = nullptr;
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t initial_ = 0;
};
// NOLINTEND(readability-identifier-naming)

}  // namespace rapidjson::internal

namespace http_task {

class Json;

// Customization point for Json::as<T>() and Json::get<T>(): specialize it for your type
// with `static T from_json(const Json&)`. The Enable parameter allows partial
// specializations constrained with std::enable_if_t. Built-in conversions (bool, numbers,
// std::string, std::vector, std::map<std::string, T>, std::optional, Json) take precedence.
template <class T, class Enable = void>
struct JsonConverter;

namespace detail {

struct JsonAccess;

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

class JsonItems;
class JsonElements;

template <class T>
T from_value(const rapidjson::Value& v, const Json& owner, const JsonPath* path);

}  // namespace detail

class Json {
 public:
  // null, without allocating.
  Json() noexcept : value_(detail::null_alias()) {}

  // Wraps a RapidJSON value whose lifetime the shared_ptr's owner guarantees (use the
  // aliasing constructor to point into a document you own). A null pointer gives null.
  explicit Json(std::shared_ptr<const rapidjson::Value> value) noexcept
      : value_(value ? std::move(value) : detail::null_alias()) {}

  Json(const Json&) = default;
  Json& operator=(const Json&) = default;
  // A moved-from Json is null, never a dangling or empty pointer.
  Json(Json&& other) noexcept : value_(std::move(other.value_)) {
    other.value_ = detail::null_alias();
  }
  Json& operator=(Json&& other) noexcept {
    if (this != &other) {
      value_ = std::move(other.value_);
      other.value_ = detail::null_alias();
    }
    return *this;
  }
  ~Json() = default;

  // Any value Json::from takes converts implicitly, so that arrays and objects read like
  // JSON: Json::object({{"x", 10}, {"tags", std::vector<std::string>{"a"}}}).
  template <class T, std::enable_if_t<!std::is_same_v<T, Json> && detail::IsJsonBuildable<T>::value,
                                      int> = 0>
  Json(const T& value)  // NOLINT(google-explicit-constructor): the point of it
      : Json(from(value)) {}

  // Building values (request bodies, task arguments), each an owned document of its own.
  // Takes bool, integers, floating point (NaN and infinities throw http_task::Error: JSON
  // has no such numbers), strings (must be valid UTF-8, else http_task::Error), nullptr,
  // std::vector, std::map<std::string, U>, std::optional (nullopt -> null), Json, and
  // types with a JsonConverter<T> that has `static Json to_json(const T&)`. Errors name
  // the path of the bad value, e.g. `[2].ratio: NaN is not a JSON number`.
  template <class T>
  static Json from(const T& value);
  static Json array(std::initializer_list<Json> elements = {});
  // A repeated key keeps its first place and its last value (a Python dict's rule).
  static Json object(std::initializer_list<std::pair<std::string, Json>> members = {});

  // Iteration: `for (const auto& [key, value] : j.items())` over an object's members (key
  // is a std::string_view into the document, which `value` keeps alive), and
  // `for (const Json& e : j.elements())` over an array's. Throw http_task::Error when this
  // is not an object (items) or not an array (elements).
  detail::JsonItems items() const;
  detail::JsonElements elements() const;

  // Parses text (UTF-8, explicit length, at most max_depth nested arrays/objects).
  // Throws InvalidResponseError with the parser's message and offset.
  static Json parse(std::string_view text, std::size_t max_depth = 128);

  // The value as T: bool; any integer type (exact and range-checked; a double is accepted
  // when it is a whole number in range); float, double; std::string (may hold NUL bytes);
  // std::vector<U>; std::map<std::string, U> (a duplicate key: the last one wins, as in
  // Python); std::optional<U> (null -> nullopt); Json; or any type with a JsonConverter.
  // Throws http_task::Error naming the path, e.g. `[2].name: expected integer, got string "a"`.
  template <class T>
  T as() const {
    return detail::from_value<T>(*value_, *this, nullptr);
  }

  // The member key of this object as T; errors carry the key in their path. A missing
  // member is an error, except for std::optional<U>, which gives nullopt.
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

  bool is_null() const noexcept { return value_->IsNull(); }
  bool is_bool() const noexcept { return value_->IsBool(); }
  bool is_number() const noexcept { return value_->IsNumber(); }
  bool is_string() const noexcept { return value_->IsString(); }
  bool is_array() const noexcept { return value_->IsArray(); }
  bool is_object() const noexcept { return value_->IsObject(); }
  // "null", "bool", "number", "string", "array" or "object".
  const char* type_name() const noexcept { return detail::type_name(*value_); }

  // Elements of an array, members of an object, 0 for anything else.
  std::size_t size() const noexcept {
    if (value_->IsArray()) return value_->Size();
    if (value_->IsObject()) return value_->MemberCount();
    return 0;
  }

  // Element i of an array. Throws http_task::Error if this is not an array or i is out of range.
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

  // Member key of an object (the last one if the key is repeated); nullopt when this is not
  // an object or has no such member.
  std::optional<Json> find(std::string_view key) const {
    if (!value_->IsObject()) return std::nullopt;
    if (const rapidjson::Value* member = detail::find_member(*value_, key)) return alias(*member);
    return std::nullopt;
  }

  // Compact JSON text.
  std::string dump() const { return detail::dump_value(*value_); }

  // The RapidJSON value itself, valid as long as this Json (or a copy) lives.
  const rapidjson::Value& value() const noexcept { return *value_; }

  // Deep comparison; 1 == 1.0; objects compare as dictionaries (member order ignored).
  friend bool operator==(const Json& a, const Json& b) {
    return a.value_ == b.value_ || detail::values_equal(*a.value_, *b.value_);
  }
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }

 private:
  friend struct detail::JsonAccess;

  Json alias(const rapidjson::Value& sub) const {
    return Json(std::shared_ptr<const rapidjson::Value>(value_, &sub));
  }

  std::shared_ptr<const rapidjson::Value> value_;  // never null
};

namespace detail {

struct JsonAccess {
  static Json alias(const Json& owner, const rapidjson::Value& sub) { return owner.alias(sub); }
};

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
}  // namespace http_task

// Json::parse and the builders are defined there; included last so that either header may
// be included first.
#include <http_task/detail/decode/json_builder.hpp>
#include <http_task/detail/decode/json_parser.hpp>
