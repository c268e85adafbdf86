// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/decode/json_parser.hpp>

#include "support/checks.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

using http_task::detail::parse_json;
using http_task::detail::ParseResult;

namespace {

using namespace std::string_view_literals;

ParseResult parse(std::string_view text, std::size_t max_depth = 128) {
  return parse_json(text, max_depth);
}

using http_task_test::contains;

}  // namespace

TEST_CASE("parse_json parses every kind of value", "[json_parser]") {
  const ParseResult r = parse(R"({"a":[1,-2,3.5,"x",true,false,null,{}]})");
  REQUIRE(r.ok());
  CHECK(r.error.empty());
  CHECK(r.value.dump() == R"({"a":[1,-2,3.5,"x",true,false,null,{}]})");
}

TEST_CASE("parse_json accepts surrounding whitespace and a complete BOM", "[json_parser]") {
  CHECK(parse(" \t\r\n[1] \n").ok());
  CHECK(parse("\xEF\xBB\xBF[1]").ok());
}

TEST_CASE("parse_json rejects a partial BOM (RapidJSON would skip it)", "[json_parser]") {
  CHECK_FALSE(parse("\xEF[1]").ok());
  CHECK_FALSE(parse("\xBB[1]").ok());
  CHECK_FALSE(parse("\xBF[1]").ok());
  CHECK_FALSE(parse("\xEF\xBB[1]").ok());
}

TEST_CASE("parse_json reports RapidJSON's message and the offset", "[json_parser]") {
  const ParseResult r = parse("{'#{:'''");
  REQUIRE_FALSE(r.ok());
  CHECK(r.offset == 1);
  CHECK(r.error == "Missing a name for object member. (at offset 1)");
  CHECK(r.value.is_null());
}

TEST_CASE("parse_json rejects empty and whitespace-only text", "[json_parser]") {
  CHECK(parse("").error == "The document is empty. (at offset 0)");
  CHECK(parse("   \n").error == "The document is empty. (at offset 4)");
}

TEST_CASE("parse_json rejects trailing garbage", "[json_parser]") {
  const ParseResult r = parse(R"({"a":1} {"b":2})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.offset == 8);
  CHECK(contains(r.error, "must not be followed by other values"));
  CHECK_FALSE(parse("[1]x").ok());
  CHECK_FALSE(parse("1 2").ok());
}

TEST_CASE("parse_json never takes a NUL byte for the end of input", "[json_parser]") {
  const ParseResult after = parse("[1]\0garbage"sv);
  REQUIRE_FALSE(after.ok());
  CHECK(after.offset == 3);
  CHECK_FALSE(parse("[1] \0"sv).ok());
  const ParseResult before = parse("\0[1]"sv);
  REQUIRE_FALSE(before.ok());
  CHECK(before.error == "Invalid value. (at offset 0)");
  CHECK_FALSE(parse("[1,\0]"sv).ok());
  CHECK_FALSE(parse("\"a\0b\""sv).ok());  // a raw control character inside a string
}

TEST_CASE("parse_json keeps an escaped NUL inside strings", "[json_parser]") {
  const ParseResult r = parse(R"(["a\u0000b"])");
  REQUIRE(r.ok());
  CHECK(r.value[0].as<std::string>() == "a\0b"sv);
  CHECK(r.value.dump() == R"(["a\u0000b"])");
}

TEST_CASE("parse_json rejects invalid UTF-8", "[json_parser]") {
  const char* const bad[] = {
      "\"\xC3\"",              // truncated sequence
      "\"\x80\"",              // lone continuation byte
      "\"\xC0\xAF\"",          // overlong
      "\"\xED\xA0\x80\"",      // raw surrogate
      "\"\xF4\x90\x80\x80\"",  // beyond U+10FFFF
      "\"\xF5\x80\x80\x80\"",  // invalid lead byte
      "\"\xFF\"",
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(parse(text).ok());
  }
  CHECK(parse("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"").ok());
}

TEST_CASE("parse_json rejects a lone UTF-8 lead byte as the very last byte", "[json_parser]") {
  // The NUL-terminated RapidJSON parse reads past the buffer here; ASan checks we do not.
  for (const char lead : {'\xC3', '\xE2', '\xF0'}) {
    const std::string text = std::string("\"") + lead;
    const auto heap = std::make_unique<char[]>(text.size());
    std::memcpy(heap.get(), text.data(), text.size());
    const ParseResult r = parse(std::string_view(heap.get(), text.size()));
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("parse_json rejects a lone low surrogate escape", "[json_parser]") {
  const ParseResult r = parse(R"(["\udc00"])");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error, "surrogate"));
  CHECK_FALSE(parse(R"({"\udfff":1})").ok());
  CHECK_FALSE(parse(R"(["\ud800"])").ok());
  CHECK(parse(R"(["\ud83d\ude00"])").value[0].as<std::string>() == "\xF0\x9F\x98\x80");
  CHECK(parse("[\"\xED\x9F\xBF\"]").ok());  // U+D7FF, the last code point before the surrogates
}

TEST_CASE("parse_json caps nesting depth", "[json_parser]") {
  std::string ok(128, '[');
  ok.append(128, ']');
  CHECK(parse(ok).ok());
  std::string deep(129, '[');
  deep.append(129, ']');
  const ParseResult r = parse(deep);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error, "nesting deeper than 128"));
  CHECK(parse(R"({"a":{"b":1}})", 2).ok());
  CHECK_FALSE(parse(R"({"a":{"b":[]}})", 2).ok());
  CHECK(parse("1", 0).ok());
  CHECK_FALSE(parse("[]", 0).ok());
}

TEST_CASE("parse_json survives a million nested brackets", "[json_parser]") {
  const std::string deep(1000000, '[');
  const ParseResult r = parse(deep);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error == "nesting deeper than 128 (at offset 128)");  // the 129th bracket
  std::string objects;
  for (int i = 0; i < 200000; ++i) objects += "{\"a\":";
  CHECK(contains(parse(objects).error, "nesting deeper than 128"));
}

