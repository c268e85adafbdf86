// The event loop as users hold it: one Client is one epoll loop over libcurl multi
// handles (detail/loop/multi_shard.hpp says why more than one), driven by one thread at
// a time. Any thread may start calls on it at any time; calls share its
// connections. Most programs need one Client (default_client()).
//
// Threads: the loop thread runs libcurl and nothing else of yours (but the log hook).
// A thread waiting for a call in get() or wait() runs the loop itself while no other
// thread does, and a call started while nobody runs it is queued by the starting
// thread straight into libcurl: that saves two thread switches per call
// (detail/loop/driver.hpp), and means the log hook runs on those threads too.
// Continuations (then, co_await) run on ClientOptions::executor, or by default on one
// completion thread the Client starts when first needed. With own_thread = false the
// Client starts no thread at all: the application drives it with run_once() or run(),
// and continuations without an executor run on that thread too; a thread that waits
// for a result (get(), wait()) while nobody drives drives the Client itself meanwhile
// (detail/loop/user_driver.hpp, docs/blocking.md).
#pragma once

#include <http_task/async_result.hpp>
#include <http_task/client_options.hpp>
#include <http_task/detail/call/uuid.hpp>
#include <http_task/detail/future/completion_queue.hpp>
#include <http_task/detail/loop/event_loop.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/loop/user_driver.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/error.hpp>
#include <http_task/executor.hpp>
#include <http_task/params.hpp>
#include <http_task/request.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>

namespace http_task {

class Client {
 public:
  Client() : Client(ClientOptions{}) {}
  explicit Client(ClientOptions options)
      : options_(std::move(options)),
        completions_(std::make_shared<detail::CompletionQueue>(options_.own_thread)),
        loop_(std::make_unique<detail::EventLoop>(options_)),
        driver_(std::make_shared<detail::Driver>(loop_->inbox(), options_.own_thread)),
        executor_(options_.executor ? options_.executor
                                    : Executor(detail::CompletionQueueExecutor{completions_})) {
    driver_->attach(*loop_);
    completions_->count_in(loop_->inbox());
    if (options_.own_thread) {
      thread_ = std::thread([driver = driver_] { driver->serve(); });
    } else {
      user_ = std::make_shared<detail::UserDriver>(*loop_, completions_);
      // Wakes a driver asleep in run() or run_once() for a job queued from elsewhere.
      completions_->set_wake([inbox = loop_->inbox()] { inbox->notify(); });
    }
  }

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Every unfinished call completes with CancelledError, then every continuation queued
  // on the Client's own executor runs (those posted later run on the posting thread);
  // returns once they have. From its completion thread it is allowed. From code its own
  // loop runs (the log hook, a signer, a dispatcher, an inline_executor continuation, or
  // anything run by run_once()/run()) it cannot be: the loop being destroyed is on that
  // thread's stack. That is refused loudly: a message on stderr, then std::abort().
  ~Client() {
    if (driver_->held_here() || driving_thread_ == std::this_thread::get_id() ||
        (user_ && user_->held_here())) {
      std::fputs(
          "http_task: a Client was destroyed by code its own event loop runs (a log hook, "
          "signer, dispatcher, inline_executor continuation, or run_once()/run()): the loop "
          "is on this thread's stack, so this cannot end well. Destroy it from another "
          "thread, or from a continuation on its completion thread.\n",
          stderr);
      std::abort();
    }
    driver_->close();
    if (thread_.joinable()) thread_.join();
    if (user_) user_->close();  // a waiter driving the loop gives it back first
    loop_.reset();              // without a loop thread, this is what cancels the calls left
    completions_->close();
  }

  const ClientOptions& options() const noexcept { return options_; }

  // Where continuations of this Client's results run unless told otherwise.
  const Executor& executor() const noexcept { return executor_; }

  // For a Client made with own_thread = false; the others throw std::logic_error, as
  // does driving one Client from two threads at once, or from code its loop runs (a
  // continuation). Calls only progress while some thread drives the Client: run_once()/
  // run(), or a thread waiting for one of its results (get(), wait()) while nobody else
  // drives. When such a waiter drives, run_once()/run() wake it and wait until it gives
  // the role back at the end of its current turn (waiters never take it from them).
  //
  // One turn of the loop: waits at most max_wait for network activity or a timer (a
  // negative max_wait: until something happens), handles it, then runs the
  // continuations queued for this thread. Returns how many continuations ran.
  std::size_t run_once(std::chrono::milliseconds max_wait) {
    Driving driving(*this);
    return turn(max_wait.count() < 0
                    ? -1
                    : static_cast<int>(std::min<long long>(max_wait.count(), 24LL * 3600 * 1000)));
  }

  // Drives the Client until stop() is called (from any thread, or from a continuation).
  void run() {
    Driving driving(*this);
    while (!stop_requested_.exchange(false, std::memory_order_acq_rel)) turn(-1);
  }

