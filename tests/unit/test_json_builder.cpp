// SPDX-License-Identifier: MIT
// Json::from / array / object, iteration, and the build -> dump -> parse round trip.
#include <catch2/catch.hpp>

#include <http_task/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

using http_task::Json;

namespace {
struct Point {
  int x;
  int y;
};
}  // namespace

template <>
struct http_task::JsonConverter<Point> {
  static Json to_json(const Point& p) { return Json::object({{"x", p.x}, {"y", p.y}}); }
  static Point from_json(const Json& j) { return Point{j.get<int>("x"), j.get<int>("y")}; }
};

namespace {
struct Bad {};
}  // namespace

template <>
struct http_task::JsonConverter<Bad> {
  static Json to_json(const Bad&) { return Json::from(std::nan("")); }
};

TEST_CASE("Json::from scalars dump as JSON", "[json_builder]") {
  CHECK(Json::from(true).dump() == "true");
  CHECK(Json::from(nullptr).dump() == "null");
  CHECK(Json::from(-42).dump() == "-42");
  CHECK(Json::from(std::numeric_limits<std::uint64_t>::max()).dump() == "18446744073709551615");
  CHECK(Json::from(std::numeric_limits<std::int64_t>::min()).dump() == "-9223372036854775808");
  CHECK(Json::from(static_cast<unsigned char>(200)).dump() == "200");
  CHECK(Json::from(1.5).dump() == "1.5");
  CHECK(Json::from(std::string("a\"b\n")).dump() == "\"a\\\"b\\n\"");
  CHECK(Json::from("literal").dump() == "\"literal\"");
  CHECK(Json::from(std::string_view("view")).dump() == "\"view\"");
  CHECK(Json::from(std::string("nul\0in", 6)).as<std::string>() == std::string("nul\0in", 6));
  CHECK(Json::from(std::optional<int>()).is_null());
  CHECK(Json::from(std::optional<int>(3)).as<int>() == 3);
}

TEST_CASE("Json::from refuses what JSON cannot carry, naming where", "[json_builder]") {
  CHECK_THROWS_WITH(Json::from(std::nan("")), "NaN is not a JSON number");
  CHECK_THROWS_WITH(Json::from(std::numeric_limits<double>::infinity()),
                    "infinity is not a JSON number");
  CHECK_THROWS_AS(Json::from(-std::numeric_limits<float>::infinity()), http_task::Error);
  CHECK_THROWS_WITH(Json::from(std::string("\xff")), "string \"\\xff\" is not valid UTF-8");
  std::map<std::string, std::vector<double>> m{{"ratios", {1.0, std::nan("")}}};
  CHECK_THROWS_WITH(Json::from(m), "ratios[1]: NaN is not a JSON number");
  CHECK_THROWS_WITH(Json::from(std::map<std::string, int>{{"\xc3", 1}}),
                    Catch::Contains("is not valid UTF-8"));
  CHECK_THROWS_WITH(Json::from(std::vector<Bad>(2)), "[0]: NaN is not a JSON number");
  const char* null_string = nullptr;
  CHECK_THROWS_AS(Json::from(null_string), http_task::Error);
}

TEST_CASE("Json::from containers and user types", "[json_builder]") {
  CHECK(Json::from(std::vector<int>{1, 2, 3}).dump() == "[1,2,3]");
  CHECK(Json::from(std::vector<bool>{true, false}).dump() == "[true,false]");
  CHECK(Json::from(std::map<std::string, int>{{"b", 2}, {"a", 1}}).dump() == "{\"a\":1,\"b\":2}");
  CHECK(Json::from(std::vector<std::optional<std::string>>{"x", std::nullopt}).dump() ==
        "[\"x\",null]");
  CHECK(Json::from(Point{1, 2}).dump() == "{\"x\":1,\"y\":2}");
  const auto points = Json::from(std::vector<Point>{{1, 2}, {3, 4}});
  CHECK(points.dump() == "[{\"x\":1,\"y\":2},{\"x\":3,\"y\":4}]");
  const auto back = points.as<std::vector<Point>>();
  REQUIRE(back.size() == 2);
  CHECK(back[1].y == 4);
}

