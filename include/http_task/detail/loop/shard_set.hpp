// SPDX-License-Identifier: MIT
// The loop's curl multi handles: the ordinary shards (multi_shard.hpp says why there
// are several) and the origins' (origin_router.hpp), the Poller their sockets are
// watched in (epoll or poll(2), poller.hpp), and libcurl's socket and timer callbacks. A
// socket the Poller refuses, or a
// multi handle that fails, marks the calls it strands (Transfer::loop_failure) and
// raises watch_failed(); the loop then ends them (EventLoop::fail_unwatched). The
// loop's driving thread only.
//
// Out of memory (the loop's guarantee, event_loop.hpp): act() and collect() never
// allocate, their turn lists reserved to one slot per multi handle (reserve_turn_lists)
// before one is made; a socket epoll refuses fails its transfer (on_socket) with no
// allocation inside libcurl's callback; a failing curl_multi_socket_action fails the
// shard's transfers (fail_shard).
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/loop/easy_handle.hpp>
#include <http_task/detail/loop/multi_shard.hpp>
#include <http_task/detail/loop/origin_router.hpp>
#include <http_task/detail/loop/poller.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class ShardSet {
 public:
  using Clock = std::chrono::steady_clock;

  // poller: the loop's, which outlives this. any_fd: an open descriptor of the loop's
  // (MultiShard says what for). active: the loop's calls on the wire, read to mark those
  // of a failed multi handle. out_of_memory: the error made up front for when memory
  // runs out.
  ShardSet(const ClientOptions& options, Poller& poller, int any_fd,
           const std::vector<std::shared_ptr<Transfer>>& active,
           const std::exception_ptr& out_of_memory)
      : options_(options),
        poller_(poller),
        any_fd_(any_fd),
        active_(active),
        out_of_memory_(out_of_memory) {
    // libcurl counts connection caps per multi handle: with one, they mean what they say.
    if (options_.max_host_connections > 0 || options_.max_total_connections > 0)
      shard_limit_ = std::numeric_limits<std::size_t>::max();
    add_shard();
  }

  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  // Closes every multi handle, while the Poller is there: libcurl may unregister sockets.
  void clear() noexcept {
    shards_.clear();
    router_.clear();
  }

  // Where a call goes (OriginRouter::route): its origin's multi handle, held until the
  // origin's protocol is known, or an ordinary shard (no shard named). Throws when a
  // multi handle cannot be made.
  OriginRouter::Route route(const Transfer& call) {
    reserve_turn_lists(1);  // for an origin route() may add
    return router_.route(call);
  }

  // The https origins' multi handles and the calls held for their protocol.
  OriginRouter& router() noexcept { return router_; }
  const OriginRouter& router() const noexcept { return router_; }

  // The first shard with room, a new one if none has: the first ones stay busy, so
  // their cached connections are the ones reused. nullptr if a new one cannot be made.
  MultiShard* shard_with_room() noexcept {
    for (; room_hint_ < shards_.size(); ++room_hint_)
      if (shards_[room_hint_]->transfers < shard_limit_) return shards_[room_hint_].get();
    try {
      add_shard();
    } catch (...) {
      return nullptr;
    }
    return shards_.back().get();
  }

  // Takes a handle off its multi handle; it keeps its answer and CURLINFO until reused.
  void remove(EasyHandle& handle) {
    MultiShard& shard = *handle.shard;
    curl_multi_remove_handle(shard.get(), handle.get());
    handle.shard = nullptr;
    --shard.transfers;
    router_.ended(shard, handle);
    if (shard.origin == MultiShard::kNoOrigin)
      room_hint_ = std::min<std::size_t>(room_hint_, shard.index());
  }

  // Acts on a turn's ready descriptors for the multi handles' sockets; returns whether
  // the inbox's wake-up descriptor (key 0) was among them.
  bool act_on(const ReadyEvent* events, int n) {
    static_assert(Poller::kIn == CURL_CSELECT_IN && Poller::kOut == CURL_CSELECT_OUT &&
                  Poller::kErr == CURL_CSELECT_ERR);
    bool inbox_woke = false;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t key = events[i].key;
      if (key >> 32 == 0) {  // the inbox's wake-up descriptor
        inbox_woke = true;
        continue;
      }
      const int mask = events[i].mask;
      // A shard closed in an earlier turn unregistered its sockets; should libcurl ever
      // leave one behind, its events are dropped rather than read past the shards.
      const std::uint64_t index = (key >> 32) - 1;
      MultiShard* shard = index < shards_.size() ? shards_[index].get() : router_.at(index);
      if (!shard) continue;
      act(*shard, static_cast<curl_socket_t>(key & 0xffffffffu), mask);
    }
    return inbox_woke;
  }

  // Acts on every multi handle whose libcurl timer is due by now.
  void act_on_timers(Clock::time_point now) {
    for (auto& shard : shards_) {
      if (shard->timer && now >= *shard->timer) {
        shard->timer.reset();  // libcurl may set a new one from inside
        act(*shard, CURL_SOCKET_TIMEOUT, 0);
      }
    }
    router_.for_each([&](MultiShard& shard) {
      if (shard.timer && now >= *shard.timer) {
        shard.timer.reset();
        act(shard, CURL_SOCKET_TIMEOUT, 0);
      }
    });
  }

  // Calls f on each multi handle acted on this turn, once. Completing a call may run an
  // inline continuation that starts calls: the list being read is set aside first, so
  // nothing it does can change it. Then the handles kicked for a failed h2 stream
  // (OriginRouter::kick), once more, for the transfers the kick ended: kicked again at the
  // next turn at the earliest, so calls started by continuations cannot keep it going.
  template <class F>
  void collect(F&& f) {
    for (int pass = 0; pass < 2; ++pass) {
      collecting_.swap(touched_);
      for (MultiShard* shard : collecting_) {
        shard->touched = false;
        f(*shard);
        if (pass == 0)
          router_.kick(*shard, [&](curl_socket_t s) {
            act(*shard, s, CURL_CSELECT_IN);
            return running_;
          });
      }
      collecting_.clear();
    }
  }

  // The earliest libcurl timer of any multi handle, to f.
  template <class F>
  void for_each_timer(F&& f) const {
    for (auto& shard : shards_)
      if (shard->timer) f(*shard->timer);
    router_.for_each([&](const MultiShard& shard) {
      if (shard.timer) f(*shard.timer);
    });
  }

  // Closes the last shards once they are empty and the calls in flight would fit in half
  // the shards before them: an empty shard runs no transfers, so libcurl never prunes its
  // idle connections, which would stay open, with its wake-up socket pair, after a burst.
  // Half, so that calls going up and down around a shard's edge do not make and drop it
  // each time. Only at the end of a turn: no shard is being read then.
  void drop_idle_shards(std::size_t in_flight) {
    while (shards_.size() > 1 && shards_.back()->transfers == 0 && !shards_.back()->touched &&
           in_flight <= (shards_.size() - 1) * shard_limit_ / 2)
      shards_.pop_back();  // curl_multi_cleanup: closes its connections, off the Poller
    room_hint_ = std::min(room_hint_, shards_.size());
  }

  // Whether a call's answer came over HTTP/1.x where that matters: on an origin's shard
  // (the origin is then not held to h2's connection cap, origin_router.hpp), and for a
  // Client that requires h2 (true: the call fails).
  bool answered_below_h2(MultiShard& shard, CURL* easy) const noexcept {
    if (shard.origin == MultiShard::kNoOrigin && options_.http_version != HttpVersion::h2_required)
      return false;
    long version = CURL_HTTP_VERSION_NONE;
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
    const bool below = version == CURL_HTTP_VERSION_1_0 || version == CURL_HTTP_VERSION_1_1;
    if (below && shard.origin != MultiShard::kNoOrigin) shard.saw_http1 = true;
    return below && options_.http_version == HttpVersion::h2_required;
  }

  // Whether some call on the wire has a loop_failure to end with; cleared when read.
  bool take_watch_failed() noexcept { return std::exchange(watch_failed_, false); }

 private:
  // act() and collect() never allocate: one slot per multi handle, ordinary shards and
  // origins' alike, and `more` for one about to be made.
  void reserve_turn_lists(std::size_t more) {
    touched_.reserve(shards_.size() + router_.size() + more);
    collecting_.reserve(shards_.size() + router_.size() + more);
  }

  void add_shard() {
    reserve_turn_lists(1);
    auto index = static_cast<std::uint32_t>(shards_.size());
    shards_.push_back(std::make_unique<MultiShard>(index, options_, &ShardSet::on_socket,
                                                   &ShardSet::on_timer, static_cast<void*>(this),
                                                   any_fd_));
  }

  // One curl_multi_socket_action; the shard's finished transfers are read after the
  // turn's events, once per shard.
  void act(MultiShard& shard, curl_socket_t s, int mask) {
    CURLMcode mc = curl_multi_socket_action(shard.get(), s, mask, &running_);
    if (mc != CURLM_OK) fail_shard(shard, mc);
    if (!shard.touched) {
      shard.touched = true;
      touched_.push_back(&shard);
    }
  }

  // Out of memory, or a libcurl error with no transfer named: every transfer of the
  // shard may be stuck, so every one ends with the code.
  void fail_shard(MultiShard& shard, CURLMcode mc) noexcept {
    std::exception_ptr error = out_of_memory_;
    if (mc != CURLM_OUT_OF_MEMORY) {
      try {
        error = std::make_exception_ptr(
            TransportError(CURLE_FAILED_INIT,
                           std::string("curl_multi_socket_action: ") + curl_multi_strerror(mc)));
      } catch (...) {
      }
    }
    for (auto& call : active_)
      if (call->easy && call->easy->shard == &shard && !call->loop_failure)
        call->loop_failure = error;
    watch_failed_ = true;
  }

  // A socket the Poller refused (out of memory, the user's limit of epoll watches): its transfer
  // would wait for its timeout without ever being told the socket is ready.
  void unwatched(CURL* easy, int err) noexcept {
    void* p = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
    if (!p || !static_cast<EasyHandle*>(p)->call) return;
    Transfer& call = *static_cast<EasyHandle*>(p)->call;
    if (call.loop_failure) return;
    call.loop_failure = out_of_memory_;
    if (err != ENOMEM) {
      try {
        call.loop_failure = std::make_exception_ptr(TransportError(
            CURLE_FAILED_INIT, std::string(poller_.watcher()) +
                                   " refused the connection's socket: " + std::strerror(err)));
      } catch (...) {
      }
    }
    watch_failed_ = true;
  }

  // libcurl's multi callbacks: noexcept, as no exception may unwind through libcurl's
  // frames; a failure becomes a flag on the call (unwatched).
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp) noexcept {
    auto& shard = *static_cast<MultiShard*>(userp);
    auto& self = *static_cast<ShardSet*>(shard.owner());
    if (what == CURL_POLL_REMOVE) {
      self.poller_.forget(s);
      return 0;
    }
    // Which shard the socket is libcurl's in, and the socket: 0 above is the inbox.
    const std::uint64_t key =
        (std::uint64_t{shard.index()} + 1) << 32 | static_cast<std::uint32_t>(s);
    // socketp marks sockets already watched; curl forgets it on REMOVE.
    if (int err = self.poller_.watch(s, key, what & CURL_POLL_IN, what & CURL_POLL_OUT,
                                     socketp != nullptr)) {
      // Not assigned: should libcurl name the socket again, it is watched anew.
      self.unwatched(easy, err);
      return 0;
    }
    if (!socketp) curl_multi_assign(shard.get(), s, &self);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) noexcept {
    auto& shard = *static_cast<MultiShard*>(userp);
    if (timeout_ms < 0)
      shard.timer.reset();
    else
      shard.timer = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  const ClientOptions& options_;
  Poller& poller_;
  int any_fd_;
  const std::vector<std::shared_ptr<Transfer>>& active_;
  std::exception_ptr out_of_memory_;
  std::vector<std::unique_ptr<MultiShard>> shards_;
  OriginRouter router_{options_, &ShardSet::on_socket, &ShardSet::on_timer,
                       static_cast<void*>(this), any_fd_};
  std::vector<MultiShard*> touched_;  // shards acted on this turn
  std::vector<MultiShard*> collecting_;
  std::size_t shard_limit_ = MultiShard::kShardTransfers;
  std::size_t room_hint_ = 0;  // no shard before this one has room
  int running_ = 0;
  bool watch_failed_ = false;  // some active call has a loop_failure
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
