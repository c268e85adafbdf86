// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/decode/answer_decoder.hpp>

#include "support/checks.hpp"

#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

using http_task::detail::decode_answer;
using http_task::detail::decode_answer_in_place;
using http_task::detail::DecodeLimits;
using http_task::detail::Outcome;

namespace {

using namespace std::string_view_literals;

// The error's type and words.
std::string described(const Outcome& outcome) {
  try {
    std::rethrow_exception(outcome.error);
  } catch (const std::exception& e) {
    return std::string(typeid(e).name()) + ": " + e.what();
  }
}

// Every body is decoded twice: from a view of it, and in place in a string of its own,
// as the loop does with a large answer. Both must give the same outcome; the tests then
// check the one decoded in place, whose string is gone by then.
Outcome decode(std::string_view body, long status = 200, DecodeLimits limits = {}) {
  const Outcome viewed = decode_answer(status, body, limits);
  std::string own(body);
  Outcome in_place = decode_answer_in_place(status, own, limits);
  REQUIRE(in_place.ok() == viewed.ok());
  if (viewed.ok())
    CHECK(in_place.value.dump() == viewed.value.dump());
  else
    CHECK(described(in_place) == described(viewed));
  return in_place;
}

// Rethrows the outcome's error as E and returns it; fails the test for any other outcome.
template <class E>
E error_as(const Outcome& outcome) {
  REQUIRE_FALSE(outcome.ok());
  try {
    std::rethrow_exception(outcome.error);
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    FAIL("unexpected exception type: " << e.what());
  }
  throw std::logic_error("unreachable");
}

std::string message_of(const Outcome& outcome) {
  REQUIRE_FALSE(outcome.ok());
  try {
    std::rethrow_exception(outcome.error);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

using http_task_test::contains;

}  // namespace

TEST_CASE("decode_answer: success returns the retval", "[answer_decoder]") {
  const Outcome o = decode(R"({"status": "success", "retval": 100})");
  REQUIRE(o.ok());
  CHECK(o.value.as<int>() == 100);
  const Outcome nested = decode(R"({"retval": {"a": [1, "x"]}, "status": "success", "extra": 1})");
  REQUIRE(nested.ok());
  CHECK(nested.value.dump() == R"({"a":[1,"x"]})");
}

TEST_CASE("decode_answer: the retval aliases the parsed answer", "[answer_decoder]") {
  const Outcome o = decode(R"({"status":"success","retval":"a string too long to be inline"})");
  REQUIRE(o.ok());
  CHECK(o.value.as<std::string>() == "a string too long to be inline");
  CHECK(o.value.is_string());
}

TEST_CASE("decode_answer: success with a null retval is a null Json", "[answer_decoder]") {
  const Outcome o = decode(R"({"status":"success","retval":null})");
  REQUIRE(o.ok());
  CHECK(o.value.is_null());
}

TEST_CASE("decode_answer: success without retval", "[answer_decoder]") {
  const auto e = error_as<http_task::InvalidResponseError>(decode(R"({"status":"success"})"));
  CHECK(std::string(e.what()) == R"(webhook answer has status "success" but no "retval" key)");
}

TEST_CASE("decode_answer: failure is RemoteExecuteError with the reason", "[answer_decoder]") {
  const auto e = error_as<http_task::RemoteExecuteError>(
      decode(R"({"status": "failure", "reason": "Invalid moon alignment."})"));
  CHECK(e.reason() == "Invalid moon alignment.");
  CHECK(std::string(e.what()) == "Invalid moon alignment.");
}

TEST_CASE("decode_answer: failure reasons that are not strings", "[answer_decoder]") {
  CHECK(
      error_as<http_task::RemoteExecuteError>(decode(R"({"status":"failure"})")).reason().empty());
  CHECK(error_as<http_task::RemoteExecuteError>(decode(R"({"status":"failure","reason":null})"))
            .reason()
            .empty());
  CHECK(error_as<http_task::RemoteExecuteError>(
            decode(R"({"status":"failure","reason":{"code": 3, "msg": ["a"]}})"))
            .reason() == R"({"code":3,"msg":["a"]})");
  CHECK(error_as<http_task::RemoteExecuteError>(decode(R"({"status":"failure","reason":42})"))
            .reason() == "42");
  CHECK(
      error_as<http_task::RemoteExecuteError>(decode(R"({"status":"failure","reason":"a\u0000b"})"))
          .reason() == "a\0b"sv);
}

TEST_CASE("decode_answer: any other status is UnknownStatusError", "[answer_decoder]") {
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":"u.u.u.u"})")).status() ==
        "u.u.u.u");
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":"SUCCESS","retval":1})"))
            .status() == "SUCCESS");
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":"Failure"})")).status() ==
        "Failure");
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":"success "})")).status() ==
        "success ");
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":"success\u0000"})")).status() ==
        "success\0"sv);
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":""})")).status().empty());
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":1,"retval":1})")).status() ==
        "1");
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":null})")).status() == "null");
  CHECK(error_as<http_task::UnknownStatusError>(decode(R"({"status":["success"]})")).status() ==
        R"(["success"])");
  // UnknownStatusError is an InvalidResponseError.
  error_as<http_task::InvalidResponseError>(decode(R"({"status":"x"})"));
}

