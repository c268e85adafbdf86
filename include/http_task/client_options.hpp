// SPDX-License-Identifier: MIT
// What a Client is configured with, and what its log hook is told about each call.
#pragma once

#include <http_task/address_guard.hpp>
#include <http_task/circuit_breaker.hpp>
#include <http_task/dead_letter.hpp>
#include <http_task/executor.hpp>
#include <http_task/json.hpp>
#include <http_task/proxy_options.hpp>
#include <http_task/rate_limit.hpp>
#include <http_task/request_signer.hpp>
#include <http_task/retry_policy.hpp>
#include <http_task/tls_options.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace http_task {
inline namespace v1 {

/// What the log hook (ClientOptions::on_call_finished) sees of one finished call.
/// The views and the pointer are valid during the hook only.
struct CallRecord {
  std::string_view id;                   ///< The call's UUID.
  std::string_view method;               ///< As sent.
  std::string_view url;                  ///< As sent, without "user:password@".
  long http_status = 0;                  ///< Of the last attempt; 0 when no HTTP answer came.
  int attempts = 0;                      ///< HTTP attempts made (0: never sent).
  std::chrono::nanoseconds duration{0};  ///< From the start of the call to its end.
  const Json* retval = nullptr;          ///< The value on success, else null.
  std::exception_ptr error;              ///< The error otherwise.

  /// Whether the call succeeded (#retval is set).
  bool ok() const noexcept { return retval != nullptr; }
};

/// The line a Celery worker logged for the task, in the same shape, for a log hook:
///
///     Task http_task.dispatch[f2cc8efc-...] processed: 100
///     Task http_task.dispatch[f2cc8efc-...] raised: Invalid moon alignment.
inline std::string celery_log_line(const CallRecord& record) {
  std::string line = "Task http_task.dispatch[";
  line.append(record.id);
  if (record.retval) {
    line += "] processed: ";
    line += record.retval->dump();
    return line;
  }
  line += "] raised: ";
  try {
    if (record.error) std::rethrow_exception(record.error);
    line += "unknown error";
  } catch (const std::exception& e) {
    line += e.what();
  } catch (...) {
    line += "unknown exception";
  }
  return line;
}

/// Which HTTP versions a Client speaks (ClientOptions::http_version; docs/https-h2.md).
enum class HttpVersion {
  /// h2 on https:// when the server offers it (ALPN), HTTP/1.1 otherwise; HTTP/1.1 on
  /// http://. Calls to an h2 origin share its connections (h2_connections_per_origin).
  automatic,
  /// HTTP/1.1 everywhere: one request at a time per connection.
  http1_only,
  /// h2 or a failure: over TLS by ALPN; an answer that came over HTTP/1.x ends the call
  /// with TransportError. On http:// it takes prior-knowledge h2c, which libcurl before
  /// 8.0.0 breaks on every reused connection (curl issue 10634): such calls are refused
  /// with RequestError there.
  h2_required,
};

/// How a Client's loop waits for its sockets (ClientOptions::loop_backend;
/// docs/loop-backends.md).
enum class LoopBackend {
  /// epoll where it exists (Linux), poll elsewhere. The environment variable
  /// HTTP_TASK_LOOP_BACKEND=epoll|poll, when set, overrides it (for running a test
  /// suite on either backend); any other value makes the Client constructor throw
  /// std::invalid_argument.
  automatic,
  /// Linux's epoll: a turn costs O(ready sockets), and Client::native_handle() is a
  /// descriptor another event loop can watch. Where epoll is absent (macOS, the BSDs, or
  /// HTTP_TASK_NO_EPOLL defined), the Client constructor throws std::invalid_argument.
  epoll,
  /// POSIX poll(2), on every system libcurl runs on: a turn costs O(open sockets).
  /// Client::native_handle() is then -1: a Client hosted in another event loop needs
  /// epoll.
  poll,
};

/// What a Client is configured with; read once, by the Client constructor.
///
/// The defaults suit a webhook client: bounded timeouts and sizes, TLS verified, no
/// retries, one loop thread and one completion thread.
struct ClientOptions {
  /// How long connecting may take (name resolution, TCP and TLS handshakes), per
  /// connection. Past it the call ends in TimeoutError. Can be changed per call
  /// (CallOptions::connect_timeout).
  std::chrono::milliseconds connect_timeout{10'000};
  /// How long a whole call may take, redirects and retries included; past it the call
  /// ends in TimeoutError. Celery had no timeout at all; a webhook that never answers
  /// must not hold a call forever. Can be changed per call (CallOptions::timeout).
  std::chrono::milliseconds timeout{30'000};

  /// Redirects followed for GET and HEAD; other methods follow none unless a call
  /// asks (CallOptions::max_redirects). Only to http and https.
  int max_redirects = 5;

  /// Connections to one host at most; 0 is no cap.
  ///
  /// Calls over a cap wait for a connection (their wait counts in their timeout), they
  /// do not fail. A Client with a cap runs all its calls on one libcurl multi handle,
  /// which counts the cap; without one it spreads them over several, 64 calls each,
  /// which is cheaper from a few hundred calls in flight.
  long max_host_connections = 0;
  /// Connections in all at most; 0 is no cap. As #max_host_connections.
  long max_total_connections = 0;

  /// Which HTTP versions the Client speaks.
  HttpVersion http_version = HttpVersion::automatic;
  /// h2 connections to one https origin at most.
  ///
  /// h2: all calls to one https origin go to one libcurl multi handle, which opens as
  /// many connections as their streams need (calls in flight / h2_max_streams), at most
  /// this many; calls beyond their streams wait for a free stream (inside their timeout)
  /// instead of opening a connection each. Not used when a connection cap above is set
  /// (the caps then count every connection).
  long h2_connections_per_origin = 100;
  /// Streams per h2 connection at most; the server's SETTINGS may allow fewer.
  long h2_max_streams = 100;

  /// Answers larger than this end in InvalidResponseError, counted as bytes arrive.
  std::size_t max_response_bytes = 4 * 1024 * 1024;
  /// JSON nesting deeper than this is refused (InvalidResponseError) instead of parsed.
  std::size_t max_json_depth = 128;
  /// How much of a non-2xx answer an HttpError keeps (HttpError::body()).
  std::size_t max_error_body = 16 * 1024;

  /// Response headers larger than this, all lines together, end the call with
  /// InvalidResponseError.
  std::size_t max_header_bytes = 64 * 1024;
  /// Calls in progress at most; past it, new calls end at once with RequestError.
  ///
  /// Counted: calls started and not finished, queued ones included, plus continuations
  /// waiting on the Client's completion thread (the default executor, or run_once()'s
  /// queue). So memory cannot grow without bound when a server stalls, nor when
  /// continuations are slower than the answers (each queued one holds its answer).
  /// Continuations on an executor of your own are not counted: bound that one yourself.
  /// A cancelled call leaves the count at once, also when it was waiting for a retry.
  std::size_t max_pending_calls = 100'000;

  /// libcurl's receive buffer per transfer (bytes, at least 1024; 0: libcurl's 16 KiB).
  ///
  /// A webhook's answer rarely needs more than 1 KiB, and each call in flight holds its
  /// buffer: a small one keeps memory proportional to what answers need. After a larger
  /// answer, the next call on the same libcurl handle gets a buffer that holds it, up to
  /// 16 KiB, so that webhooks answering tens of KiB are not read 1 KiB at a time.
  long receive_buffer_size = 1024;
  /// Ask for gzip/deflate/brotli answers and decompress them (the size limit counts
  /// decompressed bytes, so a compression bomb stops at the limit).
  bool accept_compressed = false;

  RetryPolicy retry;           ///< When failed calls are retried: off unless max_attempts > 1.
  TlsOptions tls;              ///< TLS settings; verification on by default.
  AddressGuard address_guard;  ///< The SSRF guard, off by default.

  /// Signs every call's attempts (StandardWebhooksSigner, for one); null: no signing.
  /// CallOptions::signer overrides it per call.
  std::shared_ptr<const RequestSigner> signer;

  /// The log hook: called once for every call that reached the loop.
  ///
  /// Called by the thread running the loop (the loop thread, or a thread that drives it
  /// while it waits in get()) just after the call's result was published (a thread in
  /// get() may already have the value); keep it quick. Silent when empty. Exceptions it
  /// throws are ignored. Waiting for a result in it throws std::logic_error.
  std::function<void(const CallRecord&)> on_call_finished;

  /// Per-origin rate limit and in-flight cap (rate_limit.hpp); off by default.
  RateLimit rate_limit;

  /// Called once for each call that failed with an error its retry policy retries after
  /// its last attempt (dead_letter.hpp): the call as sent, to store and replay later. Same
  /// thread and rules as on_call_finished, and called just before it. Silent when empty.
  std::function<void(const DeadLetter&)> on_dead_letter;

  /// Where then() continuations and co_await resumptions of this Client's results run
  /// when no executor is named.
  ///
  /// Empty: the Client's completion thread (started on first use), or the
  /// run_once()/run() thread when #own_thread is false. Threads: docs/threading.md.
  Executor executor;
  /// Whether the Client starts its own loop thread. false: the Client starts no thread;
  /// the application drives it (Client::run_once(), Client::run()).
  bool own_thread = true;
  /// How the loop waits for its sockets: epoll or poll(2) (docs/loop-backends.md).
  LoopBackend loop_backend = LoopBackend::automatic;

  /// The proxy every call goes through (docs/proxies-and-sockets.md); empty: none.
  ///
  /// With the address guard on, the guard checks the address of the proxy (allow it
  /// explicitly when it is on a private network or loopback); where the proxy connects
  /// is then the proxy's to restrict.
  ProxyOptions proxy;
  /// Per-origin circuit breaker (http_task/circuit_breaker.hpp, docs/per-origin.md); off
  /// by default.
  CircuitBreakerOptions circuit_breaker;
  /// Per-origin statistics, read with Client::origin_stats() (docs/per-origin.md); off by
  /// default. The circuit breaker keeps them too.
  bool origin_stats = false;

  /// A Unix domain socket that calls connect to instead of the URL's host and port;
  /// empty: none.
  ///
  /// The URL still names the Host header and path ("http://localhost/hook").
  /// CallOptions::unix_socket can set or clear it per call. The address guard lets Unix
  /// sockets through: the path comes from the program, never from a URL a user typed.
  std::string unix_socket;
};

}  // namespace v1
}  // namespace http_task
