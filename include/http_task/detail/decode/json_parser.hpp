// SPDX-License-Identifier: MIT
// The one place http_task turns bytes into JSON. RapidJSON 1.1.0 is used only in the ways
// that survive hostile input (see shared/PITFALLS.md): explicit length, UTF-8 validated,
// iterative, numbers converted here with std::from_chars, nesting depth capped.
#pragma once

#include <http_task/detail/decode/insitu_stream.hpp>
#include <http_task/detail/decode/json_holder.hpp>
#include <http_task/detail/decode/json_stack.hpp>
#include <http_task/detail/utf8.hpp>
#include <http_task/json.hpp>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace http_task {
inline namespace v1 {
namespace detail {

struct ParseResult {
  Json value;              // null when the parse failed
  std::string error;       // empty on success, else "<message> (at offset N)"
  std::size_t offset = 0;  // byte offset of the error in the text
  bool ok() const noexcept { return error.empty(); }
};

// RapidJSON 1.1.0 does signed int arithmetic on the digit counts of a number, which can
// overflow past about 200 MB of digits; its string lengths are 32-bit. Far above any webhook
// answer, far below either edge.
inline constexpr std::size_t kMaxJsonBytes = std::size_t{128} * 1024 * 1024;

// Up to this max_depth the parser may recurse (see parse_json).
inline constexpr std::size_t kMaxRecursiveDepth = 128;

enum class SaxFailure { kNone, kTooDeep, kNumberOutOfRange, kLoneSurrogate };

// Whether a JSON number whose conversion reported out-of-range is huge (true) or tiny
// (false): the decimal exponent of its first significant digit, plus its exponent part.
inline bool number_overflows(std::string_view text) noexcept {
  std::size_t i = text.empty() || text[0] != '-' ? 0 : 1;
  long long lead = 0;
  bool found = false;
  const std::size_t int_begin = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i - int_begin > 1 || (i > int_begin && text[int_begin] != '0')) {
    lead = static_cast<long long>(i - int_begin) - 1;
    found = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    long long zeros = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (!found) {
        if (text[i] == '0') {
          if (zeros < 1'000'000'000) ++zeros;
        } else {
          lead = -(zeros + 1);
          found = true;
        }
      }
      ++i;
    }
  }
  long long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (exponent < 1'000'000'000'000LL) exponent = exponent * 10 + (text[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  return found && lead + exponent >= 0;
}

inline std::string shorten_number(std::string_view number) {
  constexpr std::size_t kMax = 40;
  return number.size() <= kMax ? std::string(number) : std::string(number.substr(0, kMax)) + "...";
}

// Sits between RapidJSON's reader and the Document: counts nesting, turns number text into
// real numbers, and rejects what the reader lets through. Returning false stops the parse.
template <class Handler>
class LimitingHandler {
 public:
  LimitingHandler(Handler& next, std::size_t max_depth) : next_(next), max_depth_(max_depth) {}

  // The stream when parsing in place (see RawNumber).
  void parsing_in(const InsituStream& stream) noexcept { insitu_ = &stream; }

  SaxFailure failure() const noexcept { return failure_; }
  std::string_view failed_number() const noexcept { return failed_number_; }

  bool Null() { return next_.Null(); }
  bool Bool(bool b) { return next_.Bool(b); }
  bool Int(int i) { return next_.Int(i); }
  bool Uint(unsigned u) { return next_.Uint(u); }
  bool Int64(std::int64_t i) { return next_.Int64(i); }
  bool Uint64(std::uint64_t u) { return next_.Uint64(u); }
  bool Double(double d) { return next_.Double(d); }

  bool RawNumber(const char* str, rapidjson::SizeType length, bool) {
    // RapidJSON 1.1.0 passes the end of an in-situ number, not its start (fixed upstream
    // after the release). Where the stream stands tells which one came.
    if (insitu_ != nullptr && str == insitu_->position()) str -= length;
    // The reader has checked the JSON number grammar; only the value is left to decide.
    const char* const end = str + length;
    bool integral = true;
    for (const char* p = str; p != end; ++p) {
      if (*p == '.' || *p == 'e' || *p == 'E') {
        integral = false;
        break;
      }
    }
    if (integral) {
      if (*str == '-') {
        std::int64_t i = 0;
        const auto r = std::from_chars(str, end, i);
        if (r.ec == std::errc() && r.ptr == end) return next_.Int64(i);
      } else {
        std::uint64_t u = 0;
        const auto r = std::from_chars(str, end, u);
        if (r.ec == std::errc() && r.ptr == end) return next_.Uint64(u);
      }
      // Beyond 64 bits: a double, as Python's float() of it would be.
    }
    double d = 0.0;
    const auto r = std::from_chars(str, end, d);
    if (r.ec == std::errc() && r.ptr == end) return next_.Double(d);
    const std::string_view text(str, length);
    if (r.ec == std::errc::result_out_of_range && r.ptr == end && !number_overflows(text)) {
      return next_.Double(*str == '-' ? -0.0 : 0.0);  // underflow rounds to zero
    }
    failure_ = SaxFailure::kNumberOutOfRange;
    failed_number_ = shorten_number(text);
    return false;
  }

  bool String(const char* str, rapidjson::SizeType length, bool copy) {
    if (has_lone_surrogate(str, length)) return false;
    return next_.String(str, length, copy);
  }
  bool Key(const char* str, rapidjson::SizeType length, bool copy) {
    if (has_lone_surrogate(str, length)) return false;
    return next_.Key(str, length, copy);
  }

  bool StartObject() { return enter() && next_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return next_.EndObject(members);
  }
  bool StartArray() { return enter() && next_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return next_.EndArray(elements);
  }

 private:
  bool enter() {
    if (depth_ >= max_depth_) {
      failure_ = SaxFailure::kTooDeep;
      return false;
    }
    ++depth_;
    return true;
  }

  // The reader validates raw UTF-8 and pairs \uD800-\uDBFF escapes, but 1.1.0 turns a lone
  // \uDC00-\uDFFF escape into the bytes ED B0..BF xx, which are not UTF-8. Raw bytes never
  // get here unvalidated, so any ED followed by A0..BF came from such an escape.
  bool has_lone_surrogate(const char* str, rapidjson::SizeType length) {
    const char* p = str;
    const char* const end = str + length;
    while (
        (p = static_cast<const char*>(std::memchr(p, '\xED', static_cast<std::size_t>(end - p))))) {
      if (end - p > 1 && (static_cast<unsigned char>(p[1]) & 0xE0) == 0xA0) {
        failure_ = SaxFailure::kLoneSurrogate;
        return true;
      }
      ++p;
    }
    return false;
  }

  Handler& next_;
  const InsituStream* insitu_ = nullptr;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  SaxFailure failure_ = SaxFailure::kNone;
  std::string failed_number_;
};

inline std::string with_offset(std::string message, std::size_t offset) {
  message += " (at offset ";
  message += std::to_string(offset);
  message += ')';
  return message;
}

// The number that starts at offset, shortened for a log line.
inline std::string number_at(std::string_view text, std::size_t offset) {
  std::size_t end = offset;
  while (end < text.size() && std::strchr("+-.0123456789eE", text[end]) != nullptr &&
         text[end] != '\0') {
    ++end;
  }
  return shorten_number(text.substr(offset, end - offset));
}

inline std::string too_big_message(const std::string& number) {
  std::string message = rapidjson::GetParseError_En(rapidjson::kParseErrorNumberTooBig);
  if (!message.empty() && message.back() == '.') message.pop_back();
  return message + ": " + number;
}

inline ParseResult parse_error(std::string message, std::size_t offset) {
  ParseResult result;
  result.error = with_offset(std::move(message), offset);
  result.offset = offset;
  return result;
}

// Parses text into an owned Json. Never reads past text.size(); any byte after the value
// other than JSON whitespace (NUL included) is an error; at most max_depth nested
// arrays/objects. Numbers: integers that fit in 64 bits stay integers, larger ones become
// doubles, an out-of-range exponent (1e400) is an error, underflow becomes 0.
//
// owner: text's own buffer, or null. When given, the document may take it and parse in
// place there instead of copying the text (owner is then left empty). The text is then
// changed, and gone once the result is: a caller that quotes it afterwards quotes it
// first.
inline ParseResult parse_json(std::string_view text, std::size_t max_depth,
                              std::string* owner = nullptr) {
  if (text.size() > kMaxJsonBytes) {
    return parse_error("JSON text larger than " + std::to_string(kMaxJsonBytes) + " bytes", 0);
  }
  // RapidJSON's EncodedInputStream skips any prefix of a BOM, even a lone \xEF, which would
  // let invalid UTF-8 through: only a complete BOM is skipped, here.
  std::size_t start = 0;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) start = 3;
  // A small answer needs a few hundred bytes of DOM; a large one gets chunks in proportion,
  // up to RapidJSON's default 64 KiB.
  const std::size_t chunk_bytes =
      std::min<std::size_t>(std::max<std::size_t>(text.size() * 2, 1024), std::size_t{64} * 1024);
  const std::size_t stack_bytes =
      std::min<std::size_t>(std::max<std::size_t>(text.size() * 4, 128), 1024);
  auto holder = std::make_shared<JsonHolder>(chunk_bytes, stack_bytes);

  // RapidJSON's own UTF-8 check runs per character of every string, most of the cost of
  // parsing a small answer. Checking the whole text at once is several times cheaper and
  // proves the same. Valid text is then copied into the document's memory and parsed in
  // place: strings are unescaped where they lie and the document points at them instead
  // of copying each. Only text that fails the check is parsed with RapidJSON's own, from
  // the caller's buffer, which finds and names the first bad byte.
  //
  // The recursive parser is about 10% faster than the iterative one and recurses once
  // per nesting level: LimitingHandler stops it at max_depth, so it is used when that
  // is at most kMaxRecursiveDepth (the default limit), a few KiB of stack.
  constexpr unsigned kInsitu = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseInsituFlag;
  constexpr unsigned kValidating = rapidjson::kParseNumbersAsStringsFlag |
                                   rapidjson::kParseIterativeFlag |
                                   rapidjson::kParseValidateEncodingFlag;
  StackAllocator reader_stack;
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, StackAllocator> reader(
      &reader_stack, 256);
  rapidjson::ParseResult status;
  SaxFailure failure = SaxFailure::kNone;
  std::string failed_number;
  std::size_t parsed_to = 0;  // where the reader stopped
  bool recursive = false;
  auto generator = [&](Document& document) {
    LimitingHandler<Document> handler(document, max_depth);
    if (is_valid_utf8(text.substr(start))) {
      char* copy = nullptr;
      if (owner != nullptr && owner->data() == text.data() && owner->size() == text.size()) {
        holder->text.swap(*owner);
        text = holder->text;  // a short string's bytes move with it
        copy = holder->text.data();
      } else {
        copy = static_cast<char*>(holder->pool.Malloc(text.size()));
        if (copy == nullptr && !text.empty()) throw std::bad_alloc();
        if (!text.empty()) std::memcpy(copy, text.data(), text.size());
      }
      InsituStream stream(copy, text.size(), start);
      handler.parsing_in(stream);
      recursive = max_depth <= kMaxRecursiveDepth;
      if (recursive)
        status = reader.Parse<kInsitu>(stream, handler);
      else
        status = reader.Parse<kInsitu | rapidjson::kParseIterativeFlag>(stream, handler);
      parsed_to = stream.Tell();
    } else {
      rapidjson::MemoryStream stream(text.data(), text.size());
      for (std::size_t i = 0; i < start; ++i) stream.Take();
      status = reader.Parse<kValidating>(stream, handler);
      parsed_to = stream.Tell();
    }
    failure = handler.failure();
    if (failure == SaxFailure::kNumberOutOfRange) failed_number.assign(handler.failed_number());
    return !status.IsError();
  };
  holder->document.Populate(generator);

  if (status.IsError()) {
    const std::size_t offset = status.Offset();
    switch (failure) {
      case SaxFailure::kTooDeep:
        // The recursive parser has taken the bracket when it reports it; the iterative
        // one has not. The offset is the bracket's either way.
        return parse_error("nesting deeper than " + std::to_string(max_depth),
                           recursive ? offset - 1 : offset);
      case SaxFailure::kNumberOutOfRange:
        return parse_error(too_big_message(failed_number), offset);
      case SaxFailure::kLoneSurrogate:
        return parse_error("string contains a lone UTF-16 surrogate (not valid Unicode)", offset);
      case SaxFailure::kNone:
        break;
    }
    // The reader reads a NUL byte as end of input: "empty" then means a NUL where a value was due.
    if (status.Code() == rapidjson::kParseErrorDocumentEmpty && offset < text.size()) {
      return parse_error(rapidjson::GetParseError_En(rapidjson::kParseErrorValueInvalid), offset);
    }
    if (status.Code() == rapidjson::kParseErrorNumberTooBig && offset < text.size()) {
      return parse_error(too_big_message(number_at(text, offset)), offset);
    }
    return parse_error(rapidjson::GetParseError_En(status.Code()), offset);
  }
  // Same NUL effect after the value: the reader stopped at a NUL byte, not at the end.
  if (parsed_to != text.size()) {
    return parse_error(rapidjson::GetParseError_En(rapidjson::kParseErrorDocumentRootNotSingular),
                       parsed_to);
  }
  ParseResult result;
  result.value = Json(std::shared_ptr<const rapidjson::Value>(holder, &holder->document));
  return result;
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task

namespace http_task {
inline namespace v1 {

inline Json Json::parse(std::string_view text, std::size_t max_depth) {
  detail::ParseResult result = detail::parse_json(text, max_depth);
  if (!result.ok()) throw InvalidResponseError("invalid JSON: " + result.error);
  return std::move(result.value);
}

}  // namespace v1
}  // namespace http_task
