// The engine: curl multi handles driven through multi_socket_action, with epoll
// watching only the sockets libcurl names, so a turn costs O(ready sockets) rather
// than O(transfers) and 10,000 calls in flight stay cheap. Transfers are spread over
// as many multi handles as it takes to keep each one small (multi_shard.hpp says why).
// Everything here runs on the thread that holds the loop's role (driver.hpp), one at a
// time; other threads reach it only through the Inbox.
//
// Out of memory: every call completes, whatever allocation fails. A call the loop
// holds sits in exactly one of: a command (commands_, the Inbox's queue), active_
// (on the wire), retries_ (waiting for its retry), a rate limiter's line (waiting for its
// origin's turn, detail/policy/rate_limiter.hpp); and every move between them either
// cannot allocate or fails the call. The sites, and why each is safe:
//   - Inbox::push (another thread): counts the call only once it is queued; a throw
//     reaches start_with(), which answers the call itself.
//   - drain_inbox: swaps vectors, no allocation.
//   - start_attempt: the rate limiter's admit() fails the call when its line cannot
//     grow; a call let through later from the line is moved, which cannot allocate.
//   - start_attempt: shards_ (add_shard) and the easy handle fail the call when they
//     cannot be made; configure (URL, headers, signer) is caught and fails the call;
//     active_ is reserved before the handle is given to libcurl.
//   - act: touched_ (and collecting_) are reserved to one slot per multi handle
//     (reserve_turn_lists) before one is made.
//   - collect_finished: the outcome (decoding, error words) is caught and replaced by
//     out_of_memory_, made when the loop was; schedule_retry is caught and the call
//     completes with its answer or out_of_memory_.
//   - recycle: HandlePool::put_back is caught (the handle is then freed).
//   - retire: the log hook's record is caught with the hook.
//   - complete(): continuations that throw are caught (call_state.hpp), and then()'s
//     continuation fails its own result when its job cannot be made.
//   - on_socket: a socket epoll refuses fails its transfer (fail_unwatched), no allocation
//     inside libcurl's callback; a failing curl_multi_socket_action fails the shard's
//     transfers.
// libcurl's own allocations fail inside libcurl, which ends the transfer with
// CURLE_OUT_OF_MEMORY like any other error.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/loop/address_filter.hpp>
#include <http_task/detail/loop/curl_global.hpp>
#include <http_task/detail/loop/driver.hpp>
#include <http_task/detail/loop/easy_handle.hpp>
#include <http_task/detail/loop/handle_pool.hpp>
#include <http_task/detail/loop/header_list.hpp>
#include <http_task/detail/loop/inbox.hpp>
#include <http_task/detail/loop/multi_shard.hpp>
#include <http_task/detail/loop/origin_router.hpp>
#include <http_task/detail/loop/owned_fd.hpp>
#include <http_task/detail/loop/shared_cache.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/policy/delivery_rules.hpp>
#include <http_task/detail/policy/rate_limiter.hpp>
#include <http_task/error.hpp>
#include <http_task/version.hpp>

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace http_task::detail {

class EventLoop final : public Driver::Engine {
 public:
  explicit EventLoop(const ClientOptions& options)
      : options_(options),
        address_filter_(options.address_guard),
        epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    ensure_curl_global_init();
    for (auto line : kDefaultHeaders) default_headers_.append(std::string(line).c_str());
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = inbox_->fd();
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, inbox_->fd(), &ev) < 0)
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    // libcurl counts connection caps per multi handle: with one, they mean what they say.
    if (options_.max_host_connections > 0 || options_.max_total_connections > 0)
      shard_limit_ = std::numeric_limits<std::size_t>::max();
    add_shard();
  }

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The epoll descriptor and the header list are members that free themselves, as the
  // constructor may throw after making them (out of descriptors, out of memory).
  ~EventLoop() {
    shutdown();
    handles_.clear();
    shards_.clear();  // while the epoll descriptor is open: libcurl may unregister sockets
    router_.clear();
  }

  const std::shared_ptr<Inbox>& inbox() const noexcept { return inbox_; }

  // For hosting the loop in another event loop: this epoll descriptor turns readable
  // when a turn has work; next_timeout_ms() (-1: none) says when one is due anyway.
  // Driving thread only.
  int fd() const noexcept { return epoll_fd_; }
  int next_timeout_ms() const { return wait_ms(-1); }

  // One turn: waits at most max_wait_ms (-1: until something happens), does all
  // that is ready, and returns whether the loop still accepts work.
  bool turn(int max_wait_ms) override {
    LoopRoleScope role;  // for an EventLoop driven directly (run_once)
    int n = ::epoll_wait(epoll_fd_, events_, kMaxEvents, wait_ms(max_wait_ms));
    if (n < 0) n = 0;  // EINTR: just take another turn
    bool inbox_woke = false;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t key = events_[i].data.u64;
      if (key >> 32 == 0) {  // the inbox's eventfd
        inbox_woke = true;
        continue;
      }
      int mask = 0;
      if (events_[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (events_[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (events_[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
      // A shard closed in an earlier turn unregistered its sockets; should libcurl ever
      // leave one behind, its events are dropped rather than read past the shards.
      const std::uint64_t index = (key >> 32) - 1;
      MultiShard* shard = index < shards_.size() ? shards_[index].get() : router_.at(index);
      if (!shard) continue;
      act(*shard, static_cast<curl_socket_t>(key & 0xffffffffu), mask);
    }
    const auto now = Clock::now();
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
    if (watch_failed_) fail_unwatched();
    collect_finished();
    router_.settle();
    start_due_retries();
    if (inbox_woke || inbox_->self_posted()) drain_inbox(inbox_woke);
    if (limiter_) start_limited();  // rate limit: calls whose turn came, or whose time ran out
    drop_idle_shards();
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
    for (auto& waiting : retries_) waiting.call->cancel();
    while (!active_.empty()) abort(*active_.back());
    for (auto& waiting : retries_) retire(*waiting.call);
    retries_.clear();
    if (limiter_)  // rate limit: calls waiting for their turn
      limiter_->drain([this](std::shared_ptr<Transfer> call) {
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
    for (auto& shard : shards_)
      if (shard->timer) wake_by(*shard->timer);
    router_.for_each([&](const MultiShard& shard) {
      if (shard.timer) wake_by(*shard.timer);
    });
    if (!retries_.empty()) wake_by(retries_.front().due);
    if (limiter_)  // rate limit: the next token or deadline of a waiting call
      if (auto due = limiter_->next_due()) wake_by(*due);
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
    if (limiter_ && !admitted) {  // rate limit: over it, the call waits in its origin's line
      auto admission = limiter_->admit(call, Clock::now());
      if (admission == RateLimiter::Admission::wait) return;
      if (admission == RateLimiter::Admission::no_memory) return fail(*call, out_of_memory_);
    }
    MultiShard* shard = nullptr;
    try {
      reserve_turn_lists(1);  // for an origin route() may add
      shard = router_.route(call->url);
    } catch (...) {  // no multi handle for the origin: its call goes with the others
    }
    const bool multiplexed = shard != nullptr;
    if (!shard) shard = shard_with_room();
    std::unique_ptr<EasyHandle> handle = shard ? take_easy() : nullptr;
    if (!handle) {
      call->complete(Outcome::failure(TransportError(
          CURLE_FAILED_INIT, shard ? "curl_easy_init failed" : "curl_multi_init failed")));
      retire(*call);
      return;
    }
    call->begin_attempt();
    handle->begin();
    handle->call = call.get();
    try {
      configure(*handle, *call, multiplexed);
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
      call->complete(Outcome::failure(TransportError(
          CURLE_FAILED_INIT, std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc))));
      retire(*call);
      recycle(std::move(handle));
    }
  }

  // Per call: what may differ between calls. Every one of these is given on every
  // call, and the handle skips what it already has (easy_handle.hpp), so nothing of
  // the previous call on a reused handle can leak into this one.
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
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &EventLoop::on_write);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &EventLoop::on_header);
    // Fails early when Content-Length says too much; on_write counts the rest.
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options_.max_response_bytes));
    if (options_.accept_compressed) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    configure_tls(e);
    // Always: libcurl 7.88 opens its sockets without SOCK_CLOEXEC, so a child the
    // application starts (system(), posix_spawn) would inherit every connection.
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &EventLoop::on_open_socket);
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

  // Completing a call may run an inline continuation that starts calls: the list being
  // read is set aside first, so nothing it does can change it.
  void collect_finished() {
    collecting_.swap(touched_);
    for (MultiShard* shard : collecting_) {
      shard->touched = false;
      collect_finished(*shard);
    }
    collecting_.clear();
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
      const bool wrong_version = rc == CURLE_OK && answered_below_h2(shard, easy);
      auto [keep, handle] = detach(call);
      remove(*handle);
      if (call.ready()) {  // cancelled while the answer arrived
        retire(call);
      } else if (wrong_version) {
        try {
          call.complete(Outcome::failure(
              TransportError(CURLE_HTTP2,
                             "the server answered over HTTP/1.x, and this Client requires h2 "
                             "(HttpVersion::h2_required); the request was sent")));
        } catch (...) {  // the error's words ran out of memory
          call.complete(Outcome::failure(out_of_memory_));
        }
        retire(call);
      } else if (auto delay = retry_delay(call, rc, easy); delay && schedule_retry(keep, *delay)) {
      } else {
        try {
          call.complete(outcome_of(call, rc, *handle));
        } catch (...) {  // decoding or the error's words ran out of memory
          call.complete(Outcome::failure(out_of_memory_));
        }
        // Standard Webhooks delivery: a call its policy would retry, with no retry left.
        if (options_.on_dead_letter && call.may_retry && !closing_ && retryable(call, rc))
          send_dead_letter(options_, call, default_headers_.get());
        // TODO(#20): 410 opens the breaker: origins_.trip(call.url, until, call.unix_socket);
        if (call.has_sleepers()) ++answered_sleepers_;
        retire(call);
      }
      recycle(std::move(handle));
    }
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

  // When to try again, or nothing: out of attempts, not retryable, past the deadline.
  // easy: the attempt's handle, off the multi handle but not reused yet.
  std::optional<Clock::duration> retry_delay(const Transfer& call, CURLcode rc, CURL* easy) {
    const RetryPolicy& policy = *call.retry;
    if (!call.may_retry || closing_ || call.attempts_made >= policy.max_attempts)
      return std::nullopt;
    if (!retryable(call, rc)) return std::nullopt;
    curl_off_t retry_after_s = -1;
    curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after_s);
    Clock::duration delay = backoff(policy, call.attempts_made, random_);  // delivery_rules.hpp
    if (retry_after_s >= 0) {
      auto asked =
          std::min<Clock::duration>(std::chrono::seconds(retry_after_s), policy.max_retry_after);
      delay = std::max(delay, asked);
    }
    if (call.deadline && Clock::now() + delay >= *call.deadline) return std::nullopt;
    return delay;
  }

  // Whether the attempt's failure is one the call's policy tries again.
  static bool retryable(const Transfer& call, CURLcode rc) noexcept {
    if (rc == CURLE_OK) return retries_status(*call.retry, call.http_status);
    return call.retry->retry_transport_errors && !call.stopped_by_client() && is_transient(rc);
  }

  static bool is_transient(CURLcode rc) noexcept {
    switch (rc) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_OPERATION_TIMEDOUT:
      case CURLE_PARTIAL_FILE:
      case CURLE_GOT_NOTHING:
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
      case CURLE_SSL_CONNECT_ERROR:
        return true;
      default:
        return false;
    }
  }

  // False when the retry could not be queued (out of memory): the caller completes the
  // call with the answer it has.
  bool schedule_retry(const std::shared_ptr<Transfer>& call, Clock::duration delay) noexcept {
    try {
      retries_.push_back({Clock::now() + delay, call});
    } catch (...) {
      return false;
    }
    call->waiting_retry = true;
    std::push_heap(retries_.begin(), retries_.end(), later_first);
    return true;
  }

  // Rate limit (rate_limiter.hpp): starts the waiting calls whose turn came; those whose
  // deadline passed while they waited end with TimeoutError, as on the wire.
  void start_limited() {
    limiter_->run(
        Clock::now(),
        [this](std::shared_ptr<Transfer> call) {
          if (closing_) call->cancel();
          if (call->ready()) return retire(*call);  // cancelled meanwhile: gives its place back
          start_attempt(std::move(call), true);
        },
        [this](std::shared_ptr<Transfer> call) {
          try {
            call->complete(
                Outcome::failure(TimeoutError(CURLE_OPERATION_TIMEDOUT,
                                              "the call's timeout passed while it waited for its "
                                              "origin's rate limit (attempt " +
                                                  std::to_string(call->attempts_made + 1) + ")")));
          } catch (...) {  // the error's words ran out of memory
            call->complete(Outcome::failure(out_of_memory_));
          }
          // A retry whose time ran out in the line: its policy gave up on it.
          if (options_.on_dead_letter && call->attempts_made > 0 && call->may_retry)
            send_dead_letter(options_, *call, default_headers_.get());
          retire(*call);
        });
  }

  void start_due_retries() {
    auto now = Clock::now();
    while (!retries_.empty() && retries_.front().due <= now) {
      std::pop_heap(retries_.begin(), retries_.end(), later_first);
      auto call = std::move(retries_.back().call);
      retries_.pop_back();
      call->waiting_retry = false;
      if (call->retired) continue;  // cancelled while it waited
      if (closing_) call->cancel();
      if (call->ready()) {
        retire(*call);
        continue;
      }
      start_attempt(std::move(call));
    }
  }

  // From the attempt's handle: its answer and libcurl's message.
  Outcome outcome_of(const Transfer& call, CURLcode rc, EasyHandle& handle) const {
    if (rc == CURLE_OK) {
      // A buffer the handle would not keep goes to the decoder, to parse in place there.
      std::string* owner = handle.keeps_answer_buffer() ? nullptr : &handle.answer;
      return call.decode(call.http_status, handle.answer, owner, options_);
    }
    const std::string_view answer = handle.answer;
    const char* curl_error = handle.error;
    if (call.out_of_memory)
      return Outcome::failure(TransportError(
          CURLE_OUT_OF_MEMORY, "Out of memory: the answer did not fit in memory after " +
                                   std::to_string(answer.size()) + " bytes"));
    if (!call.blocked_address.empty())
      return Outcome::failure(BlockedAddressError(call.blocked_address, call.blocked_reason));
    // libcurl 7.88 refuses a single header line over 100 KiB with a bare "Out of
    // memory"; after the status line came and before any body, that is what it was.
    if (rc == CURLE_OUT_OF_MEMORY && call.header_bytes > 0 && answer.empty())
      return Outcome::failure(
          InvalidResponseError("a response header line is larger than libcurl accepts"));
    if (rc == CURLE_WRITE_ERROR && call.headers_too_large)
      return Outcome::failure(InvalidResponseError("response headers larger than the limit of " +
                                                   std::to_string(options_.max_header_bytes) +
                                                   " bytes"));
    if ((rc == CURLE_WRITE_ERROR && call.too_large) || rc == CURLE_FILESIZE_EXCEEDED)
      return Outcome::failure(InvalidResponseError("response body larger than the limit of " +
                                                   std::to_string(options_.max_response_bytes) +
                                                   " bytes"));
    std::string message = curl_easy_strerror(rc);
    if (curl_error[0]) message += std::string(": ") + curl_error;
    if (rc == CURLE_OPERATION_TIMEDOUT) return Outcome::failure(TimeoutError(rc, message));
    return Outcome::failure(TransportError(rc, message));
  }

  // A cancelled call: take it off the wire now, which releases its connection.
  void abort(Transfer& call) {
    if (call.waiting_limit) {  // rate limit: leaves its origin's line
      limiter_->forget(call);
      retire(call);
      return;
    }
    if (call.waiting_retry) {
      // Released now, not when its retry would be due (up to max_backoff or
      // max_retry_after later): its entry leaves the heap.
      auto it = std::find_if(retries_.begin(), retries_.end(),
                             [&](const Waiting& w) { return w.call.get() == &call; });
      std::shared_ptr<Transfer> keep;
      if (it != retries_.end()) {
        keep = std::move(it->call);
        *it = std::move(retries_.back());
        retries_.pop_back();
        std::make_heap(retries_.begin(), retries_.end(), later_first);
      }
      call.waiting_retry = false;
      retire(call);
      return;
    }
    if (call.active_index == static_cast<std::size_t>(-1)) return;  // finished or never started
    auto [keep, handle] = detach(call);
    remove(*handle);
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
    std::size_t i = call.active_index;
    if (limiter_) limiter_->release(call);  // rate limit: the origin's place in flight
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
    if (limiter_) limiter_->release(call);  // rate limit: an attempt that never got on the wire
    inbox_->call_retired();
    if (call.watch_settled.exchange(true, std::memory_order_acq_rel)) inbox_->unwatch();
    if (options_.on_call_finished) {
      try {
        const Outcome& outcome = call.outcome();
        CallRecord record;
        record.id = call.id();
        record.method = call.method;
        std::string url = redact_credentials(call.url);
        record.url = url;
        record.http_status = call.http_status;
        record.attempts = call.attempts_made;
        record.duration = Clock::now() - call.created;
        record.retval = outcome.ok() ? &outcome.value : nullptr;
        record.error = outcome.error;
        options_.on_call_finished(record);
      } catch (...) {
        // A log hook (or its record, out of memory) must not take the loop down.
      }
    }
    std::string().swap(call.body);
    call.signed_headers.clear();
  }

  // act() and collect_finished() never allocate: one slot per multi handle, ordinary
  // shards and origins' alike, and `more` for one about to be made.
  void reserve_turn_lists(std::size_t more) {
    touched_.reserve(shards_.size() + router_.size() + more);
    collecting_.reserve(shards_.size() + router_.size() + more);
  }

  void add_shard() {
    reserve_turn_lists(1);
    auto index = static_cast<std::uint32_t>(shards_.size());
    shards_.push_back(std::make_unique<MultiShard>(index, options_, &EventLoop::on_socket,
                                                   &EventLoop::on_timer, static_cast<void*>(this),
                                                   epoll_fd_));
  }

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
    if (shard.origin == MultiShard::kNoOrigin)
      room_hint_ = std::min<std::size_t>(room_hint_, shard.index());
  }

  // Closes the last shards once they are empty and the calls in flight would fit in half
  // the shards before them: an empty shard runs no transfers, so libcurl never prunes its
  // idle connections, which would stay open, with its wake-up socket pair, after a burst.
  // Half, so that calls going up and down around a shard's edge do not make and drop it
  // each time. Only at the end of a turn: no shard is being read then.
  void drop_idle_shards() {
    while (shards_.size() > 1 && shards_.back()->transfers == 0 && !shards_.back()->touched &&
           active_.size() <= (shards_.size() - 1) * shard_limit_ / 2)
      shards_.pop_back();  // curl_multi_cleanup: closes its connections, off the epoll set
    room_hint_ = std::min(room_hint_, shards_.size());
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

  std::unique_ptr<EasyHandle> take_easy() {
    auto handle = handles_.take();
    if (handle) return handle;
    handle = EasyHandle::create();
    if (handle) configure_handle(*handle);
    return handle;
  }

  void recycle(std::unique_ptr<EasyHandle> handle) noexcept {
    handle->end();
    try {
      handles_.put_back(std::move(handle), active_.size());
    } catch (...) {  // no room to keep it idle: freed instead
    }
  }

  // Completes a call the loop holds with this error and retires it; never throws.
  void fail(Transfer& call, const std::exception_ptr& error) noexcept {
    call.complete(Outcome::failure(error));
    retire(call);
  }

  // A transfer libcurl cannot go on with must end now, not at its timeout: its socket
  // could not be watched (on_socket), or its multi handle failed.
  void fail_unwatched() noexcept {
    watch_failed_ = false;
    for (std::size_t i = active_.size(); i-- > 0;) {  // detach() moves the last into i
      if (i >= active_.size()) continue;
      Transfer& call = *active_[i];
      if (!call.loop_failure) continue;
      std::exception_ptr error = std::move(call.loop_failure);
      call.loop_failure = nullptr;
      auto [keep, handle] = detach(call);
      remove(*handle);
      fail(call, error);
      recycle(std::move(handle));
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

  // A socket epoll refused (out of memory, the user's limit of watches): its transfer
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
            CURLE_FAILED_INIT,
            std::string("epoll_ctl refused the connection's socket: ") + std::strerror(err)));
      } catch (...) {
      }
    }
    watch_failed_ = true;
  }

  // libcurl's callbacks. libcurl is C: an exception thrown into its frames would unwind
  // past its cleanup and leave its state half-changed. So each is noexcept, and a failure
  // becomes a flag on the call that outcome_of() turns into the call's error.
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
    // An origin's first HTTP/1.x status line lifts its h2 cap at the end of the turn,
    // before the call is done (origin_router.hpp).
    if (call.header_bytes == 0 && n > 7 && handle.shard->origin != MultiShard::kNoOrigin &&
        std::string_view(data, 7) == "HTTP/1.")
      handle.shard->saw_http1 = true;
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
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  }

  static int on_socket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp) noexcept {
    auto& shard = *static_cast<MultiShard*>(userp);
    auto& self = *static_cast<EventLoop*>(shard.owner());
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(self.epoll_fd_, EPOLL_CTL_DEL, s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    // Which shard the socket is libcurl's in, and the socket: 0 above is the inbox.
    ev.data.u64 = (std::uint64_t{shard.index()} + 1) << 32 | static_cast<std::uint32_t>(s);
    // socketp marks sockets already in the epoll set; curl forgets it on REMOVE.
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(self.epoll_fd_, op, s, &ev) < 0) {
      op = (errno == EEXIST) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      if (::epoll_ctl(self.epoll_fd_, op, s, &ev) < 0) {
        // Not assigned: should libcurl name the socket again, ADD is tried again.
        self.unwatched(easy, errno);
        return 0;
      }
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

  struct Waiting {
    Clock::time_point due;
    std::shared_ptr<Transfer> call;
  };
  static bool later_first(const Waiting& a, const Waiting& b) { return a.due > b.due; }

  const ClientOptions& options_;
  AddressFilter address_filter_;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  HeaderList default_headers_;
  OwnedFd epoll_fd_;   // declared before the shards, so it outlives them
  SharedCache share_;  // and this before the handles and shards that use it
  std::vector<std::unique_ptr<MultiShard>> shards_;
  OriginRouter router_{options_, &EventLoop::on_socket, &EventLoop::on_timer,
                       static_cast<void*>(this), epoll_fd_};
  std::vector<MultiShard*> touched_;  // shards acted on this turn
  std::vector<MultiShard*> collecting_;
  std::size_t shard_limit_ = MultiShard::kShardTransfers;
  std::size_t room_hint_ = 0;  // no shard before this one has room
  int running_ = 0;
  int answered_sleepers_ = 0;
  bool closing_ = false;
  bool watch_failed_ = false;  // some active call has a loop_failure
  // Made up front: completing a call when memory ran out must not need any.
  std::exception_ptr out_of_memory_ = std::make_exception_ptr(
      TransportError(CURLE_OUT_OF_MEMORY, "Out of memory in the event loop"));
  std::vector<std::shared_ptr<Transfer>> active_;
  HandlePool handles_{Clock::now()};  // the idle easy handles
  std::vector<Waiting> retries_;      // a min-heap on due
  std::mt19937_64 random_{std::random_device{}()};
  std::vector<Inbox::Command> commands_;
  epoll_event events_[kMaxEvents];
  // Rate limit (rate_limiter.hpp): none when it is off, which then costs a null test.
  std::unique_ptr<RateLimiter> limiter_ =
      options_.rate_limit.enabled() ? std::make_unique<RateLimiter>(options_.rate_limit) : nullptr;
};

}  // namespace http_task::detail
