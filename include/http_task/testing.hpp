// SPDX-License-Identifier: MIT
// An in-process webhook server for tests of code that calls webhooks: routes answered by
// C++ handlers (success, failure, HTTP errors, delays, faults), and a record of every
// request it got. Not part of http_task.hpp: include it in test programs only.
//
//   http_task::testing::WebhookServer server;  // 127.0.0.1, a free port, running
//   server.on("/multiply", [](const auto& request) {
//     http_task::Params args = request.args();
//     return Reply::success(std::stoi(*args.find("x")) * std::stoi(*args.find("y")));
//   });
//   URL(server.url("/multiply"), client).get_async({{"x", 6}, {"y", 7}}).get();  // 42
//   CHECK(server.requests().at(0).method == "GET");
//
// One request per connection (every answer says "Connection: close"), one thread per
// connection. Stopping (the destructor) never waits for a delay to end, nor for a client
// that does not read; it waits only for handlers already running, so handlers must not
// block: answer Reply::...().after(delay) instead of sleeping.
#pragma once

#include <http_task/params.hpp>
#include <http_task/request.hpp>
#include <http_task/webhook.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

/// An in-process webhook server for tests of code that calls webhooks (testing.hpp;
/// docs/testing.md).
namespace http_task {
inline namespace v1 {
namespace testing {

/// One request as the WebhookServer read it.
struct ReceivedRequest {
  std::string method;  ///< As on the request line: "GET", "POST"...
  std::string target;  ///< As on the request line: "/multiply?x=1".
  std::string path;    ///< The target without its query.
  std::string query;   ///< After '?', undecoded; empty when none.
  Headers headers;     ///< In order, names as sent.
  std::string body;    ///< The body's bytes (a Content-Length body; chunked ones are refused).

  /// The value of the first header of that name (names compare case-insensitively), or
  /// nothing.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (equal_ignoring_case(n, name)) return v;
    return std::nullopt;
  }
  /// The call's arguments where http_task puts them (webhook::call_arguments()).
  Params args() const { return webhook::call_arguments(method, target, body); }

  /// Whether `a` and `b` are equal, ignoring the case of ASCII letters.
  static bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
      if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
  }
};

/// What the server does with a request: an answer, possibly late, or a fault. Made by
/// the static functions, then changed with after() and header():
///
///     Reply::success(42).after(std::chrono::milliseconds(500))
struct Reply {
  /// A way to fail at the transport level instead of answering.
  enum class Fault {
    none,                  ///< Answer normally.
    close_without_answer,  ///< The connection closes, nothing written.
    reset,                 ///< The connection is reset (RST), nothing written.
    truncated_body,        ///< Headers promise the whole body; half of it comes, then close.
    garbage,               ///< Bytes that are not HTTP, then close.
  };

  int status = 200;                                               ///< The HTTP status.
  std::string content_type = std::string(webhook::content_type);  ///< The Content-Type header.
  Headers headers;                                                ///< More response headers.
  std::string body;                                               ///< The body's bytes.
  std::chrono::milliseconds delay{0};  ///< Waited before answering (or before the fault).
  Fault fault = Fault::none;           ///< The fault, if any, instead of the answer.

  /// HTTP 200 {"status":"success","retval":...}.
  static Reply success(const webhook::Value& retval = nullptr) {
    return raw(200, webhook::success_body(retval));
  }
  /// HTTP 200 {"status":"failure","reason":...}: the caller gets RemoteExecuteError.
  static Reply failure(std::string_view reason) { return raw(200, webhook::failure_body(reason)); }
  /// Any status with a text body: the caller gets HttpError for non-2xx.
  static Reply http_error(int status, std::string body = {}) {
    return raw(status, std::move(body), "text/plain; charset=utf-8");
  }
  /// Exactly this status, body and Content-Type.
  static Reply raw(int status, std::string body,
                   std::string content_type = std::string(webhook::content_type)) {
    Reply r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    return r;
  }
  /// Closes the connection without answering (Fault::close_without_answer).
  static Reply close_without_answer() { return with_fault(Fault::close_without_answer); }
  /// Resets the connection without answering (Fault::reset).
  static Reply reset() { return with_fault(Fault::reset); }
  /// A success answer cut in the middle of its body (Fault::truncated_body).
  static Reply truncated(const webhook::Value& retval = nullptr) {
    Reply r = success(retval);
    r.fault = Fault::truncated_body;
    return r;
  }
  /// Bytes that are not HTTP, then close (Fault::garbage).
  static Reply garbage() { return with_fault(Fault::garbage); }

