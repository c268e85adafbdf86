// SPDX-License-Identifier: MIT
// One of the loop's curl multi handles. The loop spreads its transfers over several,
// each holding at most kShardTransfers at once, because libcurl 7.88 looks for a
// reusable connection by walking every connection its multi handle has to that host:
// with one multi handle the walk grows with the calls in flight, so each call costs in
// proportion to them and starting N calls at once costs N squared (bench/README.md). A
// shard bounds the walk; all shards share the loop's Poller, thread and timers.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class MultiShard {
 public:
  using Clock = std::chrono::steady_clock;

  // Enough for a connection cache that stays busy between calls, few enough that a
  // walk over it costs little beside the rest of a call.
  static constexpr std::size_t kShardTransfers = 64;
  // Connections a multi handle keeps open, idle ones included (CURLMOPT_MAXCONNECTS):
  // what libcurl's default allows a full shard. The default itself, four per transfer
  // on the handle at the moment a connection is given back, shrinks whenever the calls
  // in flight dip between two waves: libcurl then closed the idle connections past it,
  // and the next wave opened new ones, each a TLS handshake over https.
  static constexpr long kCachedConnections = 4 * static_cast<long>(kShardTransfers);

  // owner: the callbacks' data, reached through owner(); index: this shard's place in
  // the loop's list, which never changes.
  // any_fd: an open descriptor of the loop's, to find free descriptor numbers with.
  MultiShard(std::uint32_t index, const ClientOptions& options, curl_socket_callback on_socket,
             curl_multi_timer_callback on_timer, void* owner, int any_fd)
      : multi_(make_multi(any_fd)), on_socket_(on_socket), owner_(owner), index_(index) {
    if (!multi_) throw TransportError(CURLE_FAILED_INIT, "curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
    // With a connection cap every call goes to one multi handle (shard_set.hpp), whose
    // transfers are not bounded by kShardTransfers: libcurl's default then, which grows
    // with them.
    if (options.max_host_connections <= 0 && options.max_total_connections <= 0)
      curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, kCachedConnections);
  }
  ~MultiShard() { curl_multi_cleanup(multi_); }
  MultiShard(const MultiShard&) = delete;
  MultiShard& operator=(const MultiShard&) = delete;

  CURLM* get() const noexcept { return multi_; }
  curl_socket_callback socket_callback() const noexcept { return on_socket_; }
  void* owner() const noexcept { return owner_; }
  std::uint32_t index() const noexcept { return index_; }

  std::size_t transfers = 0;               // easy handles added and not yet removed
  std::optional<Clock::time_point> timer;  // when libcurl wants CURL_SOCKET_TIMEOUT
  bool touched = false;                    // acted on this turn: may have finished transfers

  // Set on an origin's shard (origin_router.hpp): which origin, and whether a connection
  // or an answer on it came over HTTP/1.x, or over h2.
  static constexpr std::size_t kNoOrigin = static_cast<std::size_t>(-1);
  std::size_t origin = kNoOrigin;
  bool saw_http1 = false;
  bool saw_h2 = false;
  // The sockets libcurl watches there, and whether a transfer on an h2 connection there
  // failed since the last look (OriginRouter::kick).
  std::vector<curl_socket_t> sockets;
  bool stream_failed = false;

 private:
  // libcurl 7.88 gives each multi handle a socket pair for curl_multi_wakeup (which the
  // loop does not use), made without SOCK_CLOEXEC: every child process the application
  // starts would inherit two descriptors per shard. libcurl does not say which they are,
  // but the kernel hands out the lowest free numbers, so they are the two free ones
  // found just before curl_multi_init. Another thread may take one of those numbers in
  // between: then that descriptor is marked only if it is also an AF_UNIX stream socket
  // without FD_CLOEXEC, and at worst such a socket of the application's stops being
  // inherited across exec, while the pair's other end stays inheritable.
  static CURLM* make_multi(int any_fd) {
    int first = ::fcntl(any_fd, F_DUPFD_CLOEXEC, 0);
    int second = first < 0 ? -1 : ::fcntl(any_fd, F_DUPFD_CLOEXEC, 0);
    if (second >= 0) ::close(second);
    if (first >= 0) ::close(first);
    CURLM* multi = curl_multi_init();
    if (multi) {
      for (int fd : {first, second})
        if (fd >= 0) mark_wakeup_socket(fd);
    }
    return multi;
  }

  static void mark_wakeup_socket(int fd) noexcept {
    int type = 0;
#ifdef SO_DOMAIN
    int domain = 0;
    socklen_t len = sizeof domain;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX) return;
#else  // macOS has no SO_DOMAIN: the bound address's family says the same
    sockaddr_storage address{};
    socklen_t len = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) < 0 ||
        address.ss_family != AF_UNIX)
      return;
#endif
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) return;
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }

  CURLM* multi_;
  curl_socket_callback on_socket_;
  void* owner_;
  std::uint32_t index_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