  // Makes run() return after its current turn; when no run() is in progress, the next
  // run() returns at once. Thread-safe.
  void stop() {
    stop_requested_.store(true, std::memory_order_release);
    loop_->inbox()->notify();
  }

  // For a Client with own_thread = false hosted in an application's own event loop
  // (poll, epoll, libuv, Asio's posix::stream_descriptor): watch native_handle() for
  // readability and call run_once(0ms) when it is readable or when next_timeout() has
  // passed (negative: no timer pending). Call both from the driving thread.
  int native_handle() const noexcept { return loop_->fd(); }
  std::chrono::milliseconds next_timeout() const {
    return std::chrono::milliseconds(completions_->has_pending() ? 0 : loop_->next_timeout_ms());
  }

  // The general form of a call (Celery's HttpDispatchTask): method, URL, arguments,
  // options, and optionally a Dispatcher that prepares the request and decodes the
  // answer. Never throws for a bad request: the error comes through the result.
  template <class T = Json>
  AsyncResult<T> dispatch(Request request, std::shared_ptr<const Dispatcher> dispatcher = nullptr) {
    return detail::ResultAccess::make<T>(start(std::move(request), std::move(dispatcher)));
  }

 private:
  friend class URL;

  std::shared_ptr<detail::CallState> start(Request&& request,
                                           std::shared_ptr<const Dispatcher> dispatcher) {
    return start_with([&](detail::Transfer& call) {
      call.prepare(std::move(request), options_, std::move(dispatcher));
    });
  }

  // A call through a URL object without a dispatcher (which would need a Request to
  // change): built from the URL's own string, with no copy of it in between.
  std::shared_ptr<detail::CallState> start(const std::string& url, std::string&& method,
                                           const Params& params, const CallOptions& call_options) {
    return start_with([&](detail::Transfer& call) {
      call.prepare(url, std::move(method), params, call_options, options_);
    });
  }

  template <class Prepare>
  std::shared_ptr<detail::CallState> start_with(Prepare&& prepare) {
    auto call = std::make_shared<detail::Transfer>(detail::Uuid4::random(), driver_);
    call->set_executor(executor_);
    call->set_wait_helper(user_);
    try {
      prepare(*call);
    } catch (...) {
      // Answered by the loop, so the log hook sees refused calls too.
      call->refused = std::current_exception();
    }
    bool submitted = false;
    try {
      submitted = driver_->submit({detail::Inbox::Kind::start, call});
    } catch (...) {  // out of memory: the call is answered here, not lost
      call->complete(detail::Outcome::failure(std::current_exception()));
      return call;
    }
    if (!submitted) {
      call->complete(call->refused ? detail::Outcome::failure(call->refused)
                                   : detail::Outcome::failure(CancelledError(
                                         "call started on a Client being destroyed")));
    }
    return call;
  }

  // Marks the thread driving a Client without its own thread, one at a time.
  class Driving {
   public:
    explicit Driving(Client& c) : client_(c) {
      if (c.options_.own_thread)
        throw std::logic_error("http_task::Client: run_once()/run() need own_thread = false");
      c.user_->acquire_for_app();  // waits for a waiter driving it; throws for a 2nd driver
      c.completions_->set_driver(std::this_thread::get_id());
      c.driving_thread_ = std::this_thread::get_id();
    }
    ~Driving() {
      client_.driving_thread_ = std::thread::id();
      client_.completions_->set_driver(std::thread::id());
      client_.user_->release_for_app();
    }
    Driving(const Driving&) = delete;
    Driving& operator=(const Driving&) = delete;

   private:
    Client& client_;
    detail::LoopRoleScope role_;  // waits on this thread would stop the loop: refused
  };

  std::size_t turn(int max_wait_ms) {
    // Continuations already waiting must not wait for the network as well.
    loop_->turn(completions_->has_pending() ? 0 : max_wait_ms);
    return completions_->run_pending();
  }

  ClientOptions options_;
  std::shared_ptr<detail::CompletionQueue> completions_;
  std::unique_ptr<detail::EventLoop> loop_;
  std::shared_ptr<detail::Driver> driver_;  // shared with the calls, which outlive the Client
  Executor executor_;
  std::thread thread_;
  // own_thread = false: who drives, run_once()/run() or a waiting thread; shared with
  // the calls, which outlive the Client.
  std::shared_ptr<detail::UserDriver> user_;
  // The thread in run_once()/run(); only that thread compares it with itself.
  std::atomic<std::thread::id> driving_thread_{};
  std::atomic<bool> stop_requested_{false};
};

// The process-wide Client, created on first use and destroyed at exit (pending calls
// then complete with CancelledError).
inline Client& default_client() {
  static Client client;
  return client;
}

}  // namespace http_task
