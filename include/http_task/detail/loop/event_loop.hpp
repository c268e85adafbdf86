// SPDX-License-Identifier: MIT
// The engine: curl multi handles driven through multi_socket_action, with a Poller
// (epoll, or poll(2) where epoll is absent or asked for: poller.hpp) watching only the
// sockets libcurl names, so a turn costs O(ready sockets), or O(open sockets) with poll(2),
// rather than O(transfers). Everything here runs on the thread that holds the loop's role
// (driver.hpp), one at a time; other threads reach it only through the Inbox. This file is
// the turn and a call's way through the loop; its parts: shard_set.hpp (the multi handles,
// libcurl's socket callbacks), transfer_setup.hpp (an easy handle set up for a call, the
// answer's callbacks), retry_queue.hpp (whether and when to try again), curl_outcome.hpp
// (an attempt's end to the call's outcome), detail/policy/origin_policies.hpp (each
// origin's rate limit, circuit breaker, statistics and delivery rules).
//
// Out of memory: every call completes, whatever allocation fails. A call the loop
// holds sits in exactly one of: a command (commands_, the Inbox's queue), active_
// (on the wire), retries_ (waiting for its retry), a rate limiter's line (waiting for its
// origin's turn, policies_), an origin's held calls (ShardSet's router, waiting for the
// origin's protocol); and every move between them either cannot allocate or fails the
// call. The parts' sites say why they are safe where they are: Inbox::push,
// ShardSet (act, on_socket), CallState::complete, origin_policies.hpp. This file's:
//   - drain_inbox: swaps vectors, no allocation.
//   - start_attempt: a multi handle (ShardSet::add_shard) and the easy handle fail the
//     call when they cannot be made; a call the router cannot hold is sent at once; configure (URL,
//     headers, signer) is caught and fails the call; active_ is reserved before the handle is given
//     to libcurl.
//   - collect_finished: the outcome (decoding, error words) is caught and replaced by
//     out_of_memory_, made when the loop was; schedule_retry is caught and the call
//     completes with its answer or out_of_memory_.
//   - recycle: HandlePool::recycle catches put_back (the handle is then freed).
//   - retire: the log hook's record is caught with the hook (send_call_record).
// libcurl's own allocations fail inside libcurl, which ends the transfer with
// CURLE_OUT_OF_MEMORY like any other error.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/future/outcome.hpp>
#include <http_task/detail/loop/backend_choice.hpp>
#include <http_task/detail/loop/curl_global.hpp>
#include <http_task/detail/loop/curl_outcome.hpp>
#include <http_task/detail/loop/driver.hpp>
#include <http_task/detail/loop/easy_handle.hpp>
#include <http_task/detail/loop/handle_pool.hpp>
#include <http_task/detail/loop/inbox.hpp>
#include <http_task/detail/loop/multi_shard.hpp>
#include <http_task/detail/loop/poller.hpp>
#include <http_task/detail/loop/retry_queue.hpp>
#include <http_task/detail/loop/shard_set.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/loop/transfer_setup.hpp>
#include <http_task/detail/policy/origin_policies.hpp>
#include <http_task/error.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class EventLoop final : public Driver::Engine {
 public:
  explicit EventLoop(const ClientOptions& options)
      // libcurl's global setup comes before any of its objects: the members below make
      // the share handle and the first multi handle.
      : options_(options),
        backend_(resolve_loop_backend(options.loop_backend)),
        poller_((ensure_curl_global_init(), make_poller(backend_))) {
    // The inbox's wake-up descriptor, under key 0 (ShardSet::act_on).
    if (int err = poller_->watch(inbox_->fd(), 0, true, false, false))
      throw std::system_error(err, std::generic_category(), poller_->watcher());
  }

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The Poller, the header list and the multi handles are members that free
  // themselves, as the constructor may throw after making them (out of descriptors,
  // out of memory).
  ~EventLoop() {
    shutdown();
    handles_.clear();
    shards_.clear();  // while the Poller is there: libcurl may unregister sockets
  }

  const std::shared_ptr<Inbox>& inbox() const noexcept { return inbox_; }

  // Per-origin statistics and breaker states (OriginTable::stats(), state()): any thread.
  const OriginTable& origins() const noexcept { return policies_.origins(); }

  // For hosting the loop in another event loop: this descriptor (the epoll set; -1 on the
  // poll backend, which has none) turns readable when a turn has work; next_timeout_ms()
  // (-1: none) says when one is due anyway. Driving thread only.
  int fd() const noexcept { return poller_->fd(); }
  // The backend in use (epoll or poll), automatic resolved.
  LoopBackend backend() const noexcept { return backend_; }
  int next_timeout_ms() const { return wait_ms(-1); }

  // One turn: waits at most max_wait_ms (-1: until something happens), does all
  // that is ready, and returns whether the loop still accepts work.
  bool turn(int max_wait_ms) override {
    LoopRoleScope role;  // for an EventLoop driven directly (run_once)
    const int n = poller_->wait(events_, kMaxEvents, wait_ms(max_wait_ms));
    const bool inbox_woke = shards_.act_on(events_, n);
    const auto now = Clock::now();
    shards_.act_on_timers(now);
    if (shards_.take_watch_failed()) fail_unwatched();
    collect_finished();
    // Held calls (origin_router.hpp): released once their origin's protocol is known,
    // failed when their deadline passes first.
    shards_.router().settle([&](std::shared_ptr<Transfer> call) { start(std::move(call)); });
    shards_.router().expire(now, [&](Transfer& call) {
      std::exception_ptr error = OriginRouter::past_deadline(call);
      fail(call, error ? error : out_of_memory_);
    });
    start_due_retries();
    if (inbox_woke || inbox_->self_posted()) drain_inbox(inbox_woke);
    start_limited();
    shards_.drop_idle_shards(active_.size());
    handles_.trim(active_.size(), !retries_.empty(), now);
    return !closing_;
  }

  // Hands a call to libcurl; the next turn sends it. Sending here as well would cost a
  // curl_multi_socket_action per call, which walks libcurl's timers: starting 5,000
  // calls took twice the CPU of raw libcurl that way.
  void start_now(Inbox::Command command) override {
    if (command.kind == Inbox::Kind::start) inbox_->call_started();
    take(command);
  }

  int take_answered_sleepers() override { return std::exchange(answered_sleepers_, 0); }

  // Answers every call still here with CancelledError; nothing is left hanging.
  // Every result is completed first, which is cheap; taking the transfers off the
  // wire closes a connection each and takes longer, so nobody waits for that.
  void shutdown() override {
    closing_ = true;
    inbox_->close();
    drain_inbox(true);
    for (auto& call : active_) call->cancel();
    retries_.for_each([](Transfer& call) { call.cancel(); });
    shards_.router().drop_held([&](Transfer& call) {  // held for their origin's protocol
      call.cancel();
      retire(call);
    });
    while (!active_.empty()) abort(*active_.back());
    retries_.for_each([&](Transfer& call) { retire(call); });
    retries_.clear();
    policies_.drain([this](std::shared_ptr<Transfer> call) {  // waiting for their turn
      call->cancel();
      retire(*call);
    });
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxEvents = 256;

  // How long a turn may sleep: until libcurl's timer, the next retry or the handle
  // pool's trim is due.
  int wait_ms(int max_wait_ms) const {
    int ms = inbox_->self_posted() ? 0 : max_wait_ms;
    auto wake_by = [&](Clock::time_point t) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
      int due = static_cast<int>(std::clamp<long long>(left, 0, 24 * 3600 * 1000));
      ms = ms < 0 ? due : std::min(ms, due);
    };
    shards_.for_each_timer(wake_by);
    if (!retries_.empty()) wake_by(retries_.next_due());
    if (auto due = policies_.next_due()) wake_by(*due);  // rate limit: a waiting call's
    if (auto held = shards_.router().next_deadline()) wake_by(*held);  // a held call's
    if (auto due = handles_.trim_due(active_.size())) wake_by(*due);
    return ms;
  }

  void drain_inbox(bool fd_readable) {
    inbox_->take(commands_, fd_readable);
    if (inbox_->closed()) closing_ = true;
    for (auto& command : commands_) take(command);
    commands_.clear();
  }

  void take(Inbox::Command& command) {
    if (command.kind == Inbox::Kind::start)
      start(std::move(command.call));
    else
      abort(*command.call);
  }

  void start(std::shared_ptr<Transfer> call) {
    if (call->refused) call->complete(Outcome::failure(call->refused));
    if (closing_) call->cancel();
    if (call->ready()) {  // refused, or cancelled before it was sent: never sent
      retire(*call);
      return;
    }
    start_attempt(std::move(call));
  }

  // admitted: the rate limiter let it through already (start_limited).
  void start_attempt(std::shared_ptr<Transfer> call, bool admitted = false) {
    // Hook: rate limit; over it, the call waits in its origin's line.
    auto admission = policies_.admit_rate(call, admitted);
    if (admission == OriginPolicies::Admission::wait) return;
    if (admission == OriginPolicies::Admission::no_memory) return fail(*call, out_of_memory_);
    OriginRouter::Route route;
    try {
      route = shards_.route(*call);
    } catch (...) {  // no multi handle for the origin: its call goes with the others
    }
    // Held until the origin's protocol is known (origin_router.hpp).
    if (route.hold != MultiShard::kNoOrigin && shards_.router().hold(route, call)) return;
    // Hook: the circuit breaker may refuse here; after the hold, so that a held call is
    // admitted once, when it is sent.
    if (!policies_.admit_to_send(*call)) {
      retire(*call);
      return;
    }
    const bool multiplexed = route.pipewait;
    MultiShard* shard = route.shard ? route.shard : shards_.shard_with_room();
    std::unique_ptr<EasyHandle> handle = shard ? take_easy() : nullptr;
    if (!handle) {
      fail(*call, start_failure(shard ? "curl_easy_init failed" : "curl_multi_init failed", "",
                                out_of_memory_));
      return;
    }
    call->begin_attempt();
    handle->begin();
    handle->call = call.get();
    try {
      setup_.configure(*handle, *call, multiplexed);
    } catch (...) {  // a signer that threw, or a deadline already passed
      call->complete(Outcome::failure(std::current_exception()));
      retire(*call);
      recycle(std::move(handle));
      return;
    }
    try {
      active_.reserve(active_.size() + 1);
    } catch (...) {
      fail(*call, out_of_memory_);
      recycle(std::move(handle));
      return;
    }
    handle->watch_alpn(route.probe, &OriginRouter::on_debug);  // the origin's protocol
    CURL* easy = handle->get();
    call->easy = std::move(handle);
    call->active_index = active_.size();
    active_.push_back(call);
    handles_.started(active_.size());
    CURLMcode mc = curl_multi_add_handle(shard->get(), easy);
    if (mc == CURLM_OK) {
      call->easy->shard = shard;
      ++shard->transfers;
    } else {
      handle = detach(*call).handle;
      fail(*call,
           start_failure("curl_multi_add_handle: ", curl_multi_strerror(mc), out_of_memory_));
      recycle(std::move(handle));
    }
  }

  // Reads the finished transfers of every multi handle acted on this turn.
  void collect_finished() {
    shards_.collect([this](MultiShard& shard) { collect_finished(shard); });
  }

  void collect_finished(MultiShard& shard) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(shard.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;
      void* p = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
      auto& call = *static_cast<EasyHandle*>(p)->call;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &call.http_status);
      const bool wrong_version = rc == CURLE_OK && shards_.answered_below_h2(shard, easy);
      auto [keep, handle] = detach(call);
      shards_.remove(*handle);
      policies_.attempt_ended(call, rc);  // Hook: the breaker counts the attempt's outcome
      if (call.ready()) {                 // cancelled while the answer arrived
        retire(call);
      } else if (wrong_version) {
        fail(call, h2_required_failure(out_of_memory_));
      } else if (auto delay = retries_.retry_delay(call, rc, easy, closing_);
                 delay && retries_.schedule_retry(keep, *delay)) {
      } else {
        try {
          call.complete(attempt_outcome(call, rc, *handle, options_));
        } catch (...) {  // decoding or the error's words ran out of memory
          call.complete(Outcome::failure(out_of_memory_));
        }
        // Hook: the dead-letter hook, a 410 Gone opening the origin's breaker.
        policies_.gave_up(call, rc, closing_, setup_.default_headers());
        if (call.has_sleepers()) ++answered_sleepers_;
        retire(call);
      }
      recycle(std::move(handle));
    }
  }

  // Rate limit: starts the waiting calls whose turn came; those whose deadline passed
  // while they waited end with TimeoutError (origin_policies.hpp).
  void start_limited() {
    policies_.run_limited(
        setup_.default_headers(),
        [this](std::shared_ptr<Transfer> call) {
          if (closing_) call->cancel();
          if (call->ready()) return retire(*call);  // cancelled meanwhile: gives its place back
          start_attempt(std::move(call), true);
        },
        [this](Transfer& call) { retire(call); });
  }

  // Starts the calls whose retry is due (retry_queue.hpp).
  void start_due_retries() {
    const auto now = Clock::now();
    while (auto call = retries_.take_due(now)) {
      if (call->retired) continue;  // cancelled while it waited
      if (closing_) call->cancel();
      if (call->ready()) {
        retire(*call);
        continue;
      }
      start_attempt(std::move(call));
    }
  }

  // A cancelled call: take it off the wire now, which releases its connection.
  void abort(Transfer& call) {
    if (call.waiting_limit) {  // rate limit: leaves its origin's line
      policies_.leave_line(call);
      retire(call);
      return;
    }
    if (call.waiting_retry) {
      // Released now, not when its retry would be due (up to max_backoff or
      // max_retry_after later): its entry leaves the heap.
      std::shared_ptr<Transfer> keep = retries_.remove(call);
      call.waiting_retry = false;
      retire(call);
      return;
    }
    if (call.held) {  // the router drops it from its origin's held calls later
      retire(call);
      return;
    }
    if (call.active_index == static_cast<std::size_t>(-1)) return;  // finished or never started
    auto [keep, handle] = detach(call);
    shards_.remove(*handle);
    retire(call);
    recycle(std::move(handle));
  }

  // A call off the active list, and its handle, which stays readable (answer, error,
  // CURLINFO) until it is recycled.
  struct Detached {
    std::shared_ptr<Transfer> call;  // keeps the call alive while the loop finishes it
    std::unique_ptr<EasyHandle> handle;
  };
  Detached detach(Transfer& call) {
    policies_.release(call);  // rate limit: the origin's place in flight
    std::size_t i = call.active_index;
    Detached out{std::move(active_[i]), std::move(call.easy)};
    if (i + 1 != active_.size()) {
      active_[i] = std::move(active_.back());
      active_[i]->active_index = i;
    }
    active_.pop_back();
    call.active_index = static_cast<std::size_t>(-1);
    return out;
  }

  // The call is done for the loop: tell the log hook, then drop what it no longer needs.
  void retire(Transfer& call) noexcept {
    if (call.retired) return;
    call.retired = true;
    policies_.release(call);  // rate limit: an attempt that never got on the wire
    inbox_->call_retired();
    policies_.retired(call);  // Hook: the breaker and statistics count the call's result
    if (call.watch_settled.exchange(true, std::memory_order_acq_rel)) inbox_->unwatch();
    if (options_.on_call_finished) send_call_record(options_, call);  // the log hook
    std::string().swap(call.body);
    call.signed_headers.clear();
  }

  std::unique_ptr<EasyHandle> take_easy() {
    return handles_.take_or_make([this](EasyHandle& handle) { setup_.configure_handle(handle); });
  }

  void recycle(std::unique_ptr<EasyHandle> handle) noexcept {
    handles_.recycle(std::move(handle), active_.size());
  }

  // Completes a call the loop holds with this error and retires it; never throws.
  void fail(Transfer& call, const std::exception_ptr& error) noexcept {
    call.complete(Outcome::failure(error));
    retire(call);
  }

  // A transfer libcurl cannot go on with must end now, not at its timeout: its socket
  // could not be watched (on_socket), or its multi handle failed.
  void fail_unwatched() noexcept {
    for (std::size_t i = active_.size(); i-- > 0;) {  // detach() moves the last into i
      if (i >= active_.size()) continue;
      Transfer& call = *active_[i];
      if (!call.loop_failure) continue;
      std::exception_ptr error = std::move(call.loop_failure);
      call.loop_failure = nullptr;
      auto [keep, handle] = detach(call);
      shards_.remove(*handle);
      fail(call, error);
      recycle(std::move(handle));
    }
  }

  const ClientOptions& options_;
  LoopBackend backend_;  // epoll or poll
  // The portable backend wakes through a pipe, epoll's through an eventfd (inbox.hpp).
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>(backend_ == LoopBackend::poll);
  std::unique_ptr<Poller> poller_;  // declared before the shards, so it outlives them
  TransferSetup setup_{options_};   // and this, with the TLS cache, before handles and shards
  // Made up front: completing a call when memory ran out must not need any.
  std::exception_ptr out_of_memory_ = std::make_exception_ptr(
      TransportError(CURLE_OUT_OF_MEMORY, "Out of memory in the event loop"));
  std::vector<std::shared_ptr<Transfer>> active_;
  ShardSet shards_{options_, *poller_, inbox_->fd(), active_, out_of_memory_};
  int answered_sleepers_ = 0;
  bool closing_ = false;
  HandlePool handles_{Clock::now()};  // the idle easy handles
  RetryQueue retries_;
  OriginPolicies policies_{options_, out_of_memory_};  // rate limit, breaker, statistics
  std::vector<Inbox::Command> commands_;
  ReadyEvent events_[kMaxEvents];
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
