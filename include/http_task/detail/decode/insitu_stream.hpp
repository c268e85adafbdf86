// SPDX-License-Identifier: MIT
// The stream parse_json (json_parser.hpp) gives RapidJSON's reader when it parses in
// place, and the fast scan of a string's plain bytes that RapidJSON 1.1.0 lets a stream
// type have only through an explicit specialization of its reader, at the end of this
// file. The parser includes this header first, so the specialization comes before any
// use of the reader with this stream.
#pragma once

#include <http_task/detail/decode/json_stack.hpp>

#include <rapidjson/reader.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace http_task {
inline namespace v1 {
namespace detail {

// What RapidJSON parses in place (kParseInsituFlag): a private, writable copy of the
// text, where strings are unescaped and NUL-terminated where they lie. Bounded like
// rapidjson::MemoryStream: past the end it reads NUL and never moves.
class InsituStream {
 public:
  using Ch = char;
  InsituStream(char* text, std::size_t size, std::size_t start) noexcept
      : head_(text), src_(text + start), end_(text + size) {}

  Ch Peek() const noexcept { return src_ != end_ ? *src_ : '\0'; }
  const Ch* position() const noexcept { return src_; }
  Ch Take() noexcept { return src_ != end_ ? *src_++ : '\0'; }
  std::size_t Tell() const noexcept { return static_cast<std::size_t>(src_ - head_); }

  // Writing trails reading: unescaping only ever shrinks a string.
  Ch* PutBegin() noexcept { return dst_ = src_; }
  void Put(Ch c) noexcept { *dst_++ = c; }
  void Flush() noexcept {}
  std::size_t PutEnd(Ch* begin) noexcept { return static_cast<std::size_t>(dst_ - begin); }

  // Inside a string: moves over the bytes that stand for themselves (all but '"', '\\'
  // and control bytes), 8 at a time, moving them down to the write position once an
  // escape has shortened the string. RapidJSON reads a string a byte at a time through
  // Peek and Take (2.3 ns a byte here) unless it has such a run scanner for the stream
  // type, which it has only for its own streams, and only when built with SSE2.
  void copy_plain_run() noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHighs = 0x8080808080808080ull;
    const auto has_zero_byte = [](std::uint64_t w) { return ((w - kOnes) & ~w & kHighs) != 0; };
    char* from = src_;
    char* to = dst_;
    while (end_ - from >= 8) {
      std::uint64_t w;
      std::memcpy(&w, from, sizeof w);
      // Whether some byte is '"' or '\\' (XOR leaves it zero), or below 0x20 (the
      // subtraction borrows from it while its top bit is clear).
      const bool stop = has_zero_byte(w ^ (kOnes * '"')) || has_zero_byte(w ^ (kOnes * '\\')) ||
                        ((w - kOnes * 0x20) & ~w & kHighs) != 0;
      if (stop) break;
      if (to != from) std::memmove(to, from, sizeof w);
      from += sizeof w;
      to += sizeof w;
    }
    for (; from != end_; ++from, ++to) {
      const auto c = static_cast<unsigned char>(*from);
      if (c == '"' || c == '\\' || c < 0x20) break;
      *to = *from;
    }
    src_ = from;
    dst_ = to;
  }

 private:
  char* head_;
  char* src_;
  char* end_;
  char* dst_ = nullptr;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task

// The hook RapidJSON's string parser calls before each byte it reads (a no-op for stream
// types it has no scanner for), given one for InsituStream. An explicit specialization of
// the reader's member template: RapidJSON 1.1.0 offers no other way in.
namespace rapidjson {
template <>
template <>
inline void GenericReader<UTF8<>, UTF8<>, http_task::detail::StackAllocator>::
    ScanCopyUnescapedString<http_task::detail::InsituStream, http_task::detail::InsituStream>(
        http_task::detail::InsituStream& is, http_task::detail::InsituStream&) {
  is.copy_plain_run();  // the reader passes the same stream twice when parsing in place
}
}  // namespace rapidjson
