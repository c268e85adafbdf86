// SPDX-License-Identifier: MIT
// A file descriptor closed by its owner's destructor, also when the owner's constructor
// throws after making it: the Inbox's eventfd and the EventLoop's epoll descriptor.
#pragma once

#include <unistd.h>

namespace http_task {
inline namespace v1 {
namespace detail {

class OwnedFd {
 public:
  explicit OwnedFd(int fd) noexcept : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;

  operator int() const noexcept { return fd_; }  // -1 when the call that made it failed

 private:
  const int fd_;
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
