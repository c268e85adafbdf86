// SPDX-License-Identifier: MIT
// Which side of a fork() this is. The child of a fork() is a copy of the parent's memory
// with one thread: a Client's loop thread and completion thread are not there, and its
// epoll set, eventfd and connections are shared with the parent, which still uses them.
// So every object that owns such things notes the generation it was made in, and acts
// only while the current one is the same; the random generators of call ids reseed.
#pragma once

#include <pthread.h>

#include <atomic>

namespace http_task {
inline namespace v1 {
namespace detail {

class ForkGeneration {
 public:
  // Bumped in the child of every fork() after the first call (which registers the
  // handler): anything the library makes calls this first, so it sees every later fork.
  static unsigned current() noexcept {
    static const bool registered = register_handler();
    (void)registered;
    return counter().load(std::memory_order_relaxed);
  }

 private:
  static std::atomic<unsigned>& counter() noexcept {
    static std::atomic<unsigned> n{0};
    return n;
  }
  static bool register_handler() noexcept {
    // The child handler runs in the child alone, before fork() returns there.
    ::pthread_atfork(nullptr, nullptr, [] { counter().fetch_add(1, std::memory_order_relaxed); });
    return true;
  }
};

// The error of a parent's Client used in a child, and of the parent's calls waited for
// there.
inline constexpr const char* kForkedClientMessage =
    "http_task: this Client belongs to the parent process (made before fork()): its loop, "
    "threads and connections are the parent's. Make a Client in this process "
    "(default_client() gives one)";

}  // namespace detail
}  // namespace v1
}  // namespace http_task
