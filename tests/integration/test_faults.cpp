// A server that misbehaves on purpose: every fault ends the call with the right error
// within its timeout, and the same Client goes on serving other calls.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <chrono>
#include <string>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::server_url;

namespace {
Client& client() {
  static Client c([] {
    ClientOptions o;
    o.timeout = 1500ms;
    o.accept_compressed = true;
    return o;
  }());
  return c;
}

// Runs the call, returns its error, and checks the Client still answers.
template <class E>
void expect_fault(const std::string& path, CURLcode code = CURLE_OK) {
  INFO(path);
  auto r = URL(server_url(path), client()).get_async();
  REQUIRE(r.wait_for(30s) == std::future_status::ready);
  try {
    r.get();
    FAIL("no error for " << path);
  } catch (const E& e) {
    if constexpr (std::is_base_of_v<TransportError, E>) {
      if (code != CURLE_OK) CHECK(e.curl_code() == code);
    }
  }
  CHECK(URL(server_url("/multiply"), client()).get_async<int>({{"x", 3}, {"y", 3}}).get() == 9);
}
}  // namespace

TEST_CASE("a server that never answers ends in TimeoutError", "[faults]") {
  expect_fault<TimeoutError>("/fault/stall");
  expect_fault<TimeoutError>("/fault/headers-then-stall");
  expect_fault<TimeoutError>("/fault/chunked-noend");
}

TEST_CASE("a body slower than a byte a second ends in TimeoutError", "[faults]") {
  expect_fault<TimeoutError>("/fault/drip?interval_ms=1100");
}

TEST_CASE("broken connections are TransportErrors", "[faults]") {
  expect_fault<TransportError>("/fault/truncate", CURLE_PARTIAL_FILE);
  expect_fault<TransportError>("/fault/reset");
  expect_fault<TransportError>("/fault/close", CURLE_GOT_NOTHING);
  expect_fault<TransportError>("/fault/garbage");
}

TEST_CASE("oversized answers are refused, not buffered", "[faults]") {
  expect_fault<InvalidResponseError>("/fault/huge-headers?kib=256");
  expect_fault<InvalidResponseError>("/fault/huge-body?mib=1024");
  expect_fault<InvalidResponseError>("/fault/huge-chunked?mib=1024");
  expect_fault<InvalidResponseError>("/fault/gzip-bomb?mib=64");
}

TEST_CASE("hostile JSON is refused cleanly", "[faults]") {
  expect_fault<InvalidResponseError>("/fault/deep?n=1000000");
  expect_fault<InvalidResponseError>("/fault/invalid-utf8");
  expect_fault<InvalidResponseError>("/fault/invalid-utf8?tail=1");
  // Decoded without undefined behaviour (the sanitizer builds check that part).
  auto crafted = URL(server_url("/fault/crafted-number"), client()).get_async();
  REQUIRE(crafted.wait_for(30s) == std::future_status::ready);
  try {
    CHECK(crafted.get().as<double>() == 0.0);
  } catch (const InvalidResponseError&) {
  }
}

TEST_CASE("compressed answers are decompressed when asked for", "[faults]") {
  CHECK(URL(server_url("/fault/gzip"), client()).get_async<std::string>().get() == "gzip");
}
