// SPDX-License-Identifier: MIT
// SIGPIPE: the library needs no SIG_IGN from its host. A call whose server resets the
// connection while the request body is still being sent fails with TransportError;
// the process, with SIGPIPE at its default action (death), lives on. ctest expects exit
// code 0; death by SIGPIPE fails it.
//
// The server is a listener of this program's own: it accepts, then closes without
// reading (unread data makes the kernel answer with a reset), which no route of the
// webhook server does (it reads whole bodies before answering).
#include <http_task/http_task.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <string>
#include <thread>

int main() {
  std::signal(SIGPIPE, SIG_DFL);  // as in a host that never heard of SIGPIPE

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 1;
  std::thread server([listener] {
    for (int i = 0; i < 3; ++i) {  // one connection per call below
      int c = ::accept(listener, nullptr, nullptr);
      if (c < 0) return;
      char some[4096];
      (void)!::recv(c, some, sizeof some, 0);  // the request has started
      ::close(c);                              // with the rest unread: a reset
    }
  });

  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/upload";
  const std::string big(32 * 1024 * 1024, 'x');  // far more than the socket buffers hold
  http_task::Client client;
  int failed = 0;
  for (int i = 0; i < 3; ++i) {
    try {
      http_task::URL(url, client).post_async({{"data", big}}).get();
      std::cout << "call " << i << ": answered?" << std::endl;
      return 1;
    } catch (const http_task::TransportError& e) {
      ++failed;
      std::cout << "call " << i << ": " << e.what() << std::endl;
    }
  }
  server.join();
  ::close(listener);
  std::cout << failed << " calls failed, the process lives" << std::endl;
  return failed == 3 ? 0 : 1;
}
