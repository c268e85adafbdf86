// Where calls to an https origin go, so that h2 multiplexes. libcurl keeps its
// connections per multi handle, and the loop spreads calls over multi handles of 64
// (multi_shard.hpp): an h2 origin then got a connection per shard at least, and libcurl
// 7.88, when a connection's streams are all taken, opens another one instead of waiting
// (1,000 calls in flight opened 881 connections). So every https call of an origin goes
// to that origin's own multi handle, with CURLOPT_PIPEWAIT: the first call's connection
// negotiates, the others wait for its answer to ALPN and then share it, and calls beyond
// its streams wait in libcurl's queue for a free one. The connection cap follows the
// calls: as many connections as their streams need (calls / h2_max_streams, rounded
// up), at most ClientOptions::h2_connections_per_origin. A fixed cap of many would not
// do: while a new connection is still handshaking, libcurl 7.88 does not count it as
// one to share, and opens another for each call that comes meanwhile, up to the cap.
//
// The cap is there from the first call, as whether the origin speaks h2 is known only
// once its first connection is up, and by then libcurl has placed every waiting call.
// An origin that answers over HTTP/1.1 would be held to the cap: the first such answer
// (its status line, or a finished call) lifts it, and the origin's later calls go to the
// ordinary shards, where a connection per call in flight is what HTTP/1.1 needs.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/loop/multi_shard.hpp>

#include <curl/curl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace http_task::detail {

class OriginRouter {
 public:
  // The shards' indexes start here, past any ordinary shard's, so that one epoll key
  // (shard index, socket) names either kind.
  static constexpr std::uint32_t kFirstIndex = 0x40000000;
  // Past this many origins, calls to new ones go to the ordinary shards: each origin's
  // multi handle stays for the Client's life, with its connections and wake-up sockets.
  static constexpr std::size_t kMaxOrigins = 64;

  // any_fd: an open descriptor of the loop's (MultiShard says what for).
  OriginRouter(const ClientOptions& options, curl_socket_callback on_socket,
               curl_multi_timer_callback on_timer, void* owner, int any_fd)
      : options_(options),
        any_fd_(any_fd),
        on_socket_(on_socket),
        on_timer_(on_timer),
        owner_(owner),
        // Connection caps count per multi handle: with one set, every call stays on one.
        enabled_(options.http_version != HttpVersion::http1_only &&
                 options.max_host_connections <= 0 && options.max_total_connections <= 0) {}

  // The origin's shard for a call to url, or nullptr: not https, an origin known to
  // answer over HTTP/1.x, routing off, or no room. Throws when a multi handle cannot be
  // made.
  MultiShard* route(std::string_view url) {
    if (!enabled_ || !iequals(url_scheme(url), "https")) return nullptr;
    std::string_view key = origin_of(url);
    std::size_t i = MultiShard::kNoOrigin;
    if (last_ < origins_.size() && origins_[last_].key == key) {
      i = last_;
    } else {
      auto found = index_.find(std::string(key));
      if (found != index_.end()) {
        i = found->second;
      } else if (origins_.size() < kMaxOrigins) {
        i = add(key);
      }
    }
    if (i == MultiShard::kNoOrigin) return nullptr;
    last_ = i;
    Origin& origin = origins_[i];
    MultiShard& shard = *origin.shard;
    if (origin.http1) return nullptr;
    // Connections for the calls there and this one; curl_multi_setopt only stores it.
    long streams = options_.h2_max_streams > 0 ? options_.h2_max_streams : 100;
    long wanted = static_cast<long>(shard.transfers) / streams + 1;
    long most = options_.h2_connections_per_origin > 0 ? options_.h2_connections_per_origin : 1;
    wanted = wanted < most ? wanted : most;
    if (wanted != origin.cap) {
      curl_multi_setopt(shard.get(), CURLMOPT_MAX_HOST_CONNECTIONS, wanted);
      origin.cap = wanted;
    }
    return &shard;
  }

  // How many origins have a multi handle of their own.
  std::size_t size() const noexcept { return origins_.size(); }

  // By index (kFirstIndex and up), or nullptr.
  MultiShard* at(std::uint64_t index) const noexcept {
    if (index < kFirstIndex || index - kFirstIndex >= origins_.size()) return nullptr;
    return origins_[index - kFirstIndex].shard.get();
  }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& origin : origins_) f(*origin.shard);
  }

  // After a turn: an origin whose shard saw an HTTP/1.x answer is not held to the cap
  // any more, and its next calls go to the ordinary shards. h2_required keeps the cap:
  // its HTTP/1.x answers are failures.
  void settle() {
    if (options_.http_version == HttpVersion::h2_required) return;
    for (auto& origin : origins_) {
      if (!origin.shard->saw_http1 || origin.http1) continue;
      origin.http1 = true;
      origin.cap = 0;
      curl_multi_setopt(origin.shard->get(), CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    }
  }

  void clear() noexcept {
    origins_.clear();
    index_.clear();
  }

 private:
  struct Origin {
    std::string key;
    std::unique_ptr<MultiShard> shard;
    long cap = 1;  // CURLMOPT_MAX_HOST_CONNECTIONS now
    bool http1 = false;
  };

  // "https://host:port" of a URL, as written: the scheme and authority.
  static std::string_view origin_of(std::string_view url) noexcept {
    std::size_t start = url.find("://");
    start = start == std::string_view::npos ? 0 : start + 3;
    std::size_t end = url.find_first_of("/?#", start);
    return url.substr(0, end);
  }

  std::size_t add(std::string_view key) {
    const auto index = static_cast<std::uint32_t>(kFirstIndex + origins_.size());
    auto shard =
        std::make_unique<MultiShard>(index, options_, on_socket_, on_timer_, owner_, any_fd_);
    shard->origin = origins_.size();
    curl_multi_setopt(shard->get(), CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    if (options_.h2_max_streams > 0)
      curl_multi_setopt(shard->get(), CURLMOPT_MAX_CONCURRENT_STREAMS, options_.h2_max_streams);
    index_.emplace(std::string(key), origins_.size());
    origins_.push_back({std::string(key), std::move(shard), 1, false});
    return origins_.size() - 1;
  }

  const ClientOptions& options_;
  int any_fd_;
  curl_socket_callback on_socket_;
  curl_multi_timer_callback on_timer_;
  void* owner_;
  bool enabled_;
  std::vector<Origin> origins_;
  std::unordered_map<std::string, std::size_t> index_;  // by the key as written (case kept)
  std::size_t last_ = MultiShard::kNoOrigin;            // the last origin routed to
};

}  // namespace http_task::detail
