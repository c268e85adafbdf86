// SPDX-License-Identifier: MIT
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
#include <http_task/detail/loop/fork_generation.hpp>
#include <http_task/detail/loop/transfer.hpp>
#include <http_task/detail/loop/user_driver.hpp>
#include <http_task/dispatcher.hpp>
#include <http_task/error.hpp>
#include <http_task/executor.hpp>
#include <http_task/origin_stats.hpp>
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
#include <new>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace http_task {
inline namespace v1 {

/// The event loop that runs calls: one epoll loop over libcurl multi handles, with its
/// connections, TLS sessions and DNS cache shared by its calls.
///
/// Most programs need one Client (default_client()); URL and celery::Gateway hold one
/// by reference. Any thread may start calls on it at any time. By default the Client
/// runs its loop on a thread of its own and continuations on a completion thread it
/// starts when first needed (ClientOptions::executor says otherwise); a thread waiting
/// in get() or wait() while nobody runs the loop runs it meanwhile. With
/// ClientOptions::own_thread = false it starts no thread: the application drives it
/// with run_once() or run(). Not copyable, not movable. Threads: docs/threading.md,
/// docs/blocking.md.
class Client {
 public:
  /// A Client with the default ClientOptions.
  Client() : Client(ClientOptions{}) {}
  /// A Client with these options.
  ///
  /// Throws when the loop cannot be made: std::system_error (out of descriptors),
  /// TransportError (libcurl could not start), std::invalid_argument (an invalid
  /// AddressGuard::allow range).
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

  /// Cancels what is left and stops the Client's threads.
  ///
  /// Every unfinished call completes with CancelledError, then every continuation queued
  /// on the Client's own executor runs (those posted later run on the posting thread);
  /// returns once they have. From its completion thread it is allowed.
  ///
  /// From code its own loop runs it is not, as the loop is on that thread's stack. With
  /// the Client's own thread (a log hook, an inline_executor continuation, as when exit()
  /// is called there) it is left to end with the process. From code run by
  /// run_once()/run(), whose frames use this object after it returns, it is refused
  /// loudly: a message on stderr, then std::abort().
  ///
  /// In the child of a fork(), a Client made before the fork is left alone: its threads
  /// are not in the child, and its epoll set and connections are shared with the parent,
  /// which closing them here would disturb. Its memory and descriptors are leaked on
  /// purpose (every descriptor is close-on-exec).
  ~Client() {
    if (forked_away()) {
      abandon();
      return;
    }
    if (driving_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id() ||
        (user_ && user_->held_here())) {
      std::fputs(
          "http_task: a Client was destroyed by code run by its own run_once()/run() or by a "
          "wait driving it (a "
          "log hook, signer, dispatcher or continuation): that frame is on this thread's "
          "stack and uses the Client after this returns. Destroy it after run_once() "
          "returns, or from another thread.\n",
          stderr);
      std::abort();
    }
    shut_down();
  }

  /// The options the Client was made with.
  const ClientOptions& options() const noexcept { return options_; }

  /// Where continuations of this Client's results run unless told otherwise:
  /// ClientOptions::executor, or the Client's own completion queue.
  const Executor& executor() const noexcept { return executor_; }

  /// Runs one turn of the loop, for a Client made with own_thread = false.
  ///
  /// Waits at most max_wait for network activity or a timer (a negative max_wait: until
  /// something happens), handles it, then runs the continuations queued for this thread.
  /// Returns how many continuations ran.
  ///
  /// A Client with its own thread throws std::logic_error, as does driving one Client
  /// from two threads at once, or from code its loop runs (a continuation). Calls only
  /// progress while some thread drives the Client: run_once()/run(), or a thread waiting
  /// for one of its results (get(), wait()) while nobody else drives. When such a waiter
  /// drives, run_once()/run() wake it and wait until it gives the role back at the end
  /// of its current turn (waiters never take it from them).
  std::size_t run_once(std::chrono::milliseconds max_wait) {
    Driving driving(*this);
    return turn(max_wait.count() < 0
                    ? -1
                    : static_cast<int>(std::min<long long>(max_wait.count(), 24LL * 3600 * 1000)));
  }

  /// Drives the Client until stop() is called (from any thread, or from a continuation);
  /// the rules of run_once() apply.
  void run() {
    Driving driving(*this);
    while (!stop_requested_.exchange(false, std::memory_order_acq_rel)) turn(-1);
  }

  /// Makes run() return after its current turn; when no run() is in progress, the next
  /// run() returns at once. Thread-safe.
  void stop() {
    stop_requested_.store(true, std::memory_order_release);
    if (forked_away()) return;  // the eventfd is the parent's
    loop_->inbox()->notify();
  }

  /// The descriptor to watch for a Client hosted in another event loop.
  ///
  /// For a Client with own_thread = false hosted in an application's own event loop
  /// (poll, epoll, libuv, Asio's posix::stream_descriptor): watch native_handle() for
  /// readability and call run_once(0ms) when it is readable or when next_timeout() has
  /// passed. Call both from the driving thread.
  ///
  /// -1 on the poll backend (ClientOptions::loop_backend, docs/loop-backends.md), which
  /// has no such descriptor: poll(2) cannot be watched from another event loop without a
  /// thread of its own. Ask for LoopBackend::epoll (Linux) to host a Client this way.
  int native_handle() const noexcept { return loop_->fd(); }
  /// How long until run_once() has work without the descriptor becoming readable: 0
  /// when continuations are waiting, negative when no timer is pending (see
  /// native_handle()).
  std::chrono::milliseconds next_timeout() const {
    return std::chrono::milliseconds(completions_->has_pending() ? 0 : loop_->next_timeout_ms());
  }

  /// Statistics of every origin this Client has called, in the order first called
  /// (docs/per-origin.md). Empty unless ClientOptions::origin_stats or
  /// circuit_breaker.enabled is set (or the loop opened a breaker itself, for a 410 Gone
  /// answer). Thread-safe, also while calls run.
  std::vector<OriginStats> origin_stats() const {
    if (!loop_ || forked_away()) return {};
    return loop_->origins().stats();
  }

  /// The circuit breaker state of the origin of `url` (a URL or "scheme://host:port";
  /// unix_socket: the socket its calls go through, if any). Closed for an origin never
  /// called, or when the breaker is off. Thread-safe.
  CircuitState circuit_state(std::string_view url, std::string_view unix_socket = {}) const {
    if (!loop_ || forked_away()) return CircuitState::closed;
    return loop_->origins().state(url, unix_socket);
  }

  /// Starts a call in its general form (Celery's HttpDispatchTask): method, URL,
  /// arguments, options, and optionally a Dispatcher that prepares the request and
  /// decodes the answer. Thread-safe.
  ///
  /// Never throws for a bad request: the error comes through the result (RequestError,
  /// or what Dispatcher::prepare() threw), as do the call's own errors (see
  /// AsyncResult::get()). The result's value is read as `T`.
  template <class T = Json>
  AsyncResult<T> dispatch(Request request, std::shared_ptr<const Dispatcher> dispatcher = nullptr) {
    return detail::ResultAccess::make<T>(start(std::move(request), std::move(dispatcher)));
  }

 private:
  friend class URL;
  friend Client& default_client();

  // Whether this Client was made by the parent of this process, before a fork().
  bool forked_away() const noexcept { return generation_ != detail::ForkGeneration::current(); }

  // What ~Client does, leaving the object in place: calls started later fail with
  // CancelledError (default_client() relies on that at exit). Called once.
  void shut_down() {
    if (loop_ && on_loop_thread()) {
      // exit() called on the thread running the loop (a log hook, an inline continuation,
      // a signer): a turn of the loop is in progress below this frame, never to be
      // returned to. Joining the loop thread would join this thread (std::terminate) or
      // wait for the role this thread holds (a hang), destroying the loop would free what
      // that turn uses, and the completion thread may wait for a call only this thread
      // could finish. So later calls are refused, and the threads, the loop and the queue
      // are left to end with the process.
      driver_->close();
      if (thread_.joinable()) thread_.detach();
      keep_forever(std::move(loop_), nullptr, completions_, std::thread());  // never closed
      return;
    }
    driver_->close();
    if (thread_.joinable()) thread_.join();
    if (user_) user_->close();  // a waiter driving the loop gives it back first
    loop_.reset();              // without a loop thread, this is what cancels the calls left
    completions_->close();
  }

  // Whether the calling thread is running this Client's loop.
  bool on_loop_thread() const noexcept {
    return loop_->inbox()->on_loop_thread() ||
           driving_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

  // A forked child's end of a parent's Client: nothing of it may be joined, closed or
  // cleaned up here (see ~Client), so what would do so is leaked.
  void abandon() noexcept {
    // The thread object still looks joinable: its destructor would std::terminate.
    keep_forever(std::move(loop_), std::move(driver_), std::move(completions_), std::move(thread_));
  }

  // What a Client leaves behind on purpose, never destroyed. Kept reachable from a
  // static list rather than dropped, so that leak checkers (LeakSanitizer) do not
  // report it.
  struct Leftovers {
    std::unique_ptr<detail::EventLoop> loop;
    std::shared_ptr<detail::Driver> driver;
    std::shared_ptr<detail::CompletionQueue> completions;
    std::thread thread;
    Leftovers* next = nullptr;
  };
  static void keep_forever(std::unique_ptr<detail::EventLoop> loop,
                           std::shared_ptr<detail::Driver> driver,
                           std::shared_ptr<detail::CompletionQueue> completions,
                           std::thread thread) noexcept {
    static std::atomic<Leftovers*> kept{nullptr};  // constant-initialized, never destroyed
    Leftovers* node;
    try {
      node = new Leftovers{std::move(loop), std::move(driver), std::move(completions),
                           std::move(thread)};
    } catch (...) {
      // Out of memory: the pieces cannot be dropped either, so they are released bare.
      (void)loop.release();
      new (std::nothrow) std::thread(std::move(thread));
      return;
    }
    node->next = kept.load(std::memory_order_relaxed);
    while (!kept.compare_exchange_weak(node->next, node, std::memory_order_acq_rel)) {
    }
  }

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
    if (forked_away()) {
      // No executor: the parent's completion thread is not here, so continuations run
      // where they are attached, as on a ready result.
      call->complete(detail::Outcome::failure(RequestError(detail::kForkedClientMessage)));
      return call;
    }
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
      if (c.forked_away()) throw std::logic_error(detail::kForkedClientMessage);
      c.user_->acquire_for_app();  // waits for a waiter driving it; throws for a 2nd driver
      c.completions_->set_driver(std::this_thread::get_id());
      c.driving_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    }
    ~Driving() {
      client_.driving_thread_.store(std::thread::id(), std::memory_order_relaxed);
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
  std::atomic<std::thread::id> driving_thread_{};  // who runs run_once()/run() now
  std::atomic<bool> stop_requested_{false};
  const unsigned generation_ = detail::ForkGeneration::current();  // the process it is of
};

/// The process-wide Client, created with the default ClientOptions on first use (by any
/// thread: thread-safe) and shut down at exit (pending calls then complete with
/// CancelledError, as in ~Client).
///
/// Its memory is never freed: a URL used after the shutdown (from a static destructor,
/// or a thread still running at exit) reaches a Client that answers CancelledError, not
/// freed memory. In the child of a fork(), the first use makes the child's own Client:
/// the parent's is not usable there (~Client says why).
inline Client& default_client() {
  // Constant-initialized and never destroyed: readable at any point of exit.
  static std::atomic<Client*> current{nullptr};
  Client* client = current.load(std::memory_order_acquire);
  while (!client || client->forked_away()) {
    auto fresh = std::make_unique<Client>();
    if (current.compare_exchange_strong(client, fresh.get(), std::memory_order_acq_rel)) {
      client = fresh.release();
      // Registered once; a forked child inherits the registration, and then shuts down
      // its own default Client with it.
      static const int registered = std::atexit([] {
        Client* c = current.load(std::memory_order_acquire);
        if (c && !c->forked_away()) c->shut_down();
      });
      (void)registered;
    }
    // Otherwise another thread's Client won (client now holds it): checked again.
  }
  return *client;
}

}  // namespace v1
}  // namespace http_task
