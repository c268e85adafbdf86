// SPDX-License-Identifier: MIT
// A server that misbehaves on purpose: every fault ends the call with the right error
// within its timeout, and the same Client goes on serving other calls.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/checks.hpp"
#include "support/webhook_urls.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <fstream>
#include <string>
#include <type_traits>

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

// Runs the call, requires that it fails with E (with libcurl's `code`, when given), and
// checks the Client still answers. A TransportError expected for a broken connection must
// not be a timeout: a hang would otherwise pass for the fault.
template <class E>
void expect_fault(const std::string& path, CURLcode code = CURLE_OK) {
  INFO(path);
  auto e = http_task_test::require_throws_as<E>(URL(server_url(path), client()).get_async());
  if constexpr (std::is_base_of_v<TransportError, E>) {
    CAPTURE(e.what());
    if (code != CURLE_OK) CHECK(e.curl_code() == code);
    if constexpr (std::is_same_v<E, TransportError>) {
      CHECK(e.curl_code() != CURLE_OPERATION_TIMEDOUT);
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
  expect_fault<TransportError>("/fault/reset", CURLE_RECV_ERROR);
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
  // The exponent underflows: the value is zero (CVE-2024-38517 made it undefined behaviour).
  auto crafted = URL(server_url("/fault/crafted-number"), client()).get_async();
  REQUIRE(crafted.wait_for(30s) == std::future_status::ready);
  CHECK(crafted.get().as<double>() == 0.0);
}

TEST_CASE("compressed answers are decompressed when asked for", "[faults]") {
  CHECK(URL(server_url("/fault/gzip"), client()).get_async<std::string>().get() == "gzip");
}

// libcurl is C: an exception thrown in one of its callbacks would unwind through its
// frames and leave its state half-changed. An answer that outgrows the memory the process
// may have must end the call with a TransportError instead, and the Client go on. The
// address space is capped (RLIMIT_AS) a little above what the process uses, and the call
// reads an answer of 256 MiB with a limit of 1 GiB: with a Content-Length, making room
// for it runs out at once; chunked, growing the buffer runs out on the way.
// The sanitizers reserve terabytes of address space for themselves, which a cap on it
// breaks: their builds cannot run this test, the ci build does.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)  // g++
#define SANITIZED_BUILD 1
#elif defined(__has_feature)  // clang++
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED_BUILD 1
#endif
#endif

TEST_CASE("an answer larger than the memory left ends the call, not the process", "[faults]") {
#ifdef SANITIZED_BUILD
  SUCCEED("not run under a sanitizer: it reserves more address space than any cap allows");
#else
  ClientOptions o;
  o.max_response_bytes = std::size_t{1} << 30;
  o.timeout = 60s;
  Client c(o);
  URL multiply(server_url("/multiply"), c);
  REQUIRE(multiply.get_async<int>({{"x", 6}, {"y", 7}}).get() == 42);  // loop and handle made

  for (const char* path : {"/fault/huge-body?mib=256", "/fault/huge-chunked?mib=256"}) {
    INFO(path);
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_AS, &saved) == 0);
    std::ifstream statm("/proc/self/statm");
    unsigned long long pages = 0;
    REQUIRE(statm >> pages);
    rlimit capped = saved;
    capped.rlim_cur =
        static_cast<rlim_t>(pages * ::sysconf(_SC_PAGESIZE) + (std::size_t{40} << 20));
    URL huge(server_url(path), c);
    REQUIRE(::setrlimit(RLIMIT_AS, &capped) == 0);
    auto r = huge.get_async();
    const bool ready = r.wait_for(60s) == std::future_status::ready;
    std::exception_ptr error;
    try {
      r.get();
    } catch (...) {
      error = std::current_exception();
    }
    REQUIRE(::setrlimit(RLIMIT_AS, &saved) == 0);

    REQUIRE(ready);
    REQUIRE(error);
    try {
      std::rethrow_exception(error);
    } catch (const TransportError& e) {
      CHECK(e.curl_code() == CURLE_OUT_OF_MEMORY);
      CHECK_THAT(e.what(), Catch::Contains("did not fit in memory"));
    } catch (const std::exception& e) {
      FAIL("not a TransportError: " << e.what());
    }
    CHECK(multiply.get_async<int>({{"x", 3}, {"y", 3}}).get() == 9);
  }
#endif
}
