// SPDX-License-Identifier: MIT
// The one list of conformance cases every webhook server kind must pass (Django, Rails,
// Flask, Express, C++). Each is a call with http_task and the answer it must produce. The
// routes are the same on every server (examples/webhooks/README.md):
//   /multiply   x*y, or a failure naming the missing or non-integer argument
//   /echo_args  retval = the received arguments as an object (a repeated name: last value)
//   /fail       a failure whose reason is kMoonReason
//   /large?n=N  retval = a string of N characters "0123456789" repeated
#pragma once

#include <http_task/params.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace http_task_interop {

inline const std::string kMoonReason = "Invalid moon alignment: ☾ ≠ ☀ (🌙)";

struct Case {
  std::string name;
  std::string method;  // "GET" or "POST"
  std::string path;    // the route, with whatever query or fragment the URL already has
  http_task::Params args;
  bool failure = false;
  std::string expected;  // success: the retval as JSON text; failure: the reason
};

inline Case success(std::string name, std::string method, std::string path, http_task::Params args,
                    std::string retval_json) {
  return Case{std::move(name), std::move(method),     std::move(path), std::move(args),
              false,           std::move(retval_json)};
}

inline Case failure(std::string name, std::string method, std::string path, http_task::Params args,
                    std::string reason) {
  return Case{std::move(name),  std::move(method), std::move(path), std::move(args), true,
              std::move(reason)};
}

// "0123456789" repeated to n characters, as JSON text: what /large?n=N returns.
inline std::string large_retval(std::size_t n) {
  std::string json = "\"";
  for (std::size_t i = 0; i < n; ++i) json.push_back(static_cast<char>('0' + i % 10));
  json.push_back('"');
  return json;
}

// Arguments whose every character means something in a URL or a form.
inline http_task::Params escaping_args() {
  return {{"amp", "a&b"},         {"eq", "a=b"},
          {"plus", "a+b"},        {"percent", "100%"},
          {"percent_hex", "%41"}, {"space", "a b  c"},
          {"hash", "#x"},         {"query", "?q=1"},
          {"slash", "/a/b"},      {"quote", "\"it's\""},
          {"backslash", "a\\b"},  {"lines", "one\ntwo\tthree\r\n"},
          {"empty", ""},          {"name with &=+% #", "key escaped too"}};
}
inline const char* const kEscapingRetval =
    R"({"amp":"a&b","eq":"a=b","plus":"a+b","percent":"100%","percent_hex":"%41",)"
    R"("space":"a b  c","hash":"#x","query":"?q=1","slash":"/a/b","quote":"\"it's\"",)"
    R"("backslash":"a\\b","lines":"one\ntwo\tthree\r\n","empty":"",)"
    R"("name with &=+% #":"key escaped too"})";

// Two-, three- and four-byte UTF-8 (the last one outside the BMP, a surrogate pair when
// a server escapes it as \uXXXX), in names and values.
inline http_task::Params unicode_args() {
  return {{"accent", "é"}, {"greek", "αβγ"},     {"cjk", "日本語"},
          {"moon", "🌙"},   {"mixed", "x=☾&y=☀"}, {"ключ", "значение"}};
}
inline const char* const kUnicodeRetval =
    R"({"accent":"é","greek":"αβγ","cjk":"日本語","moon":"🌙","mixed":"x=☾&y=☀",)"
    R"("ключ":"значение"})";

inline const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // The Celery docs' call, both ways.
      success("multiply GET", "GET", "/multiply", {{"x", 10}, {"y", 10}}, "100"),
      success("multiply POST", "POST", "/multiply", {{"x", 10}, {"y", 10}}, "100"),
      success("multiply signs GET", "GET", "/multiply", {{"x", -123456789}, {"y", 1000}},
              "-123456789000"),
      success("multiply signs POST", "POST", "/multiply", {{"x", "+7"}, {"y", "-6"}}, "-42"),
      success("multiply trailing slash GET", "GET", "/multiply/", {{"x", 6}, {"y", 7}}, "42"),
      success("multiply trailing slash POST", "POST", "/multiply/", {{"x", 6}, {"y", 7}}, "42"),
      // Failures come back as RemoteExecuteError with the server's reason.
      failure("multiply missing argument GET", "GET", "/multiply", {{"x", 10}},
              "missing argument y"),
      failure("multiply missing argument POST", "POST", "/multiply", {}, "missing argument x"),
      failure("multiply not an integer GET", "GET", "/multiply", {{"x", "ten"}, {"y", 10}},
              "argument x is not an integer"),
      failure("multiply not an integer POST", "POST", "/multiply", {{"x", 1}, {"y", "1.5"}},
              "argument y is not an integer"),
      failure("failure with a unicode reason GET", "GET", "/fail", {}, kMoonReason),
      failure("failure with a unicode reason POST", "POST", "/fail", {{"x", 1}}, kMoonReason),
      // Round trips: what the server received is what was sent.
      success("unicode arguments and answer GET", "GET", "/echo_args", unicode_args(),
              kUnicodeRetval),
      success("unicode arguments and answer POST", "POST", "/echo_args", unicode_args(),
              kUnicodeRetval),
      success("arguments that need escaping GET", "GET", "/echo_args", escaping_args(),
              kEscapingRetval),
      success("arguments that need escaping POST", "POST", "/echo_args", escaping_args(),
              kEscapingRetval),
      success("a 200 kB argument POST", "POST", "/echo_args",
              {{"big", std::string(200 * 1024, 'b')}},
              R"({"big":")" + std::string(200 * 1024, 'b') + R"("})"),
      success("a 4 kB argument GET", "GET", "/echo_args", {{"big", std::string(4096, 'g')}},
              R"({"big":")" + std::string(4096, 'g') + R"("})"),
      // A query already in the URL: the call's arguments override its keys, others stay.
      success("query already in the URL GET", "GET", "/echo_args?fixed=1&x=old&sp=a+b",
              {{"x", "new"}, {"y", "2"}}, R"({"fixed":"1","x":"new","sp":"a b","y":"2"})"),
      success("query and fragment already in the URL GET", "GET", "/multiply?x=3#section",
              {{"y", 5}}, "15"),
      // POST: the arguments are the body; the URL's query is not mixed into them.
      success("query already in the URL POST", "POST", "/echo_args?fixed=1", {{"a", "b"}},
              R"({"a":"b"})"),
      success("large answer GET (1 MB)", "GET", "/large", {{"n", 1000000}}, large_retval(1000000)),
      // Over ClientOptions' default cap of 4 MiB: the tests' client raises it.
      success("large answer POST (8 MiB)", "POST", "/large", {{"n", 8 * 1024 * 1024}},
              large_retval(8 * 1024 * 1024)),
      success("empty answer string", "GET", "/large", {{"n", 0}}, R"("")"),
  };
  return all;
}

}  // namespace http_task_interop
