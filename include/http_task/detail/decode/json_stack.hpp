// SPDX-License-Identifier: MIT
// The RapidJSON internals http_task specializes: the allocator of every RapidJSON stack
// it uses (reader, document, writer) and, for that allocator only, RapidJSON's Stack.
// Both depend on RapidJSON 1.1's internal interface, which may change in any other
// release: the version is checked here, where they are specialized.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/rapidjson.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

// rapidjson::internal::Stack below, and GenericReader::ScanCopyUnescapedString in
// json_parser.hpp, are specialized against RapidJSON 1.1's internals.
#if !defined(RAPIDJSON_MAJOR_VERSION) || RAPIDJSON_MAJOR_VERSION != 1 || \
    RAPIDJSON_MINOR_VERSION != 1
// #error cannot expand a macro: the static_assert names the version found.
#ifdef RAPIDJSON_VERSION_STRING
static_assert(RAPIDJSON_MAJOR_VERSION == 1 && RAPIDJSON_MINOR_VERSION == 1,
              "http_task supports RapidJSON 1.1.x only; found RapidJSON " RAPIDJSON_VERSION_STRING);
#endif
#error \
    "http_task supports RapidJSON 1.1.x only: it specializes rapidjson::internal::Stack and GenericReader::ScanCopyUnescapedString, internals of 1.1; this RapidJSON is another version (see RAPIDJSON_VERSION_STRING in rapidjson/rapidjson.h)"
#endif

namespace http_task {
inline namespace v1 {
namespace detail {

// The allocator of every RapidJSON stack http_task uses (reader, document, writer). It
// selects the Stack specialization below and lends one stack its first block, so that
// parsing a small answer costs no heap allocation for the reader's and the document's
// stacks. One allocator per stack; it must outlive the stack.
struct StackAllocator : rapidjson::CrtAllocator {
  static constexpr std::size_t kFirstBlock = 256;
  alignas(std::max_align_t) char first_block[kFirstBlock];
  bool first_block_lent = false;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task

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