TEST_CASE("decode_answer: empty and whitespace-only bodies", "[answer_decoder]") {
  CHECK(std::string(error_as<http_task::InvalidResponseError>(decode("")).what()) ==
        "empty response body");
  CHECK(contains(error_as<http_task::InvalidResponseError>(decode(" \r\n\t ")).what(),
                 "empty response body"));
  CHECK(contains(error_as<http_task::InvalidResponseError>(decode("", 204)).what(), "empty"));
}

TEST_CASE("decode_answer: not JSON gives the parser's message and offset", "[answer_decoder]") {
  const auto e = error_as<http_task::InvalidResponseError>(decode("{'#{:'''"));
  CHECK(std::string(e.what()) ==
        R"(webhook answer is not valid JSON: Missing a name for object member. (at offset 1); )"
        R"(body begins "{'#{:'''")");
  CHECK(contains(message_of(decode("<html><body>It works!</body></html>")), "Invalid value."));
  CHECK(contains(message_of(decode("<html>")), R"(body begins "<html>")"));
}

TEST_CASE("decode_answer: JSON that is not an object", "[answer_decoder]") {
  const char* const cases[][2] = {{"[1,2]", "array"},
                                  {R"("success")", "string"},
                                  {"42", "number"},
                                  {"null", "null"},
                                  {"true", "bool"}};
  for (const auto& c : cases) {
    INFO(c[0]);
    const auto e = error_as<http_task::InvalidResponseError>(decode(c[0]));
    CHECK(contains(e.what(),
                   std::string("webhook answer is a JSON ") + c[1] + ", expected an object"));
  }
}

TEST_CASE("decode_answer: object without status", "[answer_decoder]") {
  const auto e = error_as<http_task::InvalidResponseError>(decode(R"({"retval":1})"));
  CHECK(contains(e.what(), R"(webhook answer has no "status" key)"));
  CHECK_FALSE(decode("{}").ok());
  CHECK_FALSE(decode(R"({"Status":"success","retval":1})").ok());
}

TEST_CASE("decode_answer: trailing garbage", "[answer_decoder]") {
  const Outcome o = decode(R"({"status":"success","retval":1} {"b":2})");
  CHECK(contains(error_as<http_task::InvalidResponseError>(o).what(),
                 "must not be followed by other values"));
  CHECK_FALSE(decode("{\"status\":\"success\",\"retval\":1}\0"sv).ok());
  CHECK_FALSE(decode(R"({"status":"success","retval":1}x)").ok());
  CHECK(decode("{\"status\":\"success\",\"retval\":1}\r\n").ok());
}

TEST_CASE("decode_answer: duplicate protocol keys are ambiguous", "[answer_decoder]") {
  for (const char* body : {R"({"status":"failure","status":"success","retval":1})",
                           R"({"status":"success","retval":1,"retval":2})",
                           R"({"status":"failure","reason":"a","reason":"b"})"}) {
    INFO(body);
    const auto e = error_as<http_task::InvalidResponseError>(decode(body));
    CHECK(contains(e.what(), "more than once (ambiguous)"));
  }
  CHECK(decode(R"({"status":"success","retval":1,"x":1,"x":2})").ok());
  // Only the top level matters.
  CHECK(decode(R"({"status":"success","retval":{"status":1,"status":2}})").ok());
}

TEST_CASE("decode_answer: HTTP status not 2xx is HttpError", "[answer_decoder]") {
  SECTION("plain body") {
    const auto e = error_as<http_task::HttpError>(decode("<h1>Not Found</h1>", 404));
    CHECK(e.status_code() == 404);
    CHECK(e.body() == "<h1>Not Found</h1>");
    CHECK(e.reason().empty());
    CHECK(std::string(e.what()) == "HTTP status 404");
  }
  SECTION("a failure answer in the body keeps its reason") {
    const auto e = error_as<http_task::HttpError>(
        decode(R"({"status":"failure","reason":"database down"})", 500));
    CHECK(e.status_code() == 500);
    CHECK(e.reason() == "database down");
    CHECK(std::string(e.what()) == "HTTP status 500: database down");
  }
  SECTION("a success answer with an error status is still an HttpError") {
    const auto e =
        error_as<http_task::HttpError>(decode(R"({"status":"success","retval":1})", 503));
    CHECK(e.reason().empty());
  }
  SECTION("failure reason that is not a string") {
    CHECK(error_as<http_task::HttpError>(decode(R"({"status":"failure","reason":[1]})", 500))
              .reason() == "[1]");
  }
  SECTION("the body is capped") {
    const std::string big(100000, 'x');
    DecodeLimits limits;
    limits.max_error_body = 1000;
    const auto e = error_as<http_task::HttpError>(decode(big, 502, limits));
    CHECK(e.body().size() == 1000);
  }
  SECTION("the cap does not split a UTF-8 sequence") {
    DecodeLimits limits;
    limits.max_error_body = 4;
    CHECK(error_as<http_task::HttpError>(decode("abc\xC3\xA9xyz", 500, limits)).body() == "abc");
    CHECK(error_as<http_task::HttpError>(decode("\x80\x80\x80\x80\x80\x80", 500, limits))
              .body()
              .size() == 4);
  }
  SECTION("empty body, 1xx and 3xx") {
    CHECK(error_as<http_task::HttpError>(decode("", 500)).body().empty());
    CHECK(error_as<http_task::HttpError>(decode("", 302)).status_code() == 302);
    CHECK(error_as<http_task::HttpError>(decode("", 199)).status_code() == 199);
    CHECK(error_as<http_task::HttpError>(decode("", 300)).status_code() == 300);
  }
  SECTION("every 2xx is decoded") {
    CHECK(decode(R"({"status":"success","retval":1})", 201).ok());
    CHECK(decode(R"({"status":"success","retval":1})", 299).ok());
  }
}

TEST_CASE("decode_answer: hostile bodies give clean errors", "[answer_decoder]") {
  SECTION("a million nested brackets") {
    const std::string deep = R"({"status":"success","retval":)" + std::string(1000000, '[');
    CHECK(contains(message_of(decode(deep)), "nesting deeper than 128"));
    CHECK(contains(message_of(decode(std::string(1000000, '['))), "nesting deeper than 128"));
  }
  SECTION("nesting limit applies to the whole answer") {
    DecodeLimits limits;
    limits.max_depth = 3;
    CHECK(decode(R"({"status":"success","retval":[[1]]})", 200, limits).ok());
    CHECK_FALSE(decode(R"({"status":"success","retval":[[[1]]]})", 200, limits).ok());
  }
  SECTION("crafted numbers") {
    const Outcome cve =
        decode(R"({"status":"success","retval":[1.000000000000000000001e-2147483639]})");
    REQUIRE(cve.ok());
    CHECK(cve.value[0].as<double>() == 0.0);
    CHECK(contains(message_of(decode(R"({"status":"success","retval":1e400})")),
                   "Number too big to be stored in double: 1e400"));
    // Short enough to live inside its std::string: taking it moves the bytes.
    CHECK(contains(message_of(decode("2e2143 ")), "Number too big to be stored in double: 2e2143"));
    const Outcome big = decode(R"({"status":"success","retval":[-0,9223372036854775808,)"
                               R"(18446744073709551616,18446744073709551617]})");
    REQUIRE(big.ok());
    CHECK(big.value[0].as<int>() == 0);
    CHECK(big.value[1].as<std::uint64_t>() == 9223372036854775808ULL);
    CHECK(big.value[2].is_number());
    CHECK(big.value[3].as<double>() == 18446744073709551616.0);
  }
  SECTION("invalid UTF-8, including a lone lead byte as the last byte") {
    CHECK_FALSE(decode("{\"status\":\"success\",\"retval\":\"\xFF\"}").ok());
    CHECK_FALSE(decode("{\"status\":\"success\",\"retval\":\"\xC3").ok());
    CHECK(contains(message_of(decode("{\"status\":\"\xC3")), "Invalid encoding in string."));
  }
  SECTION("NUL inside strings") {
    const Outcome o = decode(R"({"status":"success","retval":"a\u0000b"})");
    REQUIRE(o.ok());
    CHECK(o.value.as<std::string>() == "a\0b"sv);
    CHECK(o.value.dump() == R"("a\u0000b")");
    CHECK_FALSE(decode("{\"status\":\"success\",\"retval\":\"a\0b\"}"sv).ok());
  }
  SECTION("two objects") { CHECK_FALSE(decode(R"({"a":1} {"b":2})").ok()); }
}

TEST_CASE("decode_answer: the result outlives the body", "[answer_decoder]") {
  auto body = std::make_unique<std::string>(R"({"status":"success","retval":["kept after free"]})");
  const Outcome o = decode(*body);
  body.reset();
  REQUIRE(o.ok());
  CHECK(o.value[0].as<std::string>() == "kept after free");
}

TEST_CASE("decode_answer_in_place keeps the body's buffer only when it parses there",
          "[answer_decoder]") {
  const std::string answer = R"({"status":"success","retval":"a\"b"})";
  std::string body = answer;
  const Outcome taken = decode_answer_in_place(200, body, {});
  REQUIRE(taken.ok());
  CHECK(body.empty());
  CHECK(taken.value.as<std::string>() == "a\"b");

  // Invalid UTF-8 is parsed by RapidJSON's own checks from the text as it is, an error
  // status is not parsed as an answer: the body stays the caller's.
  for (long status : {200L, 500L}) {
    std::string kept = status == 200 ? std::string("{\"status\":\"\xFF\"}") : answer;
    const std::string before = kept;
    CHECK_FALSE(decode_answer_in_place(status, kept, {}).ok());
    CHECK(kept == before);
  }
}

TEST_CASE("decode_answer is noexcept", "[answer_decoder]") {
  STATIC_REQUIRE(noexcept(decode_answer(200, std::string_view(), DecodeLimits{})));
  std::string body;
  STATIC_REQUIRE(noexcept(decode_answer_in_place(200, body, DecodeLimits{})));
}
