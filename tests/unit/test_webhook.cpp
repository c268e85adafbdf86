// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/decode/answer_decoder.hpp>
#include <http_task/error.hpp>
#include <http_task/json.hpp>
#include <http_task/webhook.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

using http_task::Json;
using http_task::Params;
namespace webhook = http_task::webhook;

namespace {

using namespace std::string_literals;

// What http_task's own decoder makes of a body: the server and client halves must agree.
http_task::detail::Outcome decode(const std::string& body) {
  return http_task::detail::decode_answer(200, body, http_task::detail::DecodeLimits{});
}

Json retval_of(const std::string& body) {
  auto outcome = decode(body);
  REQUIRE(outcome.ok());
  return outcome.value;
}

std::string reason_of(const std::string& body) {
  auto outcome = decode(body);
  REQUIRE_FALSE(outcome.ok());
  try {
    std::rethrow_exception(outcome.error);
  } catch (const http_task::RemoteExecuteError& e) {
    return e.reason();
  }
  FAIL("not a RemoteExecuteError");
  return {};
}

}  // namespace

TEST_CASE("webhook: success and failure bodies have the protocol's exact shape", "[webhook]") {
  CHECK(webhook::success_body(100) == R"({"status":"success","retval":100})");
  CHECK(webhook::success_body(nullptr) == R"({"status":"success","retval":null})");
  CHECK(webhook::failure_body("Invalid moon alignment.") ==
        R"({"status":"failure","reason":"Invalid moon alignment."})");
  CHECK(webhook::content_type == "application/json");
}

