// SPDX-License-Identifier: MIT
// One call as the loop sees it: the request ready to go on the wire, its libcurl
// handle while it runs, and the answer's bytes. Built and validated on the calling
// thread, then owned by the loop (whichever thread drives it) until it finishes.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/call/form_encoding.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/future/call_state.hpp>
#include <http_task/detail/loop/connection_route.hpp>
#include <http_task/detail/loop/driver.hpp>
#include <http_task/detail/loop/easy_handle.hpp>
#include <http_task/detail/loop/fork_generation.hpp>
#include <http_task/detail/loop/header_list.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/error.hpp>
#include <http_task/request.hpp>
#include <http_task/request_signer.hpp>
#include <http_task/retry_policy.hpp>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

inline bool is_http_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

// A header value must not smuggle a second header or a second request.
inline bool is_header_value_safe(std::string_view s) noexcept {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// Headers every call sends unless it sets its own of the same name. "Expect:" turns
// off libcurl's "Expect: 100-continue" for large bodies, which costs a round trip
// (or a one-second stall on servers that ignore it).
inline constexpr std::string_view kDefaultHeaders[] = {"Accept: application/json", "Expect:"};

class Transfer final : public CallState, public std::enable_shared_from_this<Transfer> {
 public:
  Transfer(Uuid4 id, std::shared_ptr<Driver> driver)
      : CallState(id), created(std::chrono::steady_clock::now()), driver_(std::move(driver)) {}
  int attempts() const noexcept override { return attempts_seen.load(std::memory_order_relaxed); }

  // Calling thread: checks the request and turns it into what goes on the wire.
  // Throws RequestError for anything that must not be sent. A custom dispatcher may
  // change the request first.
  void prepare(Request&& request, const ClientOptions& client,
               std::shared_ptr<const Dispatcher> custom) {
    dispatcher = std::move(custom);
    if (dispatcher) dispatcher->prepare(request);
    prepare(request.url, std::move(request.method), request.params, request.options, client,
            request.json ? &*request.json : nullptr);
  }

  // The same from the parts of a request, which are read and not kept: calls through
  // a URL object need no copy of its string.
  void prepare(std::string_view target, std::string&& verb, const Params& params,
               const CallOptions& o, const ClientOptions& client, const Json* json = nullptr) {
    if (!is_http_scheme(target))
      throw RequestError("only http:// and https:// URLs are allowed: '" +
                         redact_credentials(target) + "'");
    if (client.tls.https_only && !iequals(url_scheme(target), "https"))
      throw RequestError("this Client only calls https:// URLs: '" + redact_credentials(target) +
                         "'");
    if (client.http_version == HttpVersion::h2_required && !iequals(url_scheme(target), "https") &&
        curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
      throw RequestError(
          "h2 is required, and on http:// that takes prior-knowledge h2c, which libcurl " +
          std::string(curl_version_info(CURLVERSION_NOW)->version) +
          " (before 8.0.0) breaks on every reused connection (curl issue 10634): use https://, "
          "or HttpVersion::automatic for HTTP/1.1: '" +
          redact_credentials(target) + "'");
    if (driver_->inbox().calls() + driver_->inbox().backlog() >= client.max_pending_calls)
      throw RequestError("too many calls pending on this Client (limit " +
                         std::to_string(client.max_pending_calls) +
                         ", continuations waiting for its completion thread included)");
    if (!is_http_token(verb)) throw RequestError("'" + verb + "' is not an HTTP method name");
    for (const auto& [name, value] : params)
      if (!is_valid_utf8(name) || !is_valid_utf8(value))
        throw RequestError("argument '" + name + "' is not valid UTF-8");

    method = std::move(verb);
    // Standard Webhooks delivery (retry_policy.hpp): one Idempotency-Key for all attempts.
    Headers keyed;
    const Headers& own_headers = with_idempotency_key(o, client, keyed);
    if (json) {
      // The JSON text is the body whatever the method; arguments go in the query string.
      if (method == "HEAD") throw RequestError("a HEAD request cannot carry a JSON body");
      has_body = true;
      url = merge_query(target, params);
      body = json->dump();
      bool typed = false;
      for (const auto& h : own_headers) typed = typed || iequals(h.first, "Content-Type");
      if (!typed) {
        Headers with_type = own_headers;
        with_type.emplace_back("Content-Type", "application/json");
        build_headers(with_type);
      } else {
        build_headers(own_headers);
      }
    } else {
      has_body = method_has_body(method);
      if (has_body) {
        url = merge_query(target, Params());
        body = form_encode(params);
      } else {
        url = merge_query(target, params);
      }
      build_headers(own_headers);
    }

    connect_timeout_ms =
        static_cast<long>(o.connect_timeout.value_or(client.connect_timeout).count());
    timeout_ms = static_cast<long>(o.timeout.value_or(client.timeout).count());
    const std::string_view name = method;  // compares without strlen
    bool follows_by_default = name == "GET" || name == "HEAD";
    max_redirects = o.max_redirects.value_or(follows_by_default ? client.max_redirects : 0);
    if (timeout_ms > 0) deadline = created + std::chrono::milliseconds(timeout_ms);

    if (o.retry) own_retry_ = *o.retry;
    retry = o.retry ? &*own_retry_ : &client.retry;
    bool safe_method = (name != "POST" && name != "PATCH") || retry->idempotency_key;
    may_retry = retry->max_attempts > 1 && o.idempotent.value_or(safe_method);
    signer = o.signer ? o.signer : client.signer;
    unix_socket = o.unix_socket ? *o.unix_socket : client.unix_socket;
    if (!unix_socket.empty()) check_unix_socket_path(unix_socket);
  }

  // The loop's driver: hands the answer to the dispatcher or the Celery decoder. owner:
  // the answer's buffer, when the decoder may keep it (decode_answer_in_place), or null.
  Outcome decode(long status, std::string_view answer, std::string* owner,
                 const ClientOptions& client) const {
    if (!dispatcher) {
      const DecodeLimits limits{client.max_json_depth, client.max_error_body};
      return owner ? decode_answer_in_place(status, *owner, limits)
                   : decode_answer(status, answer, limits);
    }
    try {
      Response r{status, answer, id(), client.max_json_depth, client.max_error_body};
      return Outcome::success(dispatcher->decode(r));
    } catch (...) {
      return Outcome::failure(std::current_exception());
    }
  }

  // The request, fixed once prepare() returned.
  std::string method;
  std::string url;
  std::string body;
  bool has_body = false;
  HeaderList headers;  // empty: the loop's shared default list
  long connect_timeout_ms = 0;
  long timeout_ms = 0;
  long max_redirects = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;  // for all attempts
  const RetryPolicy* retry = nullptr;
  bool may_retry = false;
  std::shared_ptr<const RequestSigner> signer;
  std::string unix_socket;  // empty: TCP to the URL's host
  std::shared_ptr<const Dispatcher> dispatcher;
  std::exception_ptr refused;  // set when prepare() threw: answered without sending
  std::chrono::steady_clock::time_point created;

  // The loop's driver only. Written before completion, so readable by anyone after it.
  std::unique_ptr<EasyHandle> easy;  // while the attempt is on the wire
  std::size_t active_index = static_cast<std::size_t>(-1);
  bool waiting_retry = false;
  bool held = false;  // held until its origin's protocol is known (origin_router.hpp)
  bool retired = false;
  int attempts_made = 0;
  std::atomic<int> attempts_seen{0};  // attempts_made, for other threads
  // Set by the first continuation and by retirement: whichever comes first decides
  // whether the Inbox counts this call as watched.
  std::atomic<bool> watch_settled{false};
  long http_status = 0;
  // Per-origin policies (detail/policy/origin_table.hpp): the call's origin there, set at
  // its first attempt, and whether the attempt on the wire is its breaker's probe.
  std::size_t origin = static_cast<std::size_t>(-1);
  bool circuit_probe = false;

  // Per attempt; reset by begin_attempt(). The answer's bytes are in the EasyHandle.
  std::size_t max_response_bytes = 0;
  std::size_t max_header_bytes = 0;
  std::size_t header_bytes = 0;
  bool too_large = false;
  bool headers_too_large = false;
  bool out_of_memory = false;  // an allocation failed in a libcurl callback
  // Set by the loop when the attempt cannot go on (its socket could not be watched): the
  // error it then ends with at once (EventLoop::fail_unwatched).
  std::exception_ptr loop_failure;
  const class AddressFilter* address_filter = nullptr;  // set when the guard is on
  std::string blocked_address;                          // set by the address guard
  std::string blocked_reason;
  HeaderList signed_headers;  // this attempt's headers when a signer runs
  // The rate limiter's (detail/policy/rate_limiter.hpp): the origin whose place in flight
  // this attempt holds, and whether the call waits in an origin's line.
  std::size_t limit_origin = static_cast<std::size_t>(-1);
  bool waiting_limit = false;

  void begin_attempt() {
    ++attempts_made;
    attempts_seen.store(attempts_made, std::memory_order_relaxed);
    header_bytes = 0;
    too_large = headers_too_large = out_of_memory = false;
    loop_failure = nullptr;
    blocked_address.clear();
    blocked_reason.clear();
    http_status = 0;
    signed_headers.clear();
  }

  // This side ended the attempt (a size limit, the address guard, memory): another
  // attempt would end the same way.
  bool stopped_by_client() const noexcept {
    return too_large || headers_too_large || out_of_memory || !blocked_address.empty();
  }

 protected:
  void on_cancelled() override {
    // The loop removes the handle, which closes an HTTP/1.1 connection and resets an
    // HTTP/2 stream (the connection stays). A closed inbox means
    // the loop is going away and removes every handle anyway. In a forked child the
    // loop and its inbox are the parent's: nothing to undo here.
    if (forked_away()) return;
    driver_->submit({Inbox::Kind::cancel, shared_from_this()});
  }

  // The waiting thread runs the loop itself when nobody else does (driver.hpp).
  bool block(const TimePoint* until) const override {
    if (forked_away()) {
      // The parent's call, waited for in a forked child: nobody here will ever finish
      // it, and driving the parent's loop from here would take its events.
      const_cast<Transfer*>(this)->complete(Outcome::failure(
          CancelledError(std::string(kForkedClientMessage) + "; this call is the parent's")));
      return true;
    }
    if (driver_->drive_until([this] { return ready(); }, until)) {
      if (ready()) return true;
      if (until && std::chrono::steady_clock::now() >= *until) return false;
    }
    Driver::Sleeping sleeping(*driver_);
    return sleep(until);
  }

  void on_continuation_added() override {
    if (forked_away()) {  // as in block(): it would never run otherwise
      complete(Outcome::failure(
          CancelledError(std::string(kForkedClientMessage) + "; this call is the parent's")));
      return;
    }
    if (!watch_settled.exchange(true, std::memory_order_acq_rel)) driver_->watch();
  }

  bool forked_away() const noexcept { return generation_ != ForkGeneration::current(); }

 private:
  // The call's headers, plus "Idempotency-Key: <id>" when its retry policy asks for one
  // and it has none of its own (copied into keyed only then).
  const Headers& with_idempotency_key(const CallOptions& o, const ClientOptions& client,
                                      Headers& keyed) const {
    const RetryPolicy& policy = o.retry ? *o.retry : client.retry;
    if (!policy.idempotency_key) return o.headers;
    for (const auto& h : o.headers)
      if (iequals(h.first, "Idempotency-Key")) return o.headers;
    keyed = o.headers;
    keyed.emplace_back("Idempotency-Key", id());
    return keyed;
  }

  void build_headers(const Headers& extra) {
    if (extra.empty()) return;
    auto append = [this](const std::string& line) { headers.append(line.c_str()); };
    for (const auto& [name, value] : extra) {
      if (!is_http_token(name)) throw RequestError("'" + name + "' is not a valid header name");
      if (!is_header_value_safe(value))
        throw RequestError("header '" + name + "' contains CR, LF or NUL");
      // "Name;" is libcurl's way to send a header with an empty value.
      append(value.empty() ? name + ";" : name + ": " + value);
    }
    for (auto line : kDefaultHeaders) {
      auto name = line.substr(0, line.find(':'));
      bool overridden = false;
      for (const auto& h : extra) overridden = overridden || iequals(h.first, name);
      if (!overridden) append(std::string(line));
    }
  }

  std::shared_ptr<Driver> driver_;
  std::optional<RetryPolicy> own_retry_;
  const unsigned generation_ = ForkGeneration::current();  // the process it was made in
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
