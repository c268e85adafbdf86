// SPDX-License-Identifier: MIT
// Which Poller a Client's loop gets (ClientOptions::loop_backend, docs/loop-backends.md):
// automatic is epoll where it exists, poll(2) elsewhere; the environment variable
// HTTP_TASK_LOOP_BACKEND=epoll|poll overrides automatic, so that a whole test suite can
// run on either backend without a line changed (the asan-poll test preset).
#pragma once

#include <http_task/client_options.hpp>
#include <http_task/detail/loop/epoll_poller.hpp>
#include <http_task/detail/loop/poll_poller.hpp>
#include <http_task/detail/loop/poller.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace http_task {
inline namespace v1 {
namespace detail {

// automatic resolved to epoll or poll; throws std::invalid_argument for epoll where it is
// absent, and for an environment variable naming neither.
inline LoopBackend resolve_loop_backend(LoopBackend requested) {
  if (requested == LoopBackend::automatic) {
    const char* forced = std::getenv("HTTP_TASK_LOOP_BACKEND");  // read once per Client
    if (forced && *forced) {
      if (std::strcmp(forced, "epoll") == 0) {
        requested = LoopBackend::epoll;
      } else if (std::strcmp(forced, "poll") == 0) {
        requested = LoopBackend::poll;
      } else {
        throw std::invalid_argument(std::string("http_task::Client: HTTP_TASK_LOOP_BACKEND is \"") +
                                    forced + "\"; it must be \"epoll\", \"poll\" or unset");
      }
    } else {
      requested = HTTP_TASK_HAS_EPOLL ? LoopBackend::epoll : LoopBackend::poll;
    }
  }
  if (requested == LoopBackend::epoll && !HTTP_TASK_HAS_EPOLL)
    throw std::invalid_argument(
        "http_task::Client: LoopBackend::epoll asked for, and this build has no epoll (not "
        "Linux, or HTTP_TASK_NO_EPOLL defined); use LoopBackend::poll or automatic");
  return requested;
}

// The Poller of a resolved backend (epoll or poll).
inline std::unique_ptr<Poller> make_poller(LoopBackend resolved) {
#if HTTP_TASK_HAS_EPOLL
  if (resolved == LoopBackend::epoll) return std::make_unique<EpollPoller>();
#endif
  (void)resolved;
  return std::make_unique<PollPoller>();
}

}  // namespace detail
}  // namespace v1
}  // namespace http_task
