// SPDX-License-Identifier: MIT
// What the loop needs from the operating system to wait: watch these descriptors, each
// under a key, wait for some to be ready, report them. Two backends implement it, chosen
// per Client (ClientOptions::loop_backend, docs/loop-backends.md): epoll_poller.hpp
// (Linux: a turn costs O(ready sockets), the one that scales to 10,000 calls in flight)
// and poll_poller.hpp (POSIX poll(2) over a table, for macOS and the BSDs, and cheaper on
// Linux while few sockets are open: no system call when libcurl changes what a socket
// waits for). Both are driven the same way, by libcurl's socket callback and
// curl_multi_socket_action (shard_set.hpp), so shards, origins' handles, timers and
// failures behave alike whichever waits.
//
// Why not curl_multi_poll: it waits on one multi handle, and a Client has several (the
// shards, the per-origin handles, multi_shard.hpp and origin_router.hpp say why). Waiting
// on one with the others' sockets passed as extra descriptors would need their sockets
// anyway (the socket callback), and would run curl_multi_perform, which walks every
// transfer of a handle per turn, where curl_multi_socket_action touches only those whose
// socket is ready.
#pragma once

#include <cstddef>
#include <cstdint>

// HTTP_TASK_HAS_EPOLL: whether epoll and eventfd are compiled in. Defining
// HTTP_TASK_NO_EPOLL before the first include leaves them out on Linux too, as on
// macOS and the BSDs (the build check tests/portable_headers/ does that).
#if defined(__linux__) && !defined(HTTP_TASK_NO_EPOLL)
#define HTTP_TASK_HAS_EPOLL 1
#else
#define HTTP_TASK_HAS_EPOLL 0
#endif

namespace http_task {
inline namespace v1 {
namespace detail {

// One ready descriptor of a turn: its key as watched, and what it is ready for as
// libcurl's CURL_CSELECT_IN / _OUT / _ERR bits.
struct ReadyEvent {
  std::uint64_t key;
  int mask;
};

class Poller {
 public:
  // CURL_CSELECT_* values, repeated so that this header needs no libcurl.
  static constexpr int kIn = 1;
  static constexpr int kOut = 2;
  static constexpr int kErr = 4;

  virtual ~Poller() = default;

  // Watches fd for reading (in) and/or writing (out), reported under key; a descriptor
  // watched already has its interest changed. known: the caller watched it before (a
  // hint; either answer must work). Returns 0, or the errno that kept it unwatched.
  // Never throws nor allocates in a way that throws: it runs inside libcurl's callback.
  virtual int watch(int fd, std::uint64_t key, bool in, bool out, bool known) noexcept = 0;
  // Stops watching fd (libcurl's CURL_POLL_REMOVE, before it closes the socket).
  virtual void forget(int fd) noexcept = 0;
  // Waits at most timeout_ms (-1: no limit) and writes up to max ready descriptors to
  // out; returns how many (0 on timeout or a signal).
  virtual int wait(ReadyEvent* out, int max, int timeout_ms) noexcept = 0;
  // The descriptor that turns readable when a turn has work (Client::native_handle()),
  // -1 when this backend has none.
  virtual int fd() const noexcept = 0;
  // How many descriptors are watched.
  virtual std::size_t size() const noexcept = 0;
  // "epoll" or "poll".
  virtual const char* name() const noexcept = 0;
  // What refuses a socket, for the error of its transfer ("epoll_ctl").
  virtual const char* watcher() const noexcept = 0;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
