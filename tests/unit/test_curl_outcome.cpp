// SPDX-License-Identifier: MIT
// detail/loop/curl_outcome.hpp: an attempt's end (libcurl's code, the HTTP status, the
// body, the callbacks' notes) to the call's outcome, without a socket.
#include <catch2/catch.hpp>

#include <http_task/client_options.hpp>
#include <http_task/detail/loop/curl_outcome.hpp>
#include <http_task/error.hpp>

#include "support/checks.hpp"

#include <curl/curl.h>

#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <typeinfo>

using http_task::ClientOptions;
using http_task::detail::AttemptEnd;
using http_task::detail::curl_outcome;
using http_task::detail::Outcome;
using http_task_test::contains;

namespace {

AttemptEnd failed_with(CURLcode code) {
  AttemptEnd end;
  end.code = code;
  return end;
}

// Rethrows the outcome's error and returns it when its type is exactly E (a TimeoutError
// is a TransportError too: the mapping must pick the most precise one); fails otherwise.
template <class E>
E error_exactly(const Outcome& outcome) {
  REQUIRE_FALSE(outcome.ok());
  try {
    std::rethrow_exception(outcome.error);
  } catch (const E& e) {
    REQUIRE(typeid(e) == typeid(E));
    return e;
  } catch (const std::exception& e) {
    FAIL("unexpected exception " << typeid(e).name() << ": " << e.what());
  }
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a transfer that timed out is a TimeoutError with libcurl's code and words",
          "[curl_outcome]") {
  AttemptEnd end = failed_with(CURLE_OPERATION_TIMEDOUT);
  end.curl_error = "Operation timed out after 100 milliseconds";
  const auto e = error_exactly<http_task::TimeoutError>(curl_outcome(end, ClientOptions{}));
  CHECK(e.curl_code() == CURLE_OPERATION_TIMEDOUT);
  CHECK(contains(e.what(), curl_easy_strerror(CURLE_OPERATION_TIMEDOUT)));
  CHECK(contains(e.what(), "after 100 milliseconds"));
}

TEST_CASE("other libcurl failures are TransportErrors carrying the code", "[curl_outcome]") {
  const CURLcode code =
      GENERATE(CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING,
               CURLE_RECV_ERROR, CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION,
               CURLE_TOO_MANY_REDIRECTS, CURLE_HTTP2, CURLE_OUT_OF_MEMORY, CURLE_WRITE_ERROR);
  const auto e =
      error_exactly<http_task::TransportError>(curl_outcome(failed_with(code), ClientOptions{}));
  CHECK(e.curl_code() == code);
  CHECK(std::string(e.what()) == curl_easy_strerror(code));  // no error buffer: no ": ..."
}

TEST_CASE("libcurl's error buffer is added to its message", "[curl_outcome]") {
  AttemptEnd end = failed_with(CURLE_COULDNT_CONNECT);
  end.curl_error = "Failed to connect to 127.0.0.1 port 9: Connection refused";
  const auto e = error_exactly<http_task::TransportError>(curl_outcome(end, ClientOptions{}));
  CHECK(std::string(e.what()) == std::string(curl_easy_strerror(CURLE_COULDNT_CONNECT)) +
                                     ": Failed to connect to 127.0.0.1 port 9: Connection refused");
}

TEST_CASE("a body over max_response_bytes is an InvalidResponseError naming the limit",
          "[curl_outcome]") {
  ClientOptions options;
  options.max_response_bytes = 1234;
  SECTION("refused by on_write") {
    AttemptEnd end = failed_with(CURLE_WRITE_ERROR);
    end.too_large = true;
    const auto e = error_exactly<http_task::InvalidResponseError>(curl_outcome(end, options));
    CHECK(contains(e.what(), "response body larger than the limit of 1234 bytes"));
  }
  SECTION("refused by libcurl from Content-Length") {
    const auto e = error_exactly<http_task::InvalidResponseError>(
        curl_outcome(failed_with(CURLE_FILESIZE_EXCEEDED), options));
    CHECK(contains(e.what(), "1234 bytes"));
  }
}

TEST_CASE("headers over max_header_bytes are an InvalidResponseError naming the limit",
          "[curl_outcome]") {
  ClientOptions options;
  options.max_header_bytes = 777;
  AttemptEnd end = failed_with(CURLE_WRITE_ERROR);
  end.headers_too_large = true;
  end.header_bytes = 800;
  const auto e = error_exactly<http_task::InvalidResponseError>(curl_outcome(end, options));
  CHECK(contains(e.what(), "response headers larger than the limit of 777 bytes"));
}

TEST_CASE(
    "libcurl's bare out of memory after headers and before a body is a header line "
    "too large",
    "[curl_outcome]") {
  AttemptEnd end = failed_with(CURLE_OUT_OF_MEMORY);
  end.header_bytes = 20;
  const auto e = error_exactly<http_task::InvalidResponseError>(curl_outcome(end, ClientOptions{}));
  CHECK(contains(e.what(), "header line is larger than libcurl accepts"));

  end.answer = "part of a body";  // a body came: really out of memory
  const auto oom = error_exactly<http_task::TransportError>(curl_outcome(end, ClientOptions{}));
  CHECK(oom.curl_code() == CURLE_OUT_OF_MEMORY);
}

TEST_CASE(
    "memory that ran out in a callback is a TransportError CURLE_OUT_OF_MEMORY with "
    "the bytes received",
    "[curl_outcome]") {
  AttemptEnd end = failed_with(CURLE_WRITE_ERROR);
  end.out_of_memory = true;
  end.too_large = true;  // out of memory wins: it is what stopped the transfer
  end.answer = "12345";
  const auto e = error_exactly<http_task::TransportError>(curl_outcome(end, ClientOptions{}));
  CHECK(e.curl_code() == CURLE_OUT_OF_MEMORY);
  CHECK(contains(e.what(), "after 5 bytes"));
}

TEST_CASE("an address the guard refused is a BlockedAddressError", "[curl_outcome]") {
  AttemptEnd end = failed_with(CURLE_COULDNT_CONNECT);
  end.blocked_address = "10.0.0.1";
  end.blocked_reason = "a private address";
  const auto e = error_exactly<http_task::BlockedAddressError>(curl_outcome(end, ClientOptions{}));
  CHECK(e.address() == "10.0.0.1");
  CHECK(e.curl_code() == CURLE_COULDNT_CONNECT);
  CHECK(contains(e.what(), "a private address"));
}

TEST_CASE("a completed transfer with a non-2xx status is an HttpError with the body",
          "[curl_outcome]") {
  const long status = GENERATE(301L, 400L, 404L, 429L, 500L, 503L);
  AttemptEnd end;
  end.http_status = status;
  end.answer = "{\"status\": \"failure\", \"reason\": \"no\"}";
  const auto e = error_exactly<http_task::HttpError>(curl_outcome(end, ClientOptions{}));
  CHECK(e.status_code() == status);
  CHECK(e.body() == end.answer);
  CHECK(e.reason() == "no");
}

TEST_CASE("an HttpError's body is capped at max_error_body", "[curl_outcome]") {
  ClientOptions options;
  options.max_error_body = 4;
  AttemptEnd end;
  end.http_status = 500;
  end.answer = "Internal Server Error";
  const auto e = error_exactly<http_task::HttpError>(curl_outcome(end, options));
  CHECK(e.body() == "Inte");
}

TEST_CASE("a completed transfer with a 2xx status is decoded by the protocol", "[curl_outcome]") {
  AttemptEnd end;
  end.http_status = 200;
  SECTION("success: the retval") {
    end.answer = "{\"status\": \"success\", \"retval\": 42}";
    const Outcome outcome = curl_outcome(end, ClientOptions{});
    REQUIRE(outcome.ok());
    CHECK(outcome.value.dump() == "42");
  }
  SECTION("failure: a RemoteExecuteError") {
    end.answer = "{\"status\": \"failure\", \"reason\": \"boom\"}";
    const auto e = error_exactly<http_task::RemoteExecuteError>(curl_outcome(end, ClientOptions{}));
    CHECK(e.reason() == "boom");
  }
  SECTION("not JSON: an InvalidResponseError") {
    end.answer = "<html>";
    error_exactly<http_task::InvalidResponseError>(curl_outcome(end, ClientOptions{}));
  }
  SECTION("deeper than max_json_depth: an InvalidResponseError") {
    ClientOptions options;
    options.max_json_depth = 3;
    end.answer = "{\"status\": \"success\", \"retval\": [[[[1]]]]}";
    error_exactly<http_task::InvalidResponseError>(curl_outcome(end, options));
  }
}

TEST_CASE("an attempt that could not start is a TransportError(CURLE_FAILED_INIT) with its words",
          "[curl_outcome]") {
  const std::exception_ptr out_of_memory = std::make_exception_ptr(std::bad_alloc());
  const std::exception_ptr error = http_task::detail::start_failure(
      "curl_multi_add_handle: ", curl_multi_strerror(CURLM_OUT_OF_MEMORY), out_of_memory);
  REQUIRE(error != out_of_memory);
  const auto e = error_exactly<http_task::TransportError>(Outcome::failure(error));
  CHECK(e.curl_code() == CURLE_FAILED_INIT);
  CHECK(std::string(e.what()) ==
        std::string("curl_multi_add_handle: ") + curl_multi_strerror(CURLM_OUT_OF_MEMORY));
}
