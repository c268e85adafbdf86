// SPDX-License-Identifier: MIT
// How another thread wakes the loop (inbox.hpp): a descriptor that turns readable when
// signalled and stays so until drained. An eventfd on the epoll backend (one descriptor,
// an 8-byte counter); a non-blocking pipe on the portable one (POSIX: macOS and the BSDs
// have no eventfd), which Linux runs too when the portable backend is chosen, so that the
// code other systems run is the code tested.
#pragma once

#include <http_task/detail/loop/poller.hpp>

#if HTTP_TASK_HAS_EPOLL
#include <sys/eventfd.h>
#endif
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace http_task {
inline namespace v1 {
namespace detail {

class WakeSignal {
 public:
  // use_pipe: a pipe even where eventfd exists (the portable backend).
  explicit WakeSignal(bool use_pipe) {
#if HTTP_TASK_HAS_EPOLL
    if (!use_pipe) {
      read_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (read_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
      write_fd_ = read_fd_;
      return;
    }
#else
    (void)use_pipe;
#endif
    int ends[2];
    // pipe2(O_CLOEXEC) is not on every system libcurl runs on: the flags are set just
    // after, and a child forked by another thread in between may inherit the pair.
    if (::pipe(ends) < 0) throw std::system_error(errno, std::generic_category(), "pipe");
    read_fd_ = ends[0];
    write_fd_ = ends[1];
    for (int fd : ends) {
      int fl = ::fcntl(fd, F_GETFL);
      int fd_flags = ::fcntl(fd, F_GETFD);
      if (fl < 0 || fd_flags < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
          ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
        const int err = errno;
        close_all();
        throw std::system_error(err, std::generic_category(), "fcntl");
      }
    }
  }
  ~WakeSignal() { close_all(); }
  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;

  // Readable once signalled, until drained.
  int fd() const noexcept { return read_fd_; }

  void signal() noexcept {
    if (write_fd_ == read_fd_) {
      std::uint64_t one = 1;
      // EAGAIN means the counter is already non-zero: the loop is awake anyway.
      while (::write(write_fd_, &one, sizeof one) < 0 && errno == EINTR) {
      }
    } else {
      const char byte = 1;
      // EAGAIN: the pipe is full, so readable already.
      while (::write(write_fd_, &byte, 1) < 0 && errno == EINTR) {
      }
    }
  }

  void drain() noexcept {
    char buffer[64];  // an eventfd reads as one 8-byte counter
    while (::read(read_fd_, buffer, sizeof buffer) > 0) {
    }
  }

 private:
  void close_all() noexcept {
    if (write_fd_ >= 0 && write_fd_ != read_fd_) ::close(write_fd_);
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = write_fd_ = -1;
  }

  int read_fd_ = -1;
  int write_fd_ = -1;  // == read_fd_ for an eventfd
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
