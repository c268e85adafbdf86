// One of the loop's curl multi handles. The loop spreads its transfers over several,
// each holding at most kShardTransfers at once, because libcurl 7.88 looks for a
// reusable connection by walking every connection its multi handle has to that host:
// with 1,024 calls in flight to one webhook that walk was a quarter of libcurl's
// instructions per call (about 30,000 of 124,000 under callgrind, against 1,500 at 16
// in flight), and starting 10,000 calls at once walked 50 million connections. A shard
// keeps the walk short; all shards share the loop's epoll set, thread and timers.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace http_task::detail {

class MultiShard {
 public:
  using Clock = std::chrono::steady_clock;

  // Enough for a connection cache that stays busy between calls, few enough that a
  // walk over it costs little beside the rest of a call (about 30 instructions a
  // connection).
  static constexpr std::size_t kShardTransfers = 64;

  // owner: the callbacks' data, reached through owner(); index: this shard's place in
  // the loop's list, which never changes.
  MultiShard(std::uint32_t index, const ClientOptions& options, curl_socket_callback on_socket,
             curl_multi_timer_callback on_timer, void* owner)
      : multi_(curl_multi_init()), owner_(owner), index_(index) {
    if (!multi_) throw TransportError(CURLE_FAILED_INIT, "curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
  }
  ~MultiShard() { curl_multi_cleanup(multi_); }
  MultiShard(const MultiShard&) = delete;
  MultiShard& operator=(const MultiShard&) = delete;

  CURLM* get() const noexcept { return multi_; }
  void* owner() const noexcept { return owner_; }
  std::uint32_t index() const noexcept { return index_; }

  std::size_t transfers = 0;               // easy handles added and not yet removed
  std::optional<Clock::time_point> timer;  // when libcurl wants CURL_SOCKET_TIMEOUT
  bool touched = false;                    // acted on this turn: may have finished transfers

  // Set on an origin's shard (origin_router.hpp): which origin, and whether an answer
  // on it came over HTTP/1.x.
  static constexpr std::size_t kNoOrigin = static_cast<std::size_t>(-1);
  std::size_t origin = kNoOrigin;
  bool saw_http1 = false;

 private:
  CURLM* multi_;
  void* owner_;
  std::uint32_t index_;
};

}  // namespace http_task::detail
