// The event loop as users hold it: one Client is one libcurl multi handle driven by
// one thread. Any thread may start calls on it at any time; calls share its
// connections. Most programs need one Client (default_client()).
#pragma once

#include <http_task/async_result.hpp>
#include <http_task/client_options.hpp>
#include <http_task/detail/call/uuid.hpp>
#include <http_task/detail/loop/event_loop.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/error.hpp>
#include <http_task/request.hpp>

#include <exception>
#include <memory>
#include <thread>
#include <utility>

namespace http_task {

class Client {
 public:
  Client() : Client(ClientOptions{}) {}
  explicit Client(ClientOptions options)
      : options_(std::move(options)), loop_(options_), thread_([this] { loop_.run(); }) {}

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Every unfinished call completes with CancelledError; returns promptly. Do not
  // destroy a Client from one of its own completion callbacks (the loop thread).
  ~Client() {
    loop_.inbox()->close();
    thread_.join();
  }

  const ClientOptions& options() const noexcept { return options_; }

  // The general form of a call (Celery's HttpDispatchTask): method, URL, arguments,
  // options, and optionally a Dispatcher that prepares the request and decodes the
  // answer. Never throws for a bad request: the error comes through the result.
  template <class T = Json>
  AsyncResult<T> dispatch(Request request, std::shared_ptr<const Dispatcher> dispatcher = nullptr) {
    return detail::ResultAccess::make<T>(start(std::move(request), std::move(dispatcher)));
  }

 private:
  std::shared_ptr<detail::CallState> start(Request request,
                                           std::shared_ptr<const Dispatcher> dispatcher) {
    auto call = std::make_shared<detail::Transfer>(detail::make_uuid4(), loop_.inbox());
    try {
      call->prepare(std::move(request), options_, std::move(dispatcher));
    } catch (...) {
      // Answered by the loop, so the log hook sees refused calls too.
      call->refused = std::current_exception();
    }
    if (!loop_.inbox()->push({detail::Inbox::Kind::start, call})) {
      call->complete(call->refused ? detail::Outcome::failure(call->refused)
                                   : detail::Outcome::failure(
                                         CancelledError("call started on a Client being destroyed")));
    }
    return call;
  }

  ClientOptions options_;
  detail::EventLoop loop_;
  std::thread thread_;
};

// The process-wide Client, created on first use and destroyed at exit (pending calls
// then complete with CancelledError).
inline Client& default_client() {
  static Client client;
  return client;
}

}  // namespace http_task
