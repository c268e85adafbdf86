// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/params.hpp>

#include <cstdint>
#include <limits>

using http_task::Params;
using http_task::ParamValue;

TEST_CASE("ParamValue turns each supported type into wire text", "[params]") {
  CHECK(ParamValue("abc").text() == "abc");
  CHECK(ParamValue(std::string("x y")).text() == "x y");
  CHECK(ParamValue(std::string_view("sv")).text() == "sv");
  CHECK(ParamValue(10).text() == "10");
  CHECK(ParamValue(-7L).text() == "-7");
  CHECK(ParamValue(std::numeric_limits<std::int64_t>::min()).text() == "-9223372036854775808");
  CHECK(ParamValue(std::numeric_limits<std::uint64_t>::max()).text() == "18446744073709551615");
  CHECK(ParamValue(static_cast<unsigned char>(200)).text() == "200");
  CHECK(ParamValue(10.5).text() == "10.5");
  CHECK(ParamValue(0.1).text() == "0.1");
  CHECK(ParamValue(1e16).text() == "1e+16");
  CHECK(ParamValue(2.5f).text() == "2.5");
  CHECK(ParamValue(true).text() == "true");
  CHECK(ParamValue(false).text() == "false");
}

TEST_CASE("Params keep order, allow repeats, and replace with set()", "[params]") {
  Params p{{"x", 10}, {"y", "ten"}, {"flag", true}};
  REQUIRE(p.size() == 3);
  auto it = p.begin();
  CHECK(it->first == "x");
  CHECK(it->second == "10");
  CHECK((++it)->second == "ten");
  CHECK((++it)->second == "true");

  p.add("x", 11);
  CHECK(p.size() == 4);
  CHECK(*p.find("x") == "10");
  p.set("x", 12);
  CHECK(p.size() == 3);
  CHECK(*p.find("x") == "12");
  CHECK(p.erase("y") == 1);
  CHECK_FALSE(p.contains("y"));
  CHECK(p.find("missing") == nullptr);
  CHECK(Params().empty());
  CHECK(Params{{"a", 1}} == Params{{"a", "1"}});
}
