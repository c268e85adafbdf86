// SPDX-License-Identifier: MIT
// The Linux backend (poller.hpp): an epoll set, whose descriptor is Client::native_handle()
// and turns readable when any watched socket is. A turn costs O(ready sockets); each
// change of what a socket waits for costs an epoll_ctl. Compiled only where epoll exists
// (HTTP_TASK_HAS_EPOLL).
#pragma once

#include <http_task/detail/loop/owned_fd.hpp>
#include <http_task/detail/loop/poller.hpp>

#if HTTP_TASK_HAS_EPOLL

#include <sys/epoll.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <system_error>

namespace http_task {
inline namespace v1 {
namespace detail {

class EpollPoller final : public Poller {
 public:
  EpollPoller() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }

  int watch(int fd, std::uint64_t key, bool in, bool out, bool known) noexcept override {
    epoll_event ev{};
    ev.events = (in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u);
    ev.data.u64 = key;
    int op = known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(fd_, op, fd, &ev) < 0) {
      // The hint was wrong (a socket number reused, a watch that failed before).
      op = (errno == EEXIST) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      if (::epoll_ctl(fd_, op, fd, &ev) < 0) return errno;
      if (op == EPOLL_CTL_ADD) ++watched_;
    } else if (op == EPOLL_CTL_ADD) {
      ++watched_;
    }
    return 0;
  }

  void forget(int fd) noexcept override {
    if (::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr) == 0 && watched_ > 0) --watched_;
  }

  int wait(ReadyEvent* out, int max, int timeout_ms) noexcept override {
    if (max > kMaxEvents) max = kMaxEvents;
    int n = ::epoll_wait(fd_, events_, max, timeout_ms);
    if (n < 0) return 0;  // EINTR: just take another turn
    for (int i = 0; i < n; ++i) {
      int mask = 0;
      if (events_[i].events & EPOLLIN) mask |= kIn;
      if (events_[i].events & EPOLLOUT) mask |= kOut;
      if (events_[i].events & (EPOLLERR | EPOLLHUP)) mask |= kErr;
      out[i] = ReadyEvent{events_[i].data.u64, mask};
    }
    return n;
  }

  int fd() const noexcept override { return fd_; }
  std::size_t size() const noexcept override { return watched_; }
  const char* name() const noexcept override { return "epoll"; }
  const char* watcher() const noexcept override { return "epoll_ctl"; }

 private:
  static constexpr int kMaxEvents = 256;
  OwnedFd fd_;
  std::size_t watched_ = 0;
  epoll_event events_[kMaxEvents];
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task

#endif  // HTTP_TASK_HAS_EPOLL