TEST_CASE("webhook: every kind of retval decodes to the value given", "[webhook]") {
  CHECK(retval_of(webhook::success_body(-123456789000LL)).as<long long>() == -123456789000LL);
  CHECK(retval_of(webhook::success_body(std::numeric_limits<std::uint64_t>::max()))
            .as<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
  CHECK(retval_of(webhook::success_body(2.5)).as<double>() == 2.5);
  CHECK(retval_of(webhook::success_body(1e300)).as<double>() == 1e300);
  CHECK(retval_of(webhook::success_body(true)).as<bool>());
  CHECK(retval_of(webhook::success_body(false)).as<bool>() == false);
  CHECK(retval_of(webhook::success_body("text")).as<std::string>() == "text");
  CHECK(retval_of(webhook::success_body("text"s)).as<std::string>() == "text");
  CHECK(retval_of(webhook::success_body(std::string_view("view"))).as<std::string>() == "view");
  CHECK(retval_of(webhook::success_body(nullptr)).is_null());

  const Json array = retval_of(webhook::success_body(webhook::Value::array({1, "two", nullptr})));
  CHECK(array == Json::parse(R"([1,"two",null])"));
  CHECK(retval_of(webhook::success_body(webhook::Value::array({}))) == Json::parse("[]"));

  const Json object = retval_of(webhook::success_body(
      webhook::Value::object({{"x", 10}, {"nested", webhook::Value::array({true})}})));
  CHECK(object == Json::parse(R"({"x":10,"nested":[true]})"));

  const Json parsed = Json::parse(R"({"a":[1,2,{"b":"\u00e9"}]})");
  CHECK(retval_of(webhook::success_body(parsed)) == parsed);
  CHECK(retval_of(webhook::success_body(webhook::Value::raw("[1,2,3]"))) == Json::parse("[1,2,3]"));
}

TEST_CASE("webhook: numbers without a JSON spelling are refused", "[webhook]") {
  CHECK_THROWS_AS(webhook::Value(std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(webhook::Value(std::numeric_limits<double>::infinity()), std::invalid_argument);
  CHECK_THROWS_AS(webhook::Value(-std::numeric_limits<float>::infinity()), std::invalid_argument);
}

TEST_CASE("webhook: strings are escaped so that any text round-trips", "[webhook]") {
  CHECK(webhook::json_string("a\"b\\c") == R"("a\"b\\c")");
  CHECK(webhook::json_string("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(webhook::json_string("\x01\x1f\x7f"s) == R"("\u0001\u001f\u007f")");
  CHECK(webhook::json_string("\0"s) == R"("\u0000")");
  // Non-ASCII stays UTF-8 (JSON text is UTF-8); '/' needs no escape.
  CHECK(webhook::json_string("é☾🌙/") == "\"é☾🌙/\"");

  std::string every_ascii;
  for (int c = 0; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  const std::string texts[] = {every_ascii, "Invalid moon alignment: ☾ ≠ ☀ (🌙)", "&=+% #", "",
                               "\xF4\x8F\xBF\xBF" /* U+10FFFF */};
  for (const auto& text : texts) {
    CHECK(retval_of(webhook::success_body(text)).as<std::string>() == text);
    CHECK(reason_of(webhook::failure_body(text)) == text);
  }
}

TEST_CASE("webhook: bytes that are not UTF-8 become U+FFFD, and the JSON stays valid",
          "[webhook]") {
  const std::string replacement = "\xEF\xBF\xBD";
  CHECK(webhook::json_string("a\xFF"
                             "b") == "\"a" + replacement + "b\"");
  // Truncated sequence at the end, a lone continuation byte, an overlong '/', a surrogate.
  CHECK(webhook::json_string("\xE2\x98") == "\"" + replacement + replacement + "\"");
  CHECK(webhook::json_string("\x80") == "\"" + replacement + "\"");
  CHECK(webhook::json_string("\xC0\xAF") == "\"" + replacement + replacement + "\"");
  CHECK(webhook::json_string("\xED\xA0\x80") ==
        "\"" + replacement + replacement + replacement + "\"");
  CHECK(retval_of(webhook::success_body("x\xF5y")).as<std::string>() == "x" + replacement + "y");
}

TEST_CASE("webhook: from_params writes each name once, its last value winning", "[webhook]") {
  Params args;
  args.add("b", "1").add("a", "x y").add("b", "2").add("é", "☾");
  CHECK(webhook::Value::from_params(args).json() == R"({"b":"2","a":"x y","é":"☾"})");
  CHECK(webhook::Value::from_params(Params()).json() == "{}");
}

TEST_CASE("webhook: parse_form decodes what http_task's form encoding writes", "[webhook]") {
  const Params sent{{"x", 10}, {"text", "a&b=c+d%e f#g"}, {"unicode", "é🌙"}, {"", "empty name"}};
  CHECK(webhook::parse_form(http_task::detail::form_encode(sent)) == sent);

  const Params form = webhook::parse_form("a=1&&b&c=&a=2&d=%zz%4");
  REQUIRE(form.size() == 5);
  CHECK(form == Params{{"a", "1"}, {"b", ""}, {"c", ""}, {"a", "2"}, {"d", "%zz%4"}});
  CHECK(webhook::parse_form("").empty());
  CHECK(webhook::parse_form("k=a=b") == Params{{"k", "a=b"}});
}

TEST_CASE("webhook: parse_query takes the query of a target or URL", "[webhook]") {
  CHECK(webhook::parse_query("/multiply?x=10&y=10") == Params{{"x", "10"}, {"y", "10"}});
  CHECK(webhook::parse_query("http://127.0.0.1:8000/m?x=1#frag?y=2") == Params{{"x", "1"}});
  CHECK(webhook::parse_query("/multiply").empty());
  CHECK(webhook::parse_query("/multiply#x?y=1").empty());
  CHECK(webhook::parse_query("/m?").empty());
}

TEST_CASE("webhook: call_arguments reads the query for GET, the body otherwise", "[webhook]") {
  CHECK(webhook::call_arguments("GET", "/m?x=1", "x=2") == Params{{"x", "1"}});
  CHECK(webhook::call_arguments("HEAD", "/m?x=1", "") == Params{{"x", "1"}});
  CHECK(webhook::call_arguments("POST", "/m?x=1", "x=2&y=3") == Params{{"x", "2"}, {"y", "3"}});
  CHECK(webhook::call_arguments("POST", "/m?x=1", "").empty());
}