  /// Answers (or fails) only after `wait`; sets #delay. A delay is cut short when the
  /// server stops.
  Reply& after(std::chrono::milliseconds wait) & {
    delay = wait;
    return *this;
  }
  /// As after() on an lvalue, for a temporary.
  Reply&& after(std::chrono::milliseconds wait) && { return std::move(after(wait)); }
  /// Adds a response header.
  Reply& header(std::string name, std::string value) & {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  /// As header() on an lvalue, for a temporary.
  Reply&& header(std::string name, std::string value) && {
    return std::move(header(std::move(name), std::move(value)));
  }

 private:
  static Reply with_fault(Fault f) {
    Reply r;
    r.fault = f;
    return r;
  }
};

/// A webhook server on 127.0.0.1 for tests: routes answered by C++ handlers or fixed
/// Replies, and a record of every request it got.
///
/// One request per connection (every answer says "Connection: close"), one thread per
/// connection. A request for a path without a route gets 404, one for a method a path
/// has no route for gets 405, a handler that throws gets 500. Every member is
/// thread-safe. Stopping (the destructor) never waits for a delay to end, nor for a
/// client that does not read; it waits only for handlers already running, so handlers
/// must not block: answer Reply::after() instead of sleeping.
class WebhookServer {
 public:
  /// What answers a request; called on the connection's own thread, possibly on several
  /// threads at once.
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  /// Starts the server: listening on 127.0.0.1 on a free port when it returns. Throws
  /// std::system_error when it cannot.
  WebhookServer() {
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
      const int e = errno;
      ::close(stop_fd_);
      throw std::system_error(e, std::generic_category(), "socket");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 ||
        ::listen(listen_fd_, 128) < 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) < 0) {
      const int e = errno;
      ::close(listen_fd_);
      ::close(stop_fd_);
      throw std::system_error(e, std::generic_category(), "WebhookServer: bind 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  /// Stops the server (stop()).
  ~WebhookServer() {
    stop();
    ::close(listen_fd_);
    ::close(stop_fd_);
  }

  /// Routes requests for `path` (the target without its query), any method, to
  /// `handler`. A later route for the same method and path replaces the earlier one.
  WebhookServer& on(std::string path, Handler handler) {
    return on(std::string(), std::move(path), std::move(handler));
  }
  /// Routes requests for `path` with this `method` ("GET", "POST"...) to `handler`; it
  /// wins over a route for any method. Other methods on a path that has routes get 405.
  WebhookServer& on(std::string method, std::string path, Handler handler) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& route : routes_)
      if (route.method == method && route.path == path) {
        route.handler = std::move(handler);
        return *this;
      }
    routes_.push_back(Route{std::move(method), std::move(path), std::move(handler)});
    return *this;
  }
  /// The same answer to every request for `path`, any method.
  WebhookServer& on(std::string path, Reply reply) {
    return on(std::move(path),
              [reply = std::move(reply)](const ReceivedRequest&) { return reply; });
  }
  /// The same answer to every request for `path` with this `method`.
  WebhookServer& on(std::string method, std::string path, Reply reply) {
    return on(std::move(method), std::move(path),
              [reply = std::move(reply)](const ReceivedRequest&) { return reply; });
  }

  /// The port it listens on.
  std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>".
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// base_url() followed by `path_and_query` ("/multiply?x=1").
  std::string url(std::string_view path_and_query) const {
    return base_url() + std::string(path_and_query);
  }