TEST_CASE("parse_json with a huge max_depth still parses iteratively", "[json_parser]") {
  std::string deep(100000, '[');
  deep.append(100000, ']');
  const ParseResult r = parse(deep, 1000000);
  REQUIRE(r.ok());
  CHECK(r.value.dump() == deep);  // dump is iterative too
  CHECK(r.value == parse(deep, 1000000).value);
}

TEST_CASE("parse_json converts integers exactly", "[json_parser]") {
  const ParseResult r = parse(
      "[0,-0,9223372036854775807,-9223372036854775808,9223372036854775808,"
      "18446744073709551615]");
  REQUIRE(r.ok());
  const auto& a = r.value.value();
  CHECK(a[0].IsUint64());
  CHECK(a[1].IsInt64());
  CHECK(a[1].GetInt64() == 0);
  CHECK_FALSE(a[1].IsDouble());
  CHECK(a[2].GetInt64() == std::numeric_limits<std::int64_t>::max());
  CHECK(a[3].GetInt64() == std::numeric_limits<std::int64_t>::min());
  CHECK(a[4].GetUint64() == 9223372036854775808ULL);  // 2^63
  CHECK_FALSE(a[4].IsInt64());
  CHECK(a[5].GetUint64() == std::numeric_limits<std::uint64_t>::max());
  CHECK_FALSE(a[5].IsDouble());
}

TEST_CASE("parse_json turns integers beyond 64 bits into doubles", "[json_parser]") {
  const ParseResult r = parse("[18446744073709551616,18446744073709551617,-9223372036854775809]");
  REQUIRE(r.ok());
  const auto& a = r.value.value();
  CHECK(a[0].IsDouble());  // 2^64
  CHECK(a[0].GetDouble() == 18446744073709551616.0);
  CHECK(a[1].IsDouble());  // 2^64 + 1, rounded
  CHECK(a[1].GetDouble() == 18446744073709551616.0);
  CHECK(a[2].IsDouble());
  CHECK(a[2].GetDouble() == -9223372036854775808.0);
}

TEST_CASE("parse_json converts doubles", "[json_parser]") {
  const ParseResult r = parse("[-0.0,0.1,1e2,1E-2,-2.5e+3,1.7976931348623157e308,4.9e-324]");
  REQUIRE(r.ok());
  const auto& a = r.value.value();
  CHECK(a[0].IsDouble());
  CHECK(std::signbit(a[0].GetDouble()));
  CHECK(a[1].GetDouble() == 0.1);
  CHECK(a[2].GetDouble() == 100.0);
  CHECK(a[3].GetDouble() == 0.01);
  CHECK(a[4].GetDouble() == -2500.0);
  CHECK(a[5].GetDouble() == std::numeric_limits<double>::max());
  CHECK(a[6].GetDouble() == std::numeric_limits<double>::denorm_min());
}

