// The engine: one curl multi handle driven through multi_socket_action, with epoll
// watching only the sockets libcurl names, so a turn costs O(ready sockets) rather
// than O(transfers) and 10,000 calls in flight stay cheap. Everything here runs on
// the loop thread; other threads reach it only through the Inbox.
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/call/url_query.hpp>
#include <http_task/detail/loop/curl_global.hpp>
#include <http_task/detail/loop/inbox.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/error.hpp>
#include <http_task/version.hpp>

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace http_task::detail {

class EventLoop {
 public:
  explicit EventLoop(const ClientOptions& options) : options_(options) {
    ensure_curl_global_init();
    for (auto line : kDefaultHeaders) {
      curl_slist* next = curl_slist_append(default_headers_, std::string(line).c_str());
      if (!next) throw std::bad_alloc();
      default_headers_ = next;
    }
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = inbox_->fd();
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, inbox_->fd(), &ev) < 0)
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    multi_ = curl_multi_init();
    if (!multi_) throw TransportError(CURLE_FAILED_INIT, "curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &EventLoop::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &EventLoop::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
  }

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  ~EventLoop() {
    shutdown();
    for (CURL* e : idle_) curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
    curl_slist_free_all(default_headers_);
    ::close(epoll_fd_);
  }

  const std::shared_ptr<Inbox>& inbox() const noexcept { return inbox_; }

  // Runs until the inbox is closed, then answers whatever is left with CancelledError.
  void run() {
    inbox_->set_loop_thread(std::this_thread::get_id());
    while (!closing_) turn(-1);
    shutdown();
  }

  // One turn: waits at most max_wait_ms (-1: until something happens), does all
  // that is ready, and returns whether the loop still accepts work.
  bool turn(int max_wait_ms) {
    int wait_ms = inbox_->self_posted() ? 0 : max_wait_ms;
    if (timer_) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*timer_ - Clock::now()).count();
      int timer_ms = static_cast<int>(std::clamp<long long>(left, 0, 24 * 3600 * 1000));
      wait_ms = wait_ms < 0 ? timer_ms : std::min(wait_ms, timer_ms);
    }
    int n = ::epoll_wait(epoll_fd_, events_, kMaxEvents, wait_ms);
    if (n < 0) n = 0;  // EINTR: just take another turn
    bool inbox_woke = false;
    for (int i = 0; i < n; ++i) {
      int fd = events_[i].data.fd;
      if (fd == inbox_->fd()) {
        inbox_woke = true;
        continue;
      }
      int mask = 0;
      if (events_[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (events_[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (events_[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, fd, mask, &running_);
    }
    if (timer_ && Clock::now() >= *timer_) {
      timer_.reset();  // libcurl may set a new one from inside socket_action
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running_);
    }
    collect_finished();
    if (inbox_woke || inbox_->self_posted()) drain_inbox();
    return !closing_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxEvents = 256;
  static constexpr std::size_t kMaxIdleHandles = 64;

  void drain_inbox() {
    inbox_->take(commands_);
    if (inbox_->closed()) closing_ = true;
    for (auto& command : commands_) {
      if (command.kind == Inbox::Kind::start)
        start(std::move(command.call));
      else
        abort(*command.call);
    }
    commands_.clear();
  }

  void start(std::shared_ptr<Transfer> call) {
    if (call->refused) call->complete(Outcome::failure(call->refused));
    if (closing_) call->cancel();
    if (call->ready()) {  // refused, or cancelled before it was sent: never sent
      retire(*call);
      return;
    }
    CURL* easy = take_easy();
    if (!easy) {
      call->complete(Outcome::failure(TransportError(CURLE_FAILED_INIT, "curl_easy_init failed")));
      retire(*call);
      return;
    }
    configure(easy, *call);
    call->easy = easy;
    call->active_index = active_.size();
    active_.push_back(call);
    CURLMcode mc = curl_multi_add_handle(multi_, easy);
    if (mc != CURLM_OK) {
      detach(*call);
      call->complete(Outcome::failure(TransportError(
          CURLE_FAILED_INIT, std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc))));
      retire(*call);
      recycle(easy);
    }
  }

  void configure(CURL* e, Transfer& call) {
    call.max_response_bytes = options_.max_response_bytes;
    curl_easy_setopt(e, CURLOPT_PRIVATE, &call);
    curl_easy_setopt(e, CURLOPT_URL, call.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_USERAGENT, "http_task/" HTTP_TASK_VERSION_STRING);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call.headers ? call.headers : default_headers_);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &EventLoop::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &call);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call.error_buffer);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, call.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, call.timeout_ms);
    // Fails early when Content-Length says too much; on_write counts the rest.
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options_.max_response_bytes));
    if (options_.receive_buffer_size > 0)
      curl_easy_setopt(e, CURLOPT_BUFFERSIZE, options_.receive_buffer_size);
    if (call.max_redirects > 0) {
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(e, CURLOPT_MAXREDIRS, call.max_redirects);
    }
    if (call.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (call.method != "GET") {
      if (call.has_body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(call.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, call.body.c_str());
      }
      if (call.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    }
  }

  void collect_finished() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;
      void* p = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
      auto& call = *static_cast<Transfer*>(p);
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &call.http_status);
      curl_multi_remove_handle(multi_, easy);
      auto keep = detach(call);
      if (!call.ready()) call.complete(outcome_of(call, rc));
      retire(call);
      recycle(easy);
    }
  }

  Outcome outcome_of(const Transfer& call, CURLcode rc) const {
    if (rc == CURLE_OK) return call.decode(call.http_status, options_);
    if ((rc == CURLE_WRITE_ERROR && call.too_large) || rc == CURLE_FILESIZE_EXCEEDED)
      return Outcome::failure(InvalidResponseError(
          "response body larger than the limit of " + std::to_string(options_.max_response_bytes) +
          " bytes"));
    std::string message = curl_easy_strerror(rc);
    if (call.error_buffer[0]) message += std::string(": ") + call.error_buffer;
    if (rc == CURLE_OPERATION_TIMEDOUT) return Outcome::failure(TimeoutError(rc, message));
    return Outcome::failure(TransportError(rc, message));
  }

  // A cancelled call: take it off the wire now, which releases its connection.
  void abort(Transfer& call) {
    if (call.active_index == static_cast<std::size_t>(-1)) return;  // finished or never started
    CURL* easy = call.easy;
    curl_multi_remove_handle(multi_, easy);
    auto keep = detach(call);
    retire(call);
    recycle(easy);
  }

  // Answers every call still here with CancelledError; nothing is left hanging.
  void shutdown() {
    closing_ = true;
    inbox_->close();
    drain_inbox();
    while (!active_.empty()) {
      auto call = active_.back();
      call->cancel();
      abort(*call);
    }
  }

  std::shared_ptr<Transfer> detach(Transfer& call) {
    std::size_t i = call.active_index;
    std::shared_ptr<Transfer> keep = std::move(active_[i]);
    if (i + 1 != active_.size()) {
      active_[i] = std::move(active_.back());
      active_[i]->active_index = i;
    }
    active_.pop_back();
    call.active_index = static_cast<std::size_t>(-1);
    call.easy = nullptr;
    return keep;
  }

  // The call is done for the loop: tell the log hook, then drop what it no longer needs.
  void retire(Transfer& call) {
    if (options_.on_call_finished) {
      const Outcome& outcome = call.outcome();
      CallRecord record;
      record.id = call.id();
      record.method = call.method;
      std::string url = redact_credentials(call.url);
      record.url = url;
      record.http_status = call.http_status;
      record.duration = Clock::now() - call.created;
      record.retval = outcome.ok() ? &outcome.value : nullptr;
      record.error = outcome.error;
      try {
        options_.on_call_finished(record);
      } catch (...) {
        // A log hook must not take the loop down.
      }
    }
    std::string().swap(call.response);
    std::string().swap(call.body);
  }

  CURL* take_easy() {
    if (idle_.empty()) return curl_easy_init();
    CURL* e = idle_.back();
    idle_.pop_back();
    return e;
  }

  void recycle(CURL* e) {
    if (idle_.size() >= kMaxIdleHandles) {
      curl_easy_cleanup(e);
      return;
    }
    curl_easy_reset(e);
    idle_.push_back(e);
  }

  static size_t on_write(char* data, size_t size, size_t count, void* userp) {
    auto& call = *static_cast<Transfer*>(userp);
    size_t n = size * count;
    if (n > call.max_response_bytes - call.response.size()) {
      call.too_large = true;
      return 0;  // anything but n makes libcurl stop with CURLE_WRITE_ERROR
    }
    call.response.append(data, n);
    return n;
  }

  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void* socketp) {
    auto& self = *static_cast<EventLoop*>(userp);
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(self.epoll_fd_, EPOLL_CTL_DEL, s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = s;
    // socketp marks sockets already in the epoll set; curl forgets it on REMOVE.
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(self.epoll_fd_, op, s, &ev) < 0) {
      op = (errno == EEXIST) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      ::epoll_ctl(self.epoll_fd_, op, s, &ev);
    }
    if (!socketp) curl_multi_assign(self.multi_, s, &self);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto& self = *static_cast<EventLoop*>(userp);
    if (timeout_ms < 0)
      self.timer_.reset();
    else
      self.timer_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  const ClientOptions& options_;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  CURLM* multi_ = nullptr;
  int epoll_fd_ = -1;
  curl_slist* default_headers_ = nullptr;
  std::optional<Clock::time_point> timer_;
  int running_ = 0;
  bool closing_ = false;
  std::vector<std::shared_ptr<Transfer>> active_;
  std::vector<CURL*> idle_;
  std::vector<Inbox::Command> commands_;
  epoll_event events_[kMaxEvents];
};

}  // namespace http_task::detail