  /// Every request read so far, in the order they were read (routed or not).
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  /// The requests read so far for this path (the target without its query), in order.
  std::vector<ReceivedRequest> requests(std::string_view path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ReceivedRequest> out;
    for (const auto& r : received_)
      if (r.path == path) out.push_back(r);
    return out;
  }
  /// How many requests were read so far.
  std::size_t request_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_.size();
  }
  /// Forgets the requests read so far.
  void clear_requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    received_.clear();
  }
  /// Waits for requests of calls whose result the test does not wait for (fire and
  /// forget): true once `count` requests arrived, false if `timeout` passed first.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
  }

  /// Stops accepting, cuts delays short, closes connections, and joins every thread.
  /// Idempotent; the destructor calls it.
  void stop() {
    if (stopped_.exchange(true)) return;
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
    if (acceptor_.joinable()) acceptor_.join();
    std::list<Connection> connections;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      connections.swap(connections_);
    }
    for (auto& c : connections) c.thread.join();
  }

 private:
  struct Route {
    std::string method;  // empty: any
    std::string path;
    Handler handler;
  };
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  // Requests larger than these are answered 413 and not recorded.
  static constexpr std::size_t kMaxHeaderBytes = 1 << 20;
  static constexpr std::size_t kMaxBodyBytes = 64 << 20;

  void accept_loop() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;  // the client gave up, or out of descriptors for a moment
      std::lock_guard<std::mutex> lock(mutex_);
      // Finished connections are joined here, so a long test does not pile up threads.
      for (auto it = connections_.begin(); it != connections_.end();) {
        if (it->done.load()) {
          it->thread.join();
          it = connections_.erase(it);
        } else {
          ++it;
        }
      }
      Connection& c = connections_.emplace_back();
      try {
        c.thread = std::thread([this, fd, &c] {
          serve(fd);
          ::close(fd);
          c.done.store(true);
        });
      } catch (...) {
        connections_.pop_back();
        ::close(fd);
      }
    }
  }

  // Waits for `events` on fd, or for stop(): false on stop or timeout (-1: none).
  bool wait_for(int fd, short events, int timeout_ms = -1) const {
    pollfd fds[2] = {{fd, events, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      const int n = ::poll(fds, 2, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || fds[1].revents) return false;
      return true;
    }
  }

  // Sleeps for `delay`, cut short by stop(): true when stopped.
  bool stopped_during(std::chrono::milliseconds delay) const {
    const auto end = std::chrono::steady_clock::now() + delay;
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd stop = {stop_fd_, POLLIN, 0};
      const int n = ::poll(&stop, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
      if (n > 0) return true;
    }
  }

  bool send_all(int fd, std::string_view data) const {
    while (!data.empty()) {
      if (!wait_for(fd, POLLOUT)) return false;
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads until `buffer` holds at least `size` bytes; false on EOF, error or stop.
  bool read_until_size(int fd, std::string& buffer, std::size_t size) const {
    char chunk[16 * 1024];
    while (buffer.size() < size) {
      if (!wait_for(fd, POLLIN)) return false;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  void serve(int fd) {
    std::string buffer;
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > kMaxHeaderBytes) {
        answer(fd, Reply::http_error(431, "request headers too large"));
        return;
      }
      if (!read_until_size(fd, buffer, buffer.size() + 1)) return;
    }
    ReceivedRequest request;
    std::optional<std::size_t> content_length;
    if (!parse_head(std::string_view(buffer).substr(0, head_end), request, content_length)) {
      answer(fd, Reply::http_error(400, "malformed request"));
      return;
    }
    if (request.header("Transfer-Encoding")) {
      answer(fd, Reply::http_error(411, "chunked request bodies are not supported"));
      return;
    }
    const std::size_t length = content_length.value_or(0);
    if (length > kMaxBodyBytes) {
      answer(fd, Reply::http_error(413, "request body too large"));
      return;
    }
    if (auto expect = request.header("Expect");
        expect && ReceivedRequest::equal_ignoring_case(*expect, "100-continue") &&
        buffer.size() < head_end + 4 + length) {
      if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return;
    }
    if (!read_until_size(fd, buffer, head_end + 4 + length)) return;
    request.body = buffer.substr(head_end + 4, length);

    Handler handler;
    bool path_known = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back(request);
      for (const auto& route : routes_) {
        if (route.path != request.path) continue;
        path_known = true;
        if (route.method.empty() || route.method == request.method) {
          handler = route.handler;
          if (!route.method.empty()) break;  // an exact method wins over "any"
        }
      }
    }
    arrived_.notify_all();

    Reply reply;
    if (!handler) {
      reply = path_known ? Reply::http_error(405, "method not allowed")
                         : Reply::raw(404, webhook::failure_body("no route for " + request.path));
    } else {
      try {
        reply = handler(request);
      } catch (const std::exception& e) {
        reply = Reply::http_error(500, std::string("handler threw: ") + e.what());
      } catch (...) {
        reply = Reply::http_error(500, "handler threw");
      }
    }
    answer(fd, reply);
  }

  static bool parse_head(std::string_view head, ReceivedRequest& request,
                         std::optional<std::size_t>& content_length) {
    std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1 || line.substr(sp2 + 1, 5) != "HTTP/")
      return false;
    request.method = std::string(line.substr(0, sp1));
    request.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    const std::size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    while (eol != std::string_view::npos) {
      head.remove_prefix(eol + 2);
      eol = head.find("\r\n");
      const std::string_view field = head.substr(0, eol);
      const std::size_t colon = field.find(':');
      if (colon == std::string_view::npos || colon == 0) return false;
      std::string_view value = field.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      request.headers.emplace_back(std::string(field.substr(0, colon)), std::string(value));
      if (ReceivedRequest::equal_ignoring_case(field.substr(0, colon), "Content-Length")) {
        std::size_t n = 0;
        if (value.empty()) return false;
        for (char c : value) {
          if (c < '0' || c > '9' || n > kMaxBodyBytes) return false;
          n = n * 10 + static_cast<std::size_t>(c - '0');
        }
        content_length = n;
      }
    }
    return true;
  }

  void answer(int fd, const Reply& reply) const {
    if (reply.delay.count() > 0 && stopped_during(reply.delay)) return;
    switch (reply.fault) {
      case Reply::Fault::close_without_answer:
        ::shutdown(fd, SHUT_RDWR);
        return;
      case Reply::Fault::reset: {
        linger hard{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        return;  // the caller's close() sends the RST
      }
      case Reply::Fault::garbage:
        send_all(fd, "\x01\x02 this is not HTTP \xff\xfe\r\n\r\n");
        return;
      default:
        break;
    }
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) +
                      "\r\nContent-Type: " + reply.content_type +
                      "\r\nContent-Length: " + std::to_string(reply.body.size()) +
                      "\r\nConnection: close\r\n";
    for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
    out += "\r\n";
    if (reply.fault == Reply::Fault::truncated_body) {
      out.append(reply.body, 0, reply.body.size() / 2);
      send_all(fd, out);
      return;
    }
    out += reply.body;
    if (send_all(fd, out)) ::shutdown(fd, SHUT_WR);
  }

  static const char* reason(int status) noexcept {
    switch (status) {
      case 200:
        return "OK";
      case 201:
        return "Created";
      case 204:
        return "No Content";
      case 301:
        return "Moved Permanently";
      case 302:
        return "Found";
      case 400:
        return "Bad Request";
      case 401:
        return "Unauthorized";
      case 403:
        return "Forbidden";
      case 404:
        return "Not Found";
      case 405:
        return "Method Not Allowed";
      case 410:
        return "Gone";
      case 411:
        return "Length Required";
      case 413:
        return "Content Too Large";
      case 429:
        return "Too Many Requests";
      case 431:
        return "Request Header Fields Too Large";
      case 500:
        return "Internal Server Error";
      case 502:
        return "Bad Gateway";
      case 503:
        return "Service Unavailable";
      case 504:
        return "Gateway Timeout";
      default:
        return "Status";
    }
  }

  int stop_fd_ = -1;  // an eventfd: readable for good once stop() wrote to it
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  mutable std::mutex mutex_;  // routes_, received_, connections_
  mutable std::condition_variable arrived_;
  std::vector<Route> routes_;
  std::vector<ReceivedRequest> received_;
  std::list<Connection> connections_;
  std::thread acceptor_;
};

}  // namespace testing
}  // namespace v1
}  // namespace http_task
