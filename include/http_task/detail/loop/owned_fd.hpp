// A file descriptor closed by its owner's destructor, also when a constructor throws
// after making it: the EventLoop's epoll descriptor.
#pragma once

#include <unistd.h>

#include <utility>

namespace http_task::detail {

class OwnedFd {
 public:
  OwnedFd() noexcept = default;
  explicit OwnedFd(int fd) noexcept : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;

  operator int() const noexcept { return fd_; }  // -1 when none

 private:
  int fd_ = -1;
};

}  // namespace http_task::detail
