// SPDX-License-Identifier: MIT
// How an attempt's end becomes the call's outcome: libcurl's result code, the HTTP
// status, the answer's bytes and what the loop's callbacks noted on the way (a limit
// passed, memory ran out, the address guard refused) in; the retval or the error out.
// curl_outcome() is a pure function of its inputs, so every mapping is tested without a
// socket (tests/unit/test_curl_outcome.cpp); attempt_end() gathers them from the loop,
// and attempt_outcome() is what the loop asks. start_failure() is the error of an
// attempt that could not start, h2_required_failure() of an
// answer over HTTP/1.x to a Client that requires h2.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/decode/answer_decoder.hpp>
#include <http_task/detail/future/outcome.hpp>
#include <http_task/detail/loop/easy_handle.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {
namespace detail {

// What an attempt ended with, as libcurl and the loop's callbacks left it.
struct AttemptEnd {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  std::string_view answer;      // the body's bytes received
  const char* curl_error = "";  // libcurl's error buffer: "" when it said nothing more
  std::size_t header_bytes = 0;
  bool too_large = false;            // on_write refused a body over max_response_bytes
  bool headers_too_large = false;    // on_header refused headers over max_header_bytes
  bool out_of_memory = false;        // an allocation failed in a callback
  std::string_view blocked_address;  // the address guard's refusal, when not empty
  std::string_view blocked_reason;
};

// The call's outcome. A completed transfer (CURLE_OK) is decoded by the protocol's rules
// (answer_decoder.hpp: a non-2xx status is an HttpError); the loop decodes those with
// the call's own decoder instead (a dispatcher's, or in the answer's buffer), which
// gives the same outcome. A failed transfer is a TimeoutError for CURLE_OPERATION_TIMEDOUT,
// an InvalidResponseError for a limit passed, a BlockedAddressError for the address
// guard's refusal, else a TransportError carrying libcurl's code (curl_code()).
// Throws only when the error's words cannot be allocated.
inline Outcome curl_outcome(const AttemptEnd& end, const ClientOptions& options) {
  const CURLcode rc = end.code;
  if (rc == CURLE_OK)
    return decode_answer(end.http_status, end.answer,
                         DecodeLimits{options.max_json_depth, options.max_error_body});
  if (end.out_of_memory)
    return Outcome::failure(TransportError(
        CURLE_OUT_OF_MEMORY, "Out of memory: the answer did not fit in memory after " +
                                 std::to_string(end.answer.size()) + " bytes"));
  if (!end.blocked_address.empty())
    return Outcome::failure(
        BlockedAddressError(std::string(end.blocked_address), std::string(end.blocked_reason)));
  // libcurl 7.88 refuses a single header line over 100 KiB with a bare "Out of
  // memory"; after the status line came and before any body, that is what it was.
  if (rc == CURLE_OUT_OF_MEMORY && end.header_bytes > 0 && end.answer.empty())
    return Outcome::failure(
        InvalidResponseError("a response header line is larger than libcurl accepts"));
  if (rc == CURLE_WRITE_ERROR && end.headers_too_large)
    return Outcome::failure(InvalidResponseError("response headers larger than the limit of " +
                                                 std::to_string(options.max_header_bytes) +
                                                 " bytes"));
  if ((rc == CURLE_WRITE_ERROR && end.too_large) || rc == CURLE_FILESIZE_EXCEEDED)
    return Outcome::failure(InvalidResponseError("response body larger than the limit of " +
                                                 std::to_string(options.max_response_bytes) +
                                                 " bytes"));
  std::string message = curl_easy_strerror(rc);
  if (end.curl_error && end.curl_error[0]) message += std::string(": ") + end.curl_error;
  if (rc == CURLE_OPERATION_TIMEDOUT) return Outcome::failure(TimeoutError(rc, message));
  return Outcome::failure(TransportError(rc, message));
}

// What the loop knows of a failed attempt: its handle's answer and error buffer, and what
// the callbacks noted on the call. Both must outlive the AttemptEnd.
inline AttemptEnd attempt_end(const Transfer& call, CURLcode rc, const EasyHandle& handle) {
  AttemptEnd end;
  end.code = rc;
  end.http_status = call.http_status;
  end.answer = handle.answer;
  end.curl_error = handle.error;
  end.header_bytes = call.header_bytes;
  end.too_large = call.too_large;
  end.headers_too_large = call.headers_too_large;
  end.out_of_memory = call.out_of_memory;
  end.blocked_address = call.blocked_address;
  end.blocked_reason = call.blocked_reason;
  return end;
}

// A finished attempt's outcome, from its handle. A completed transfer goes to the call's
// own decoder; a buffer the handle would not keep goes with it, to be parsed in place
// there. Throws only when decoding or the error's words run out of memory.
inline Outcome attempt_outcome(const Transfer& call, CURLcode rc, EasyHandle& handle,
                               const ClientOptions& options) {
  if (rc == CURLE_OK) {
    std::string* owner = handle.keeps_answer_buffer() ? nullptr : &handle.answer;
    return call.decode(call.http_status, handle.answer, owner, options);
  }
  return curl_outcome(attempt_end(call, rc, handle), options);
}

// The error of an attempt that could not start: TransportError(CURLE_FAILED_INIT) with
// these words. Memory running out is the likeliest reason (libcurl could not make a
// handle): when the words cannot be allocated either, out_of_memory, rather than a
// bad_alloc that would leave the loop's turn, and the loop's thread with it.
inline std::exception_ptr start_failure(const char* what, const char* detail,
                                        const std::exception_ptr& out_of_memory) noexcept {
  try {
    return std::make_exception_ptr(TransportError(CURLE_FAILED_INIT, std::string(what) + detail));
  } catch (...) {
    return out_of_memory;
  }
}

// A Client that requires h2 got an answer over HTTP/1.x: the request was sent, so the
// call fails rather than being retried; out_of_memory when the words cannot be made.
inline std::exception_ptr h2_required_failure(const std::exception_ptr& out_of_memory) noexcept {
  try {
    return std::make_exception_ptr(
        TransportError(CURLE_HTTP2,
                       "the server answered over HTTP/1.x, and this Client requires h2 "
                       "(HttpVersion::h2_required); the request was sent"));
  } catch (...) {
    return out_of_memory;
  }
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