TEST_CASE("parse_json: crafted numbers are errors or zero, never UB", "[json_parser]") {
  SECTION("CVE-2024-38517 exponent underflows to zero") {
    const ParseResult r = parse("[1.000000000000000000001e-2147483639]");
    REQUIRE(r.ok());
    CHECK(r.value[0].as<double>() == 0.0);
    const ParseResult neg = parse("[-1e-400]");
    REQUIRE(neg.ok());
    CHECK(std::signbit(neg.value[0].as<double>()));
    CHECK(parse("[0.0000000000000000000000000001e-99999999999999999999]").ok());
  }
  SECTION("overflow is an error naming the number") {
    const ParseResult r = parse("[1e400]");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error == "Number too big to be stored in double: 1e400 (at offset 1)");
    CHECK(parse("[10e308]").error == "Number too big to be stored in double: 10e308 (at offset 1)");
    CHECK_FALSE(parse("1.7976931348623159e308").ok());
    CHECK_FALSE(parse("-1e400").ok());
    CHECK_FALSE(parse("10e308").ok());
    CHECK_FALSE(parse("0.0000001e400").ok());
    CHECK_FALSE(parse("1e2147483648").ok());
    CHECK_FALSE(parse(std::string(400, '9')).ok());
  }
  SECTION("not numbers in JSON") {
    for (const char* text : {"NaN", "Infinity", "-Infinity", "01", "1.", ".5", "+1", "1e", "-"}) {
      INFO(text);
      CHECK_FALSE(parse(text).ok());
    }
  }
}

TEST_CASE("parse_json results outlive the input text", "[json_parser]") {
  auto text = std::make_unique<std::string>(R"({"k":"a long string that is not a short string"})");
  ParseResult r = parse(*text);
  text.reset();
  REQUIRE(r.ok());
  CHECK(r.value.get<std::string>("k") == "a long string that is not a short string");
}

TEST_CASE("Json::parse throws InvalidResponseError", "[json_parser]") {
  CHECK_THROWS_AS(http_task::Json::parse("[1,"), http_task::InvalidResponseError);
  CHECK_THROWS_WITH(http_task::Json::parse("[1,"), "invalid JSON: Invalid value. (at offset 3)");
  CHECK(http_task::Json::parse("[1]").size() == 1);
}

namespace {

// JSON text for a string, escaping only what JSON requires: '"', '\\' and control bytes.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static const char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

// Strings are scanned 8 bytes at a time (InsituStream::copy_plain_run) and moved down in
// place once an escape has shortened them: every mix of plain bytes, escapes and UTF-8,
// at every offset from an 8-byte boundary, must come back as it went in.
TEST_CASE("parse_json returns every string as written, escapes anywhere", "[json_parser]") {
  const std::string_view pieces[] = {"a",
                                     "b",
                                     "Z",
                                     " ",
                                     "\"",
                                     "\\",
                                     "\n",
                                     std::string_view("\0", 1),
                                     "\x1f",
                                     "\xc3\xa9",
                                     "\xe2\x82\xac",
                                     "\xf0\x9f\x98\x80",
                                     "/"};
  std::uint32_t seed = 12345;
  const auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string s;
    const std::size_t length = next() % 48;
    for (std::size_t i = 0; i < length; ++i) {
      // Mostly plain letters, so that long plain runs meet escapes at every alignment.
      const std::size_t pick = next() % 40;
      s += pick < 28 ? pieces[pick % 3] : pieces[3 + pick % 10];
    }
    const std::string text =
        std::string(next() % 9, ' ') + "[" + json_string(s) + "," + json_string(s + s) + "]";
    const ParseResult r = parse(text);
    CAPTURE(text);
    REQUIRE(r.ok());
    CHECK(r.value[0].as<std::string>() == s);
    CHECK(r.value[1].as<std::string>() == s + s);
  }
}

TEST_CASE("parse_json finds a raw control byte or a missing quote at any position",
          "[json_parser]") {
  for (std::size_t at = 0; at < 40; ++at) {
    std::string plain(40, 'x');
    plain[at] = '\t';  // must be escaped inside a JSON string
    const std::string text = "[\"" + plain + "\"]";
    const ParseResult r = parse(text);
    CAPTURE(at);
    REQUIRE_FALSE(r.ok());
    CHECK(r.offset == 2 + at);
    // The same after an escape, where the scanner moves the text down as it goes.
    const std::string shifted = "[\"\\n" + plain + "\"]";
    const ParseResult s = parse(shifted);
    REQUIRE_FALSE(s.ok());
    CHECK(s.offset == 4 + at);
  }
  for (std::size_t length = 0; length < 40; ++length) {
    const std::string text = "\"" + std::string(length, 'y');  // never closed
    const ParseResult r = parse(text);
    CAPTURE(length);
    REQUIRE_FALSE(r.ok());
    CHECK(r.offset == text.size());
  }
}
