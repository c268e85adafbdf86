// SPDX-License-Identifier: MIT
// The portable backend (poller.hpp): POSIX poll(2) over a table of the watched
// descriptors, which libcurl's socket callback keeps (watch/forget change the table, no
// system call). A turn costs O(watched sockets) in the kernel and here, which is cheaper
// than epoll while few are open and costlier with thousands. It has no descriptor that
// turns readable when a socket is ready (fd() is -1): poll(2) cannot be waited on from
// another event loop without a thread of its own.
#pragma once

#include <http_task/detail/loop/poller.hpp>

#include <poll.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace http_task {
inline namespace v1 {
namespace detail {

class PollPoller final : public Poller {
 public:
  PollPoller() {
    fds_.reserve(16);
    keys_.reserve(16);
  }

  int watch(int fd, std::uint64_t key, bool in, bool out, bool /*known*/) noexcept override {
    if (fd < 0) return EBADF;
    const short events = static_cast<short>((in ? POLLIN : 0) | (out ? POLLOUT : 0));
    const auto at = static_cast<std::size_t>(fd);
    if (at < slots_.size() && slots_[at] != kNone) {
      pollfd& entry = fds_[slots_[at]];
      entry.fd = fd;  // watched again after poll(2) found it closed (wait())
      entry.events = events;
      keys_[slots_[at]] = key;
      return 0;
    }
    try {
      if (at >= slots_.size()) slots_.resize(at + 1 + at / 2, kNone);
      fds_.push_back(pollfd{fd, events, 0});
      try {
        keys_.push_back(key);
      } catch (...) {
        fds_.pop_back();
        throw;
      }
    } catch (...) {  // no room in the table: the caller fails the socket's transfer
      return ENOMEM;
    }
    slots_[at] = fds_.size() - 1;
    return 0;
  }

  void forget(int fd) noexcept override {
    const auto at = static_cast<std::size_t>(fd);
    if (fd < 0 || at >= slots_.size() || slots_[at] == kNone) return;
    const std::size_t slot = slots_[at];
    slots_[at] = kNone;
    const std::size_t last = fds_.size() - 1;
    if (slot != last) {
      fds_[slot] = fds_[last];
      keys_[slot] = keys_[last];
      slots_[static_cast<std::size_t>(original(fds_[slot].fd))] = slot;
    }
    fds_.pop_back();
    keys_.pop_back();
  }

  int wait(ReadyEvent* out, int max, int timeout_ms) noexcept override {
    int ready = ::poll(fds_.data(), static_cast<nfds_t>(fds_.size()), timeout_ms);
    if (ready <= 0) return 0;  // EINTR: just take another turn
    // Reported from where the last turn stopped, so that more ready descriptors than a
    // turn takes are all served in turn; the rest stay ready (poll is level-triggered).
    const std::size_t size = fds_.size();
    if (start_ >= size) start_ = 0;
    int n = 0;
    for (std::size_t i = 0; i < size && n < max && ready > 0; ++i) {
      std::size_t j = start_ + i;
      if (j >= size) j -= size;
      pollfd& entry = fds_[j];
      if (!entry.revents) continue;
      --ready;
      int mask = 0;
      if (entry.revents & POLLIN) mask |= kIn;
      if (entry.revents & POLLOUT) mask |= kOut;
      if (entry.revents & (POLLERR | POLLHUP)) mask |= kErr;
      if (entry.revents & POLLNVAL) {
        // Closed while watched (libcurl forgets before it closes, so not libcurl's):
        // left out of later polls, which would return at once forever, until watched
        // again; its owner is told of an error.
        entry.fd = ~entry.fd;
        mask |= kErr;
      }
      entry.revents = 0;
      out[n++] = ReadyEvent{keys_[j], mask};
      if (n == max) start_ = j + 1;
    }
    return n;
  }

  int fd() const noexcept override { return -1; }
  std::size_t size() const noexcept override { return fds_.size(); }
  const char* name() const noexcept override { return "poll"; }
  const char* watcher() const noexcept override { return "poll's socket table"; }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  // A descriptor left out of poll(2) is stored as ~fd (negative: poll(2) skips it).
  static int original(int stored) noexcept { return stored < 0 ? ~stored : stored; }

  std::vector<pollfd> fds_;          // what poll(2) is given
  std::vector<std::uint64_t> keys_;  // the key of each, same index
  std::vector<std::size_t> slots_;   // by descriptor number: its index in fds_, or kNone
  std::size_t start_ = 0;            // where the next turn's report starts
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
