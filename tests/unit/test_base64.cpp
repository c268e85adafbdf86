// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/call/base64.hpp>

using namespace http_task::detail;

TEST_CASE("base64 follows RFC 4648's test vectors", "[base64]") {
  const char* vectors[][2] = {{"", ""},
                              {"f", "Zg=="},
                              {"fo", "Zm8="},
                              {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="},
                              {"fooba", "Zm9vYmE="},
                              {"foobar", "Zm9vYmFy"}};
  for (auto& v : vectors) {
    CHECK(base64_encode(v[0]) == v[1]);
    CHECK(base64_decode(v[1]) == std::string(v[0]));
  }
  CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
}

TEST_CASE("base64 decoding refuses bad input", "[base64]") {
  for (const char* bad : {"Zg=", "Zg===", "Z===", "Zm9v!", "=Zm9", "Zm=v", "Zg==Zg=="})
    CHECK_FALSE(base64_decode(bad));
}
