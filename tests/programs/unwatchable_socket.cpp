// SPDX-License-Identifier: MIT
// A connection whose socket epoll refuses (ENOSPC: the user's limit of watches, ENOMEM)
// must end its call at once with a TransportError, not wait for the call's timeout
// without ever being told the socket is ready. The kernel's limit is system-wide
// (/proc/sys/fs/epoll/max_user_watches), so this program makes epoll_ctl refuse by
// standing in for it: the library's calls to epoll_ctl resolve to this definition,
// which fails ADD for sockets while `refuse` is set and passes everything else to libc.
// A program of its own, so no other test runs with the stand-in.
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <dlfcn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <iostream>

namespace {
std::atomic<bool> refuse{false};
std::atomic<int> refused{0};
}  // namespace

extern "C" int epoll_ctl(int epfd, int op, int fd, epoll_event* event) noexcept {
  using Real = int (*)(int, int, int, epoll_event*);
  static const Real real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "epoll_ctl"));
  struct stat st {};
  if (refuse && op == EPOLL_CTL_ADD && ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
    ++refused;
    errno = ENOSPC;
    return -1;
  }
  return real(epfd, op, fd, event);
}

int main() {
  using namespace std::chrono_literals;
  const auto& server = http_task_test::webhook_server();
  http_task::ClientOptions options;
  options.timeout = 60s;  // far beyond the wait below: a timeout is not the answer
  // epoll's refusal is what this program checks, also when HTTP_TASK_LOOP_BACKEND=poll
  // (the asan-poll preset) makes poll the default: the poll backend's table refuses only
  // when memory runs out.
  options.loop_backend = http_task::LoopBackend::epoll;
  http_task::Client client(options);
  http_task::URL multiply(server.base_url() + "/multiply", client);
  if (multiply.get_async<int>({{"x", 2}, {"y", 2}}).get() != 4) return 1;

  refuse = true;
  // A Client of its own: a new connection, whose socket must be watched.
  http_task::Client fresh(options);
  auto r =
      http_task::URL(server.base_url() + "/multiply", fresh).get_async<int>({{"x", 3}, {"y", 3}});
  if (r.wait_for(30s) != std::future_status::ready) {
    std::cerr << "the call still waits: its socket was never watched\n";
    return 2;
  }
  refuse = false;
  try {
    r.get();
    std::cerr << "no error\n";
    return 3;
  } catch (const http_task::TimeoutError& e) {
    std::cerr << "a timeout, not the refusal: " << e.what() << "\n";
    return 4;
  } catch (const http_task::TransportError& e) {
    if (!std::strstr(e.what(), "epoll_ctl")) {
      std::cerr << "unexpected: " << e.what() << "\n";
      return 5;
    }
    std::cout << "failed at once: " << e.what() << " (" << refused << " refusals)\n";
  }
  // The Client goes on.
  if (http_task::URL(server.base_url() + "/multiply", fresh)
          .get_async<int>({{"x", 4}, {"y", 4}})
          .get() != 16)
    return 6;
  return 0;
}