TEST_CASE("Json::array and Json::object read like JSON", "[json_builder]") {
  const Json body = Json::object({{"args", Json::array({2, 3})},
                                  {"kwargs", Json::object({{"name", "x"}, {"on", true}})},
                                  {"none", nullptr},
                                  {"ratio", 0.25}});
  CHECK(body.dump() ==
        R"({"args":[2,3],"kwargs":{"name":"x","on":true},"none":null,"ratio":0.25})");
  CHECK(Json::array().dump() == "[]");
  CHECK(Json::object().dump() == "{}");
  // A repeated key: first place, last value.
  CHECK(Json::object({{"a", 1}, {"b", 2}, {"a", 3}}).dump() == R"({"a":3,"b":2})");
  CHECK_THROWS_AS(Json::object({{"\xff", 1}}), http_task::Error);
}

TEST_CASE("a built Json owns its copy of the parts it was built from", "[json_builder]") {
  Json outer;
  {
    const Json parsed = Json::parse(R"({"deep":[[[1,"two"]]],"s":"a string longer than inline"})");
    outer = Json::array({parsed, parsed.find("deep").value()});
  }
  CHECK(outer.dump() ==
        R"([{"deep":[[[1,"two"]]],"s":"a string longer than inline"},[[[1,"two"]]]])");
  const Json copy = outer;  // shares, immutable
  CHECK(copy == outer);
  CHECK(&copy.value() == &outer.value());
}

TEST_CASE("deep values are copied and dumped without recursion", "[json_builder]") {
  const std::size_t depth = 100000;
  const std::string text = std::string(depth, '[') + std::string(depth, ']');
  const Json deep = Json::parse(text, depth);
  const Json wrapped = Json::array({deep});
  CHECK(wrapped.dump().size() == text.size() + 2);
}

TEST_CASE("items() and elements() iterate in document order", "[json_builder]") {
  const Json j = Json::parse(R"({"a":1,"b":[true,null,"x"],"c":{}})");
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (const auto& [key, value] : j.items()) {
    keys.emplace_back(key);
    values.push_back(value.dump());
  }
  CHECK(keys == std::vector<std::string>{"a", "b", "c"});
  CHECK(values == std::vector<std::string>{"1", "[true,null,\"x\"]", "{}"});
  std::vector<std::string> elements;
  for (const Json& e : j.find("b")->elements()) elements.push_back(e.type_name());
  CHECK(elements == std::vector<std::string>{"bool", "null", "string"});
  CHECK(j.items().size() == 3);
  CHECK_THROWS_WITH(j.elements(), "elements(): expected array, got object");
  CHECK_THROWS_WITH(Json::from(1).items(), "items(): expected object, got number");
  int n = 0;
  for (const Json& e : Json::array().elements()) n += static_cast<int>(e.size()) + 1;
  CHECK(n == 0);
}

TEST_CASE("built values survive dump -> parse unchanged", "[json_builder]") {
  const std::vector<double> doubles{0.1,
                                    -0.0,
                                    1e300,
                                    -2.5e-308,
                                    std::numeric_limits<double>::min(),
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::denorm_min(),
                                    123456789.123456789};
  for (double d : doubles) {
    const Json built = Json::from(d);
    const Json reparsed = Json::parse(built.dump());
    INFO(built.dump());
    CHECK(reparsed.as<double>() == d);
  }
  const Json mixed = Json::object({{"u", std::numeric_limits<std::uint64_t>::max()},
                                   {"i", std::numeric_limits<std::int64_t>::min()},
                                   {"s", "\xe2\x82\xac \x01 \\ \""},
                                   {"n", std::vector<std::vector<int>>{{}, {1}}}});
  CHECK(Json::parse(mixed.dump()) == mixed);
}

TEST_CASE("objects compare as dictionaries even when one repeats a key", "[json_builder]") {
  // The last duplicate wins, as in Python: {"a":1,"a":2} is {"a":2}.
  CHECK(Json::parse(R"({"a":1,"a":2,"b":3})") == Json::parse(R"({"b":3,"a":2})"));
  CHECK(Json::parse(R"({"a":1,"a":2})") == Json::object({{"a", 2}}));
  CHECK(Json::parse(R"({"a":1,"a":2})") != Json::object({{"a", 1}}));
  CHECK(Json::parse(R"({"a":1,"a":1})") != Json::object({{"a", 1}, {"b", 1}}));
}
