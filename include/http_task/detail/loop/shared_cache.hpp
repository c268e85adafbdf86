// SPDX-License-Identifier: MIT
// What every multi handle of one Client shares through libcurl's share interface: TLS
// sessions and the DNS cache. The loop spreads its transfers over several multi handles
// (multi_shard.hpp), and without this each one, and each easy handle, kept its own TLS
// sessions: every new connection was a full handshake, even to a server the Client had
// just talked to. With it, a new connection resumes a session any shard got before.
//
// No lock functions: libcurl needs them only when two threads may use handles of one
// share at the same moment. Every handle of a Client is used by the thread holding the
// loop's role, one at a time, and the role passes under the Driver's mutex, which
// orders each holder's libcurl calls after the previous holder's (driver.hpp).
#pragma once

#include <http_task/error.hpp>

#include <curl/curl.h>

namespace http_task {
inline namespace v1 {
namespace detail {

class SharedCache {
 public:
  SharedCache() : share_(curl_share_init()) {
    if (!share_) throw TransportError(CURLE_FAILED_INIT, "curl_share_init failed");
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
  // Every easy handle using it must be gone first: the loop declares it before its
  // handles and shards, so it is destroyed after them.
  ~SharedCache() { curl_share_cleanup(share_); }
  SharedCache(const SharedCache&) = delete;
  SharedCache& operator=(const SharedCache&) = delete;

  CURLSH* get() const noexcept { return share_; }

 private:
  CURLSH* share_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
