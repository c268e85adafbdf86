// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

using http_task::Json;

namespace {

using namespace std::string_view_literals;
using namespace std::string_literals;

struct Point {
  int x;
  int y;
};

struct Tagged {
  std::string tag;
};

}  // namespace

template <>
struct http_task::JsonConverter<Point> {
  static Point from_json(const Json& j) { return Point{j.get<int>("x"), j.get<int>("y")}; }
};

// A converter that is not an object: exercises path re-anchoring of as<T>() errors.
template <>
struct http_task::JsonConverter<Tagged> {
  static Tagged from_json(const Json& j) { return Tagged{"#" + j.as<std::string>()}; }
};

namespace {

template <class T>
std::string error_of(const Json& j) {
  try {
    (void)j.as<T>();
  } catch (const http_task::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("Json default is null and allocation free", "[json]") {
  const Json j;
  CHECK(j.is_null());
  CHECK(std::string(j.type_name()) == "null");
  CHECK(j.dump() == "null");
  CHECK(j.size() == 0);
  CHECK(j.value().IsNull());
  CHECK(&Json().value() == &j.value());  // one static null shared by all
  static_assert(std::is_nothrow_default_constructible_v<Json>);
  static_assert(std::is_nothrow_move_constructible_v<Json>);
}

TEST_CASE("Json: a moved-from Json is null, not dangling", "[json]") {
  Json a = Json::parse("[1,2]");
  Json b = std::move(a);
  CHECK(b.size() == 2);
  CHECK(a.is_null());  // NOLINT(bugprone-use-after-move): documented behaviour
  a = std::move(b);
  CHECK(a.size() == 2);
  CHECK(b.is_null());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("Json type predicates and type_name", "[json]") {
  const Json j = Json::parse(R"([null,true,1,"s",[],{}])");
  const char* names[] = {"null", "bool", "number", "string", "array", "object"};
  for (std::size_t i = 0; i < 6; ++i) CHECK(std::string(j[i].type_name()) == names[i]);
  CHECK(j[0].is_null());
  CHECK(j[1].is_bool());
  CHECK(j[2].is_number());
  CHECK(j[3].is_string());
  CHECK(j[4].is_array());
  CHECK(j[5].is_object());
  CHECK(j.is_array());
  CHECK_FALSE(j.is_object());
}

TEST_CASE("Json::as<bool>", "[json]") {
  CHECK(Json::parse("true").as<bool>());
  CHECK_FALSE(Json::parse("false").as<bool>());
  CHECK(error_of<bool>(Json::parse("1")) == "expected bool, got number 1");
  CHECK(error_of<bool>(Json::parse("null")) == "expected bool, got null");
}

TEST_CASE("Json::as<integer> is exact and range checked", "[json]") {
  CHECK(Json::parse("100").as<int>() == 100);
  CHECK(Json::parse("-128").as<std::int8_t>() == -128);
  CHECK(Json::parse("255").as<std::uint8_t>() == 255);
  CHECK(Json::parse("-32768").as<short>() == -32768);
  CHECK(Json::parse("65535").as<unsigned short>() == 65535);
  CHECK(Json::parse("4294967295").as<std::uint32_t>() == 4294967295u);
  CHECK(Json::parse("-9223372036854775808").as<std::int64_t>() ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(Json::parse("18446744073709551615").as<std::uint64_t>() ==
        std::numeric_limits<std::uint64_t>::max());
  CHECK(Json::parse("7").as<long long>() == 7);
  CHECK(Json::parse("7").as<unsigned long>() == 7);
  CHECK(Json::parse("65").as<char>() == 'A');

  CHECK(error_of<std::int8_t>(Json::parse("128")) ==
        "expected integer in range [-128, 127], got number 128");
  CHECK(error_of<std::uint8_t>(Json::parse("-1")) ==
        "expected integer in range [0, 255], got number -1");
  CHECK(error_of<unsigned>(Json::parse("-1")) ==
        "expected integer in range [0, 4294967295], got number -1");
  CHECK(error_of<std::int64_t>(Json::parse("9223372036854775808")) ==
        "expected integer in range [-9223372036854775808, 9223372036854775807], got number "
        "9223372036854775808");
  CHECK(error_of<int>(Json::parse(R"("abc")")) == R"(expected integer, got string "abc")");
  CHECK(error_of<int>(Json::parse("true")) == "expected integer, got bool true");
  CHECK(error_of<int>(Json::parse("[1]")) == "expected integer, got array of 1 element");
  CHECK(error_of<int>(Json::parse(R"({"a":1,"b":2})")) ==
        "expected integer, got object of 2 members");
}

TEST_CASE("Json::as<integer> accepts whole doubles in range only", "[json]") {
  CHECK(Json::parse("3.0").as<int>() == 3);
  CHECK(Json::parse("1e2").as<std::uint8_t>() == 100);
  CHECK(Json::parse("-0.0").as<unsigned>() == 0);
  CHECK(Json::parse("9.2233720368547748e18").as<std::int64_t>() == 9223372036854774784LL);
  CHECK(Json::parse("18446744073709549568.0").as<std::uint64_t>() == 18446744073709549568ULL);
  CHECK(error_of<int>(Json::parse("1.5")) == "expected integer, got number 1.5");
  CHECK(error_of<std::int64_t>(Json::parse("9223372036854775808.0")) ==
        "expected integer in range [-9223372036854775808, 9223372036854775807], got number "
        "9223372036854776000.0");
  CHECK_THROWS_AS(Json::parse("18446744073709551616").as<std::uint64_t>(), http_task::Error);
  CHECK_THROWS_AS(Json::parse("-1e300").as<std::int64_t>(), http_task::Error);
  CHECK_THROWS_AS(Json::parse("1e300").as<std::uint64_t>(), http_task::Error);
  CHECK_THROWS_AS(Json::parse("128.0").as<std::int8_t>(), http_task::Error);
}

TEST_CASE("Json::as<floating point>", "[json]") {
  CHECK(Json::parse("1.5").as<double>() == 1.5);
  CHECK(Json::parse("3").as<double>() == 3.0);
  CHECK(Json::parse("-9223372036854775808").as<double>() == -9223372036854775808.0);
  CHECK(Json::parse("0.25").as<float>() == 0.25f);
  CHECK(Json::parse("1e300").as<long double>() > 0);
  CHECK(error_of<double>(Json::parse(R"("1.5")")) == R"(expected number, got string "1.5")");
  CHECK(error_of<float>(Json::parse("1e300")) ==
        "expected number in float range, got number 1e300");
}

TEST_CASE("Json::as<std::string> keeps NUL bytes", "[json]") {
  CHECK(Json::parse(R"("hello")").as<std::string>() == "hello");
  CHECK(Json::parse(R"("a\u0000b")").as<std::string>() == "a\0b"sv);
  CHECK(Json::parse(R"("")").as<std::string>().empty());
  CHECK(error_of<std::string>(Json::parse("12")) == "expected string, got number 12");
}

TEST_CASE("Json error previews are short and log safe", "[json]") {
  CHECK(error_of<int>(Json::parse(R"("0123456789012345678901234567890123456789")")) ==
        R"(expected integer, got string "01234567890123456789012345678901"...)");
  CHECK(error_of<int>(Json::parse(R"("a\"\n\u0000")")) ==
        R"(expected integer, got string "a\"\x0a\x00")");
}

TEST_CASE("Json::as<std::vector<T>> and nested paths", "[json]") {
  CHECK(Json::parse("[1,2,3]").as<std::vector<int>>() == std::vector<int>{1, 2, 3});
  CHECK(Json::parse("[]").as<std::vector<int>>().empty());
  CHECK(Json::parse("[true,false]").as<std::vector<bool>>() == std::vector<bool>{true, false});
  CHECK(Json::parse("[[1],[2,3]]").as<std::vector<std::vector<int>>>() ==
        std::vector<std::vector<int>>{{1}, {2, 3}});
  CHECK(error_of<std::vector<int>>(Json::parse("[1,2,\"x\"]")) ==
        R"([2]: expected integer, got string "x")");
  CHECK(error_of<std::vector<int>>(Json::parse("{}")) == "expected array, got object of 0 members");
  CHECK(error_of<std::vector<std::vector<int>>>(Json::parse("[[1],[2,null]]")) ==
        "[1][1]: expected integer, got null");
}

TEST_CASE("Json::as<std::map<std::string,T>>", "[json]") {
  const auto m = Json::parse(R"({"a":1,"b":2})").as<std::map<std::string, int>>();
  CHECK(m == std::map<std::string, int>{{"a", 1}, {"b", 2}});
  // A repeated key: the last wins, as in Python's json.
  CHECK(Json::parse(R"({"a":1,"a":2})").as<std::map<std::string, int>>().at("a") == 2);
  CHECK(Json::parse(R"({"a\u0000b":1})").as<std::map<std::string, int>>().count("a\0b"s) == 1);
  CHECK(error_of<std::map<std::string, int>>(Json::parse("[]")) ==
        "expected object, got array of 0 elements");
  CHECK(error_of<std::vector<std::map<std::string, int>>>(
            Json::parse(R"([{},{"x":1},{"name":"abc"}])")) ==
        R"([2].name: expected integer, got string "abc")");
  CHECK(error_of<std::map<std::string, int>>(Json::parse(R"({"a b":true})")) ==
        R"(["a b"]: expected integer, got bool true)");
  CHECK(error_of<std::map<std::string, std::vector<int>>>(Json::parse(R"({"k":[0,"1"]})")) ==
        R"(k[1]: expected integer, got string "1")");
}

TEST_CASE("Json::as<std::optional<T>>", "[json]") {
  CHECK_FALSE(Json::parse("null").as<std::optional<int>>().has_value());
  CHECK(Json::parse("5").as<std::optional<int>>() == 5);
  CHECK(Json::parse("[1,null]").as<std::vector<std::optional<int>>>() ==
        std::vector<std::optional<int>>{1, std::nullopt});
  CHECK(error_of<std::optional<int>>(Json::parse("\"5\"")) ==
        R"(expected integer, got string "5")");
}

TEST_CASE("Json::as<Json> aliases without copying", "[json]") {
  const Json root = Json::parse(R"({"a":[1,2]})");
  const Json same = root.as<Json>();
  CHECK(&same.value() == &root.value());
  const auto parts = root.find("a")->as<std::vector<Json>>();
  REQUIRE(parts.size() == 2);
  CHECK(&parts[1].value() == &root.value()["a"][1]);
}

TEST_CASE("Json sub-values outlive their parent", "[json]") {
  Json element;
  {
    const Json root = Json::parse(R"({"list":["a string long enough to be allocated"]})");
    element = (*root.find("list"))[0];
  }
  CHECK(element.as<std::string>() == "a string long enough to be allocated");
}

TEST_CASE("JsonConverter customization", "[json]") {
  const Json j = Json::parse(R"([{"x":1,"y":2},{"x":3,"y":4}])");
  const auto points = j.as<std::vector<Point>>();
  REQUIRE(points.size() == 2);
  CHECK(points[1].x == 3);
  CHECK(points[1].y == 4);
  CHECK(j[0].as<Point>().y == 2);
  CHECK(Json::parse(R"({"p":{"x":5,"y":6}})").get<Point>("p").x == 5);

  SECTION("errors inside a converter carry the full path") {
    CHECK(error_of<std::vector<Point>>(Json::parse(R"([{"x":1,"y":2},{"x":1,"y":"2"}])")) ==
          R"([1].y: expected integer, got string "2")");
    CHECK(error_of<std::vector<Point>>(Json::parse(R"([{"x":1}])")) == "[0].y: missing key");
    CHECK(error_of<std::vector<Point>>(Json::parse("[[]]")) == "[0]: expected object, got array");
    CHECK(error_of<std::map<std::string, Tagged>>(Json::parse(R"({"t":1})")) ==
          "t: expected string, got number 1");
    CHECK(error_of<Point>(Json::parse(R"({"x":"1"})")) == R"(x: expected integer, got string "1")");
  }
  SECTION("a converter can also use as<T>()") {
    CHECK(Json::parse(R"(["a","b"])").as<std::vector<Tagged>>()[1].tag == "#b");
  }
}

TEST_CASE("Json::get<T>(key)", "[json]") {
  const Json j = Json::parse(R"({"a":1,"n":null,"a":2})");
  CHECK(j.get<int>("a") == 2);  // last duplicate wins
  CHECK_FALSE(j.get<std::optional<int>>("missing").has_value());
  CHECK_FALSE(j.get<std::optional<int>>("n").has_value());
  CHECK_THROWS_WITH(j.get<int>("missing"), "missing: missing key");
  CHECK_THROWS_WITH(j.get<int>("n"), "n: expected integer, got null");
  CHECK_THROWS_WITH(Json::parse("[]").get<int>("a"), "expected object, got array");
}

TEST_CASE("Json::operator[] and size()", "[json]") {
  const Json j = Json::parse("[10,20,30]");
  CHECK(j.size() == 3);
  CHECK(j[2].as<int>() == 30);
  CHECK_THROWS_AS(j[3], http_task::Error);
  CHECK_THROWS_WITH(j[3], "[3]: index out of range (array of 3)");
  CHECK_THROWS_WITH(Json::parse("{}")[0], "expected array, got object");
  CHECK(Json::parse(R"({"a":1,"b":2})").size() == 2);
  CHECK(Json::parse(R"("abc")").size() == 0);
}

TEST_CASE("Json::find", "[json]") {
  const Json j = Json::parse(R"({"a":1,"a\u0000":2,"":3,"d":4,"d":5})");
  CHECK(j.find("a")->as<int>() == 1);
  CHECK(j.find("a\0"sv)->as<int>() == 2);
  CHECK(j.find("")->as<int>() == 3);
  CHECK(j.find("d")->as<int>() == 5);
  CHECK_FALSE(j.find("b").has_value());
  CHECK_FALSE(Json::parse("[1]").find("a").has_value());
  CHECK_FALSE(Json().find("a").has_value());
}

TEST_CASE("Json::dump is compact JSON", "[json]") {
  const std::string text = R"({"a":[1,-2,3.25,true,false,null],"b":{"c":"d\u0000e"},"e":[]})";
  CHECK(Json::parse(text).dump() == text);
  CHECK(Json::parse(" { \"a\" : [ 1 , 2 ] } ").dump() == R"({"a":[1,2]})");
  CHECK(Json::parse("18446744073709551615").dump() == "18446744073709551615");
  CHECK(Json::parse("-9223372036854775808").dump() == "-9223372036854775808");
  CHECK(Json::parse("1e300").dump() == "1e300");
  CHECK(Json::parse("-0.0").dump() == "-0.0");
  CHECK(Json::parse(R"("\u00e9\n")").dump() == "\"\xC3\xA9\\n\"");
}

TEST_CASE("Json::dump of a hand-built non-finite double is null", "[json]") {
  auto value = std::make_shared<rapidjson::Value>(std::numeric_limits<double>::infinity());
  CHECK(Json(value).dump() == "null");
  CHECK(Json(std::shared_ptr<const rapidjson::Value>()).is_null());
}

TEST_CASE("Json equality is deep", "[json]") {
  CHECK(Json::parse(R"({"a":[1,2],"b":null})") == Json::parse(R"({"b":null,"a":[1,2]})"));
  CHECK(Json::parse("1") == Json::parse("1.0"));
  CHECK(Json::parse("-1") == Json::parse("-1"));
  CHECK(Json::parse("18446744073709551615") == Json::parse("18446744073709551615"));
  CHECK(Json::parse("-1") != Json::parse("18446744073709551615"));
  CHECK(Json::parse(R"("a\u0000b")") != Json::parse(R"("a\u0000c")"));
  CHECK(Json::parse("[1,2]") != Json::parse("[1,2,3]"));
  CHECK(Json::parse(R"({"a":1})") != Json::parse(R"({"b":1})"));
  CHECK(Json::parse("null") == Json());
  CHECK(Json::parse("true") != Json::parse("false"));
  CHECK(Json::parse("0") != Json::parse("false"));
  CHECK(Json::parse(R"({"a":1,"a":2})") == Json::parse(R"({"a":2,"a":2})"));
}

TEST_CASE("Json is safe to read from many threads", "[json]") {
  const Json shared = Json::parse(R"({"v":[1,2,3,4,5,6,7,8,9,10]})");
  std::vector<std::thread> threads;
  std::vector<long> sums(8, 0);
  for (std::size_t t = 0; t < sums.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        // The copy is the point: reference counts change on many threads at once.
        const Json copy = shared;  // NOLINT(performance-unnecessary-copy-initialization)
        for (int v : copy.get<std::vector<int>>("v")) sums[t] += v;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (long sum : sums) CHECK(sum == 55000);
}
