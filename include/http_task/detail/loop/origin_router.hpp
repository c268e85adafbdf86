// SPDX-License-Identifier: MIT
// Where calls to an https origin go, so that h2 multiplexes. libcurl keeps its
// connections per multi handle, and the loop spreads calls over multi handles of 64
// (multi_shard.hpp): an h2 origin then got a connection per shard at least, and libcurl
// 7.88, when a connection's streams are all taken, opens another one instead of waiting
// (1,000 calls in flight opened 881 connections). So every https call of an h2 origin
// goes to that origin's own multi handle, with CURLOPT_PIPEWAIT, and calls beyond its
// streams wait in libcurl's queue for a free one. The connection cap follows the calls:
// as many connections as their streams need (calls / h2_max_streams, rounded up), at
// most ClientOptions::h2_connections_per_origin. A fixed cap of many would not do: while
// a new connection is still handshaking, libcurl 7.88 does not count it as one to share,
// and opens another for each call that comes meanwhile, up to the cap.
//
// Whether an origin speaks h2 is known only once its first connection is up (ALPN). Until
// then the origin's first call (the probe) goes alone, capped at one connection, and the
// calls that come meanwhile are held here, in order, their deadlines still counted and
// cancellable. Sent to libcurl instead, they would be placed before the answer: over
// HTTP/1.1 they would queue behind the cap meant for h2, one at a time. The protocol is
// learnt from the probe's ALPN (libcurl's "ALPN: server accepted" line, on_debug), else
// from the first status line on the origin's handle ("HTTP/2" or "HTTP/1.x"). Then the
// held calls go: h2, to the origin's handle, multiplexed; HTTP/1.x, like plain http
// calls, a connection each. What was learnt is kept for the Client's life. Should every
// attempt on the origin's handle end with the protocol still unknown (a failed probe),
// the held calls go to the origin's handle at once, as they would have without holding,
// and the next call after them probes again: nothing waits for a protocol nobody tells.
//
// An origin that speaks HTTP/1.x uses its multi handle as one more ordinary shard (up to
// its 64 calls, uncapped, no PIPEWAIT): the probe's connection is reused there.
//
// A server that ends an h2 connection without answering its streams (GOAWAY then close,
// or a crash) leaves libcurl 7.88 with one readable event for many streams: libcurl
// marks the socket ready on the connection, the first stream to run takes the mark,
// reads the end and fails; the others find the socket quiet and wait for their
// timeout, and the calls libcurl queued again behind the origin's cap wait with them,
// as the dying connection still counts. So when a transfer on an h2 origin's handle
// fails, kick() tells libcurl each of the handle's sockets is readable again, as long
// as that ends a transfer: each stream left on a dead connection reads its end and
// fails at once, the connection closes, and the queued calls get a new one.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/loop/easy_handle.hpp>
#include <http_task/detail/loop/multi_shard.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class OriginRouter {
 public:
  using Clock = std::chrono::steady_clock;

  // The shards' indexes start here, past any ordinary shard's, so that one epoll key
  // (shard index, socket) names either kind.
  static constexpr std::uint32_t kFirstIndex = 0x40000000;
  // Past this many origins, calls to new ones go to the ordinary shards: each origin's
  // multi handle stays for the Client's life, with its connections and wake-up sockets.
  static constexpr std::size_t kMaxOrigins = 64;

  // Where one attempt goes.
  struct Route {
    MultiShard* shard = nullptr;  // nullptr: an ordinary shard
    bool pipewait = false;        // wait for an h2 connection's streams (CURLOPT_PIPEWAIT)
    bool probe = false;           // the origin's protocol is unknown: watch its ALPN
    std::size_t hold = MultiShard::kNoOrigin;  // else hold() the call for this origin
  };

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

  // Where a call goes: an ordinary shard (not https, routing off, no room for another
  // origin, or an HTTP/1.x origin's handle full), its origin's multi handle, or held
  // until the origin's protocol is known. Throws when a multi handle cannot be made.
  Route route(const Transfer& call) {
    if (!enabled_ || !iequals(url_scheme(call.url), "https")) return {};
    std::string_view key = origin_of(call.url);
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
    if (i == MultiShard::kNoOrigin) return {};
    last_ = i;
    Origin& origin = origins_[i];
    MultiShard& shard = *origin.shard;
    switch (origin.protocol) {
      case Protocol::http1:
        // h2_required keeps the cap: its HTTP/1.x answers are failures.
        if (options_.http_version == HttpVersion::h2_required) return {&shard, true};
        if (shard.transfers < MultiShard::kShardTransfers) return {&shard, false};
        return {};
      case Protocol::h2:
        break;
      case Protocol::unknown:
        if (!origin.unheld) {
          if (shard.transfers == 0 && origin.held.empty()) return {&shard, true, true};
          return {&shard, true, false, i};
        }
        break;
    }
    // Connections for the calls there and this one; curl_multi_setopt only stores it.
    long streams = options_.h2_max_streams > 0 ? options_.h2_max_streams : 100;
    long wanted = static_cast<long>(shard.transfers) / streams + 1;
    long most = options_.h2_connections_per_origin > 0 ? options_.h2_connections_per_origin : 1;
    wanted = wanted < most ? wanted : most;
    if (wanted != origin.cap) {
      curl_multi_setopt(shard.get(), CURLMOPT_MAX_HOST_CONNECTIONS, wanted);
      origin.cap = wanted;
    }
    return {&shard, true};
  }

  // Holds a call route() said to hold, in order behind its origin's others; false when it
  // cannot be (out of memory, or inside expire()): it is then sent as route() said.
  bool hold(const Route& route, const std::shared_ptr<Transfer>& call) noexcept {
    if (expiring_) return false;
    try {
      origins_[route.hold].held.push_back(call);
    } catch (...) {
      return false;
    }
    call->held = true;
    if (call->deadline && (!next_deadline_ || *call->deadline < *next_deadline_))
      next_deadline_ = call->deadline;
    return true;
  }

  // The earliest deadline of a held call, or nothing (maybe earlier than any: expire()
  // then finds none due and looks again).
  const std::optional<Clock::time_point>& next_deadline() const noexcept { return next_deadline_; }

  // After a turn: what the origins' handles told of their protocol. An origin that speaks
  // HTTP/1.x is not held to h2's cap any more (h2_required keeps it: its answers over
  // HTTP/1.x are failures). An origin whose protocol is now known, or whose attempts all
  // ended without telling it, releases its held calls in order: release(shared_ptr) starts
  // each, through route() again.
  template <class Release>
  void settle(Release&& release) {
    for (std::size_t i = 0; i < origins_.size(); ++i) {
      Origin& origin = origins_[i];
      MultiShard& shard = *origin.shard;
      // An h2 origin may answer over HTTP/1.x later (a new connection to another server).
      if (origin.protocol == Protocol::http1 ||
          (origin.protocol == Protocol::h2 && !shard.saw_http1))
        continue;
      if (shard.saw_http1) {
        origin.protocol = Protocol::http1;
        if (options_.http_version != HttpVersion::h2_required) {
          origin.cap = 0;
          curl_multi_setopt(shard.get(), CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
        }
      } else if (shard.saw_h2) {
        origin.protocol = Protocol::h2;
      } else if (shard.transfers > 0) {
        continue;
      } else {
        // Nothing on the wire could tell: the held calls go now, unheld, and once
        // they are done the next call probes again.
        origin.unheld = !origin.held.empty();
      }
      if (origin.held.empty()) continue;
      std::vector<std::shared_ptr<Transfer>> calls;
      calls.swap(origin.held);  // origin is not used past here: release() may add origins
      for (auto& call : calls) {
        call->held = false;
        release(std::move(call));
      }
    }
  }

  // Held calls whose deadline passed, and cancelled ones, leave: fail(Transfer&) answers
  // each that is not retired yet. The others stay in order.
  template <class Fail>
  void expire(Clock::time_point now, Fail&& fail) {
    if (!next_deadline_ || now < *next_deadline_) return;
    next_deadline_.reset();
    expiring_ = true;  // fail() may run continuations: nothing is held meanwhile
    for (auto& origin : origins_) {
      auto& held = origin.held;
      std::size_t kept = 0;
      for (std::size_t r = 0; r < held.size(); ++r) {
        Transfer& call = *held[r];
        const bool due = call.deadline && *call.deadline <= now;
        if (due || call.retired) continue;
        if (call.deadline && (!next_deadline_ || *call.deadline < *next_deadline_))
          next_deadline_ = call.deadline;
        if (kept != r) std::swap(held[kept], held[r]);
        ++kept;
      }
      while (held.size() > kept) {
        std::shared_ptr<Transfer> call = std::move(held.back());
        held.pop_back();
        call->held = false;
        if (!call->retired) fail(*call);
      }
    }
    expiring_ = false;
  }

  // The error of a call whose deadline passed while it was held; null when out of memory.
  static std::exception_ptr past_deadline(const Transfer& call) noexcept {
    try {
      return std::make_exception_ptr(TimeoutError(
          CURLE_OPERATION_TIMEDOUT,
          "the call's timeout of " + std::to_string(call.timeout_ms) +
              " ms passed before it was sent: it waited for the first call to its origin "
              "to tell whether the server speaks h2 or HTTP/1.1"));
    } catch (...) {
      return nullptr;
    }
  }

  // Every held call, taken out (shutdown): f(Transfer&) answers each not retired yet.
  template <class F>
  void drop_held(F&& f) {
    for (std::size_t i = 0; i < origins_.size(); ++i) {
      std::vector<std::shared_ptr<Transfer>> calls;
      calls.swap(origins_[i].held);
      for (auto& call : calls) {
        call->held = false;
        if (!call->retired) f(*call);
      }
    }
    next_deadline_.reset();
  }

  // libcurl's CURLOPT_DEBUGFUNCTION, on a probe's handle only (VERBOSE costs a formatted
  // line per step): its ALPN line tells the origin's protocol as soon as the TLS
  // handshake is done, before any answer. libcurl 7.88's words (vtls.h); newer ones too.
  static int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* userp) noexcept {
    auto& handle = *static_cast<EasyHandle*>(userp);
    if (type != CURLINFO_TEXT || !handle.shard) return 0;
    const std::string_view text(data, size);
    constexpr std::string_view accepted = "ALPN: server accepted ";
    if (text.substr(0, accepted.size()) == accepted) {
      const std::string_view protocol = text.substr(accepted.size());
      if (protocol.substr(0, 2) == "h2")
        handle.shard->saw_h2 = true;
      else if (protocol.substr(0, 7) == "http/1.")
        handle.shard->saw_http1 = true;
    } else if (text.substr(0, 26) == "ALPN: server did not agree") {
      handle.shard->saw_http1 = true;  // no ALPN: HTTP/1.1
    }
    return 0;
  }

  // A header line on an origin's handle: the first of an answer, its status line, tells
  // the protocol when the probe's ALPN line did not (a connection made before).
  static void on_first_header(MultiShard& shard, std::string_view line) noexcept {
    if (shard.origin == MultiShard::kNoOrigin) return;
    if (line.substr(0, 7) == "HTTP/1.")
      shard.saw_http1 = true;
    else if (line.substr(0, 7) == "HTTP/2 ")
      shard.saw_h2 = true;
  }

  // A transfer taken off an origin's handle: one that failed there, on an h2 origin, may
  // have left others on its connection to wait for a read (kick()).
  void ended(MultiShard& shard, const EasyHandle& handle) noexcept {
    if (shard.origin == MultiShard::kNoOrigin || handle.error[0] == '\0') return;
    if (origins_[shard.origin].protocol == Protocol::h2) shard.stream_failed = true;
  }

  // After a transfer failed on an h2 origin's handle: act(socket) (curl_multi_socket_action
  // with CURL_CSELECT_IN; returns libcurl's count of running transfers) on each socket of
  // the handle, again while that ends a transfer. Only one transfer of a connection takes
  // a readable mark, so each act ends at most one stream left on a dead connection; on a
  // live one the read finds nothing and the count stays.
  template <class Act>
  void kick(MultiShard& shard, Act&& act) noexcept {
    if (!shard.stream_failed) return;
    shard.stream_failed = false;
    try {
      kicking_.assign(shard.sockets.begin(), shard.sockets.end());  // act() changes them
    } catch (...) {
      return;  // out of memory: those streams wait for their timeout, as before
    }
    for (curl_socket_t s : kicking_) {
      int running = act(s);
      for (int now = act(s); now < running; now = act(s)) running = now;
    }
    kicking_.clear();
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

  void clear() noexcept {
    origins_.clear();
    index_.clear();
  }

 private:
  enum class Protocol { unknown, h2, http1 };

  struct Origin {
    std::string key;
    std::unique_ptr<MultiShard> shard;
    long cap = 1;  // CURLMOPT_MAX_HOST_CONNECTIONS now
    Protocol protocol = Protocol::unknown;
    // Set when attempts ended without telling the protocol: calls go to the handle
    // unheld until none is left there.
    bool unheld = false;
    std::vector<std::shared_ptr<Transfer>> held;  // in the order they came
  };

  // libcurl's socket callback on an origin's handle: keeps the handle's list of sockets
  // for kick(), then watches them as on any shard.
  static int watch_socket(CURL* easy, curl_socket_t s, int what, void* userp,
                          void* socketp) noexcept {
    auto& shard = *static_cast<MultiShard*>(userp);
    auto& sockets = shard.sockets;
    auto found = std::find(sockets.begin(), sockets.end(), s);
    if (what == CURL_POLL_REMOVE) {
      if (found != sockets.end()) {
        *found = sockets.back();
        sockets.pop_back();
      }
    } else if (found == sockets.end()) {
      try {
        sockets.push_back(s);
      } catch (...) {  // out of memory: kick() misses this one
      }
    }
    return shard.socket_callback()(easy, s, what, userp, socketp);
  }

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
    curl_multi_setopt(shard->get(), CURLMOPT_SOCKETFUNCTION, &OriginRouter::watch_socket);
    curl_multi_setopt(shard->get(), CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    // An h2 origin's handle may hold more connections than a shard's cache keeps.
    if (options_.h2_connections_per_origin > MultiShard::kCachedConnections)
      curl_multi_setopt(shard->get(), CURLMOPT_MAXCONNECTS, options_.h2_connections_per_origin);
    if (options_.h2_max_streams > 0)
      curl_multi_setopt(shard->get(), CURLMOPT_MAX_CONCURRENT_STREAMS, options_.h2_max_streams);
    Origin origin;
    origin.key = std::string(key);
    origin.shard = std::move(shard);
    origins_.push_back(std::move(origin));
    try {
      index_.emplace(origins_.back().key, origins_.size() - 1);
    } catch (...) {
      origins_.pop_back();
      throw;
    }
    return origins_.size() - 1;
  }

  const ClientOptions& options_;
  int any_fd_;
  curl_socket_callback on_socket_;
  curl_multi_timer_callback on_timer_;
  void* owner_;
  bool enabled_;
  bool expiring_ = false;
  std::vector<Origin> origins_;
  std::vector<curl_socket_t> kicking_;                  // kick()'s copy of a handle's sockets
  std::unordered_map<std::string, std::size_t> index_;  // by the key as written (case kept)
  std::size_t last_ = MultiShard::kNoOrigin;            // the last origin routed to
  std::optional<Clock::time_point> next_deadline_;      // of the held calls, at the earliest
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
