// SPDX-License-Identifier: MIT
// A libcurl easy handle kept for reuse, and the options it was last given. libcurl keeps
// every option across transfers, so a call sets only what differs from the previous call
// on the same handle. Calls to one webhook then cost one or two curl_easy_setopt calls
// instead of a dozen: each is a pass through libcurl's option switch, and the URL one
// also copies the URL. The callbacks get the handle, which names the call it carries,
// so the per-call pointers (callback data, error buffer) are set once per handle, and
// the answer is read into the handle's buffer, which keeps its memory for the next call.
#pragma once

#include <curl/curl.h>

#include <climits>
#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {
namespace detail {

class MultiShard;
class Transfer;

class EasyHandle {
 public:
  // Null when libcurl cannot make a handle, or this one cannot be allocated (out of
  // memory): the loop then fails the call; a bad_alloc would leave the loop's turn.
  static std::unique_ptr<EasyHandle> create() noexcept {
    CURL* easy = curl_easy_init();
    if (!easy) return nullptr;
    auto* handle = new (std::nothrow) EasyHandle(easy);
    if (!handle) curl_easy_cleanup(easy);
    return std::unique_ptr<EasyHandle>(handle);
  }
  ~EasyHandle() { curl_easy_cleanup(easy_); }
  EasyHandle(const EasyHandle&) = delete;
  EasyHandle& operator=(const EasyHandle&) = delete;

  CURL* get() const noexcept { return easy_; }

  Transfer* call = nullptr;          // the call it carries now, for the callbacks
  MultiShard* shard = nullptr;       // the multi handle it is added to, if any
  char error[CURL_ERROR_SIZE] = {};  // libcurl's words on the last failure

  // The answer's bytes, this attempt. The decoder may take a buffer that end() would not
  // keep: answer is then empty.
  std::string answer;

  // The first bytes of an answer: room for all of it when libcurl knows its length and
  // it is within limit, so that a large answer is not copied again each time it grows.
  void expect_answer(std::size_t limit) {
    curl_off_t length = -1;
    curl_easy_getinfo(easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    if (length > 0 && static_cast<std::size_t>(length) <= limit)
      answer.reserve(static_cast<std::size_t>(length));
  }

  // Before an attempt: libcurl writes the error buffer only on failure.
  void begin() noexcept {
    answer.clear();
    error[0] = '\0';
  }

  // Whether end() keeps the answer's buffer for the next call: a rare large answer's
  // memory is not kept.
  bool keeps_answer_buffer() const noexcept { return answer.capacity() <= kKeptAnswerBytes; }

  // Back to the idle list. The answer's size is kept, for the next call's receive buffer:
  // libcurl's count of the bytes it read, which the decoder cannot take away.
  void end() noexcept {
    call = nullptr;
    curl_off_t bytes = 0;
    curl_easy_getinfo(easy_, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
    last_answer_bytes_ = bytes > 0 ? static_cast<std::size_t>(bytes) : 0;
    if (!keeps_answer_buffer()) std::string().swap(answer);
  }

  std::size_t last_answer_bytes() const noexcept { return last_answer_bytes_; }

  // A call's URL is never empty (prepare() checked its scheme): an empty url_ is unset.
  void url(const std::string& url) {
    if (url == url_) return;
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    url_.assign(url);
  }

  // libcurl keeps the pointer, not a copy: the same pointer is the same setting.
  void headers(const curl_slist* list) {
    if (list == headers_) return;
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, list);
    headers_ = list;
  }

  // CURLOPT_HTTP_VERSION, and whether to wait for a connection's streams (PIPEWAIT)
  // rather than open one: on an origin's h2 multi handle only (origin_router.hpp).
  void http_version(long version, bool pipewait) {
    set(http_version_, CURLOPT_HTTP_VERSION, version);
    set(pipewait_, CURLOPT_PIPEWAIT, pipewait ? 1L : 0L);
  }

  // CURLOPT_VERBOSE, its lines to callback with this handle, or off: on for the call that
  // learns an origin's protocol from its ALPN line (origin_router.hpp), off for the others.
  void watch_alpn(bool on, curl_debug_callback callback) {
    if (on && !debug_set_) {
      curl_easy_setopt(easy_, CURLOPT_DEBUGFUNCTION, callback);
      curl_easy_setopt(easy_, CURLOPT_DEBUGDATA, this);
      debug_set_ = true;
    }
    set(verbose_, CURLOPT_VERBOSE, on ? 1L : 0L);
  }

  void receive_buffer(long bytes) { set(receive_buffer_, CURLOPT_BUFFERSIZE, bytes); }
  void connect_timeout_ms(long ms) { set(connect_timeout_ms_, CURLOPT_CONNECTTIMEOUT_MS, ms); }
  void timeout_ms(long ms) { set(timeout_ms_, CURLOPT_TIMEOUT_MS, ms); }
  void max_redirects(long hops) {
    set(follow_, CURLOPT_FOLLOWLOCATION, hops > 0 ? 1L : 0L);
    set(max_redirects_, CURLOPT_MAXREDIRS, hops);
  }

  // The method and its body. HTTPGET, NOBODY and POSTFIELDS each undo what the others
  // set, so a change of kind sets the new kind's; a body is set on every call that has
  // one, as it is the call's own memory.
  void method(const std::string& method, bool has_body, const std::string& body) {
    const std::string_view name = method;  // compares without strlen
    const Kind kind = name == "HEAD" ? Kind::head : has_body ? Kind::body : Kind::get;
    if (kind == Kind::head) {
      if (kind_ != Kind::head) curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    } else if (kind == Kind::body) {
      if (kind_ == Kind::head) curl_easy_setopt(easy_, CURLOPT_NOBODY, 0L);
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body.c_str());
    } else if (kind_ != Kind::get) {
      curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
    }
    kind_ = kind;
    // Any other name goes on the wire as written, over the kind's own.
    // (A GET with a body, e.g. JSON, is a body kind named GET: written out, or curl says POST.)
    const bool standard =
        name == "POST" || (kind != Kind::body && (name == "GET" || name == "HEAD"));
    if (!standard) {
      curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, method.c_str());
      custom_method_ = true;
    } else if (custom_method_) {
      curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, nullptr);
      custom_method_ = false;
    }
  }

 private:
  enum class Kind { unset, get, head, body };
  static constexpr long kUnset = LONG_MIN;
  static constexpr std::size_t kKeptAnswerBytes = 16 * 1024;

  explicit EasyHandle(CURL* easy) : easy_(easy) {}

  void set(long& last, CURLoption option, long value) {
    if (last == value) return;
    curl_easy_setopt(easy_, option, value);
    last = value;
  }

  CURL* easy_;
  std::string url_;
  const curl_slist* headers_ = nullptr;
  std::size_t last_answer_bytes_ = 0;
  long receive_buffer_ = kUnset;
  long connect_timeout_ms_ = kUnset;
  long timeout_ms_ = kUnset;
  long follow_ = kUnset;
  long max_redirects_ = kUnset;
  long http_version_ = kUnset;
  long pipewait_ = kUnset;
  long verbose_ = kUnset;
  Kind kind_ = Kind::unset;
  bool custom_method_ = false;
  bool debug_set_ = false;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
