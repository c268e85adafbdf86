// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/call/form_encoding.hpp>

#include <string>

using namespace http_task::detail;
using http_task::Params;

TEST_CASE("form encoding matches HTML forms and Python's urlencode", "[encoding]") {
  CHECK(form_encode(Params{{"x", 10}, {"y", 10}}) == "x=10&y=10");
  CHECK(form_encode(Params{{"q", "a b&c=d+e%f#g"}}) == "q=a+b%26c%3Dd%2Be%25f%23g");
  CHECK(form_encode(Params{{"k", "-._~*/?"}}) == "k=-._~%2A%2F%3F");
  CHECK(form_encode(Params{{"name", "Zoë ☃"}}) == "name=Zo%C3%AB+%E2%98%83");
  CHECK(form_encode(Params{{"a b", ""}}) == "a+b=");
  CHECK(form_encode(Params{{"nul", std::string("a\0b", 3)}}) == "nul=a%00b");
  CHECK(form_encode(Params{}).empty());
}

TEST_CASE("form decoding inverts encoding and is lenient on stray percents", "[encoding]") {
  CHECK(form_decode("a+b%26c") == "a b&c");
  CHECK(form_decode("%e2%98%83") == "☃");
  CHECK(form_decode("100%") == "100%");
  CHECK(form_decode("%zz%4") == "%zz%4");
  for (const std::string& s :
       std::initializer_list<std::string>{"x y", "&=+%#?", "Zoë", std::string("\0\xff", 2)}) {
    std::string enc;
    append_form_encoded(enc, s);
    CHECK(form_decode(enc) == s);
  }
}

TEST_CASE("UTF-8 validation is strict", "[encoding]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("Zoë ☃ \xF0\x9F\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xC3"));              // truncated
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK_FALSE(is_valid_utf8("ok\x80"));
}
