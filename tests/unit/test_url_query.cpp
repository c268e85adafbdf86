// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/detail/call/url_query.hpp>

using namespace http_task::detail;
using http_task::Params;

TEST_CASE("arguments become the query string", "[url]") {
  CHECK(merge_query("http://example.com/mytask/", Params{{"arg1", "a"}, {"arg2", "b"}}) ==
        "http://example.com/mytask/?arg1=a&arg2=b");
  CHECK(merge_query("http://example.com/t", Params{}) == "http://example.com/t");
}

TEST_CASE("an empty path becomes /", "[url]") {
  CHECK(merge_query("http://example.com?x=10", Params{}) == "http://example.com/?x=10");
  CHECK(merge_query("http://example.com", Params{{"x", 1}}) == "http://example.com/?x=1");
  CHECK(merge_query("https://u:p@example.com:8443#top", Params{}) ==
        "https://u:p@example.com:8443/#top");
}

TEST_CASE("the call's arguments override the URL's own, other pairs stay", "[url]") {
  CHECK(merge_query("http://h/p?x=1&keep=yes&x=2", Params{{"x", 10}, {"y", 20}}) ==
        "http://h/p?keep=yes&x=10&y=20");
  // Keys are compared decoded: "a+b" in the URL is the key "a b".
  CHECK(merge_query("http://h/p?a+b=1&c=%20", Params{{"a b", 2}}) == "http://h/p?c=%20&a+b=2");
  CHECK(merge_query("http://h/p?&&x=1&", Params{{"y", 2}}) == "http://h/p?x=1&y=2");
  CHECK(merge_query("http://h/p?", Params{}) == "http://h/p?");
}

TEST_CASE("the fragment is kept, and a ? after # belongs to it", "[url]") {
  CHECK(merge_query("http://h/p?x=1#frag", Params{{"y", 2}}) == "http://h/p?x=1&y=2#frag");
  CHECK(merge_query("http://h/p#frag?x=1", Params{{"y", 2}}) == "http://h/p?y=2#frag?x=1");
}

TEST_CASE("scheme checks and credential redaction", "[url]") {
  CHECK(is_http_scheme("http://x/"));
  CHECK(is_http_scheme("HTTPS://x/"));
  CHECK_FALSE(is_http_scheme("file:///etc/passwd"));
  CHECK_FALSE(is_http_scheme("gopher://x/"));
  CHECK_FALSE(is_http_scheme("localhost:8000/multiply"));
  CHECK_FALSE(is_http_scheme("/relative"));
  CHECK(url_scheme("ftp://x") == "ftp");
  CHECK(redact_credentials("http://user:secret@h:1/p?q=a@b") == "http://h:1/p?q=a@b");
  CHECK(redact_credentials("http://h/p@x") == "http://h/p@x");
}
