// SPDX-License-Identifier: MIT
// Setting up an easy handle for a call: once per handle what every call of a Client
// shares, then per attempt what may differ between calls, and the libcurl callbacks
// that read the answer into the handle. Owns what every handle of the Client points to
// (the default header list, the address guard, the TLS and DNS cache), so it must
// outlive the handles and the multi handles. The loop's driving thread only.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/loop/address_filter.hpp>
#include <http_task/detail/loop/connection_route.hpp>
#include <http_task/detail/loop/easy_handle.hpp>
#include <http_task/detail/loop/header_list.hpp>
#include <http_task/detail/loop/multi_shard.hpp>
#include <http_task/detail/loop/origin_router.hpp>
#include <http_task/detail/loop/shared_cache.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/error.hpp>
#include <http_task/request_signer.hpp>
#include <http_task/version.hpp>

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace http_task {
inline namespace v1 {
namespace detail {

class TransferSetup {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TransferSetup(const ClientOptions& options)
      : options_(options), address_filter_(options.address_guard) {
    for (auto line : kDefaultHeaders) default_headers_.append(std::string(line).c_str());
  }

  TransferSetup(const TransferSetup&) = delete;
  TransferSetup& operator=(const TransferSetup&) = delete;

  // Per call: what may differ between calls. Every one of these is given on every
  // call, and the handle skips what it already has (easy_handle.hpp), so nothing of
  // the previous call on a reused handle can leak into this one. Throws when the
  // signer throws or makes a bad header, or the call's deadline has passed.
  void configure(EasyHandle& handle, Transfer& call, bool multiplexed) {
    call.max_response_bytes = options_.max_response_bytes;
    call.max_header_bytes = options_.max_header_bytes;
    if (address_filter_.enabled()) call.address_filter = &address_filter_;
    handle.url(call.url);
    handle.headers(headers_for(call));
    handle.connect_timeout_ms(call.connect_timeout_ms);
    handle.timeout_ms(attempt_timeout_ms(call));
    handle.max_redirects(call.max_redirects);
    handle.method(call.method, call.has_body, call.body);
    handle.http_version(http_version_for(call), multiplexed);
    if (options_.receive_buffer_size > 0) handle.receive_buffer(receive_buffer_for(handle));
    configure_unix_socket(handle.get(), call.unix_socket);
  }

  // Once per handle: what every call of this Client shares. Reused handles keep it,
  // which saves a curl_easy_reset and a dozen options per call.
  void configure_handle(EasyHandle& handle) const {
    CURL* e = handle.get();
    // The callbacks and CURLINFO_PRIVATE find the call through the handle.
    curl_easy_setopt(e, CURLOPT_PRIVATE, &handle);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &handle);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &handle);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, handle.error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // TLS sessions and DNS answers of every shard (shared_cache.hpp).
    curl_easy_setopt(e, CURLOPT_SHARE, share_.get());
    const char* protocols = options_.tls.https_only ? "https" : "http,https";
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
#else
    long mask = options_.tls.https_only ? CURLPROTO_HTTPS : (CURLPROTO_HTTP | CURLPROTO_HTTPS);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, mask);
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, mask);
#endif
    curl_easy_setopt(e, CURLOPT_USERAGENT, "http_task/" HTTP_TASK_VERSION_STRING);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &TransferSetup::on_write);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &TransferSetup::on_header);
    // Fails early when Content-Length says too much; on_write counts the rest.
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options_.max_response_bytes));
    if (options_.accept_compressed) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    configure_tls(e);
    // Always: libcurl 7.88 opens its sockets without SOCK_CLOEXEC, so a child the
    // application starts (system(), posix_spawn) would inherit every connection.
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &TransferSetup::on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &handle);
    configure_proxy(e, options_, address_filter_.enabled());
  }

  void configure_tls(CURL* e) const {
    const TlsOptions& tls = options_.tls;
    if (!tls.verify_peer) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!tls.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, tls.ca_file.c_str());
    if (!tls.ca_path.empty()) curl_easy_setopt(e, CURLOPT_CAPATH, tls.ca_path.c_str());
    if (!tls.client_cert.empty()) curl_easy_setopt(e, CURLOPT_SSLCERT, tls.client_cert.c_str());
    if (!tls.client_key.empty()) curl_easy_setopt(e, CURLOPT_SSLKEY, tls.client_key.c_str());
    if (!tls.client_key_password.empty())
      curl_easy_setopt(e, CURLOPT_KEYPASSWD, tls.client_key_password.c_str());
  }

  // What is left of the call's deadline, capped by the retry policy's attempt limit.
  static long attempt_timeout_ms(const Transfer& call) {
    long ms = call.timeout_ms;
    if (call.retry->attempt_timeout) ms = static_cast<long>(call.retry->attempt_timeout->count());
    if (call.deadline) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(*call.deadline - Clock::now()).count();
      if (left <= 0)
        throw TimeoutError(CURLE_OPERATION_TIMEDOUT, "the call's deadline passed before attempt " +
                                                         std::to_string(call.attempts_made));
      ms = ms > 0 ? std::min<long>(ms, static_cast<long>(left)) : static_cast<long>(left);
    }
    return ms;
  }

  // The header list of this attempt: the call's (or the shared default), plus the
  // signer's headers, which depend on the attempt's time and so are made anew.
  // The Client's default header list (what a call without headers of its own sends).
  const curl_slist* default_headers() const noexcept { return default_headers_.get(); }

  curl_slist* headers_for(Transfer& call) const {
    curl_slist* base = call.headers ? call.headers.get() : default_headers_.get();
    if (!call.signer) return base;
    SigningInput input{
        call.id(),         call.method, call.url, call.body, std::chrono::system_clock::now(),
        call.attempts_made};
    Headers extra = call.signer->sign(input);
    for (curl_slist* l = base; l; l = l->next) call.signed_headers.append(l->data);
    for (const auto& [name, value] : extra) {
      if (!is_http_token(name) || !is_header_value_safe(value))
        throw RequestError("the request signer made an invalid header '" + name + "'");
      call.signed_headers.append((name + ": " + value).c_str());
    }
    return call.signed_headers.get();
  }

 private:
  // The Client's small receive buffer, unless the handle's last answer took more than
  // one read of it: then a buffer that holds that answer, up to libcurl's 16 KiB. Calls
  // to one webhook tend to answer alike, and the idle handle taken next is the last one
  // put back; each read a small buffer adds is a recv and a poll. Only the touched pages of a
  // buffer are resident, so a larger one costs memory only while answers are large.
  long receive_buffer_for(const EasyHandle& handle) const {
    long size = options_.receive_buffer_size;
    while (size < CURL_MAX_WRITE_SIZE &&
           static_cast<std::size_t>(size) < handle.last_answer_bytes())
      size *= 2;
    return size;
  }

  // CURLOPT_HTTP_VERSION for the call (client_options.hpp, HttpVersion).
  long http_version_for(const Transfer& call) const noexcept {
    switch (options_.http_version) {
      case HttpVersion::http1_only:
        return CURL_HTTP_VERSION_1_1;
      case HttpVersion::h2_required:
        // prepare() refused http:// where libcurl breaks prior knowledge.
        return iequals(url_scheme(call.url), "https") ? CURL_HTTP_VERSION_2TLS
                                                      : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
      case HttpVersion::automatic:
        break;
    }
    return CURL_HTTP_VERSION_2TLS;
  }

  // libcurl's callbacks. libcurl is C: an exception thrown into its frames would unwind
  // past its cleanup and leave its state half-changed. So each is noexcept, and a failure
  // becomes a flag on the call that curl_outcome() turns into the call's error.
  static size_t on_write(char* data, size_t size, size_t count, void* userp) noexcept {
    auto& handle = *static_cast<EasyHandle*>(userp);
    auto& call = *handle.call;
    size_t n = size * count;
    if (n > call.max_response_bytes - handle.answer.size()) {
      call.too_large = true;
      return 0;  // anything but n makes libcurl stop with CURLE_WRITE_ERROR
    }
    try {
      if (handle.answer.empty()) handle.expect_answer(call.max_response_bytes);
      handle.answer.append(data, n);
    } catch (...) {
      call.out_of_memory = true;
      return 0;
    }
    return n;
  }

  static size_t on_header(char* data, size_t size, size_t count, void* userp) noexcept {
    auto& handle = *static_cast<EasyHandle*>(userp);
    auto& call = *handle.call;
    size_t n = size * count;
    // A status line on an origin's handle tells its protocol (origin_router.hpp).
    if (call.header_bytes == 0) OriginRouter::on_first_header(*handle.shard, {data, n});
    call.header_bytes += n;
    if (call.header_bytes > call.max_header_bytes) {
      call.headers_too_large = true;
      return 0;
    }
    return n;
  }

  static curl_socket_t on_open_socket(void* userp, curlsocktype purpose,
                                      curl_sockaddr* address) noexcept {
    auto& call = *static_cast<EasyHandle*>(userp)->call;
    if (purpose == CURLSOCKTYPE_IPCXN && call.address_filter) {
      try {  // the refusal's words are allocated
        if (auto refused = call.address_filter->check(&address->addr)) {
          call.blocked_address = std::move(refused->first);
          call.blocked_reason = std::move(refused->second);
          return CURL_SOCKET_BAD;
        }
      } catch (...) {
        call.out_of_memory = true;
        return CURL_SOCKET_BAD;  // not checked, so not connected
      }
    }
#ifdef SOCK_CLOEXEC
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
#else  // macOS: marked just after, a child forked by another thread in between inherits it
    const curl_socket_t fd = ::socket(address->family, address->socktype, address->protocol);
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
#endif
  }

  const ClientOptions& options_;
  AddressFilter address_filter_;
  HeaderList default_headers_;
  SharedCache share_;  // before the handles that use it, in the loop too
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
