// SPDX-License-Identifier: MIT
// fork() then exec() of a program using the library, from a process whose default
// Client has a connection open and a call pending: the new program starts with none of
// the parent's descriptors (sockets, epoll set, eventfd), makes its own calls with ids
// of its own, and both exit cleanly. ctest expects exit code 0.
#include <http_task/http_task.hpp>

#include "support/test_servers.hpp"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>

namespace {
// The descriptors this process holds that are sockets or anonymous inodes (epoll, eventfd).
std::string inherited_descriptors() {
  std::string found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return "cannot list /proc/self/fd";
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char target[256];
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    std::string t(target, static_cast<std::size_t>(n));
    if (t.rfind("socket:", 0) == 0 || t.rfind("anon_inode:", 0) == 0)
      found += std::string(e->d_name) + " -> " + t + "; ";
  }
  ::closedir(dir);
  return found;
}

// The exec'd program: checks what it inherited, then calls the webhook at `url`.
int child_main(const char* url) {
  const std::string inherited = inherited_descriptors();
  if (!inherited.empty()) {
    std::cout << "inherited: " << inherited << std::endl;
    return 1;
  }
  auto call = http_task::URL(url).get_async<int>({{"x", 4}, {"y", 5}});
  if (call.get() != 20) return 2;
  std::cout << call.id() << std::endl;
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "child") == 0) return child_main(argv[2]);

  // Started before default_client(), so stopped after it at exit.
  const std::string url = http_task_test::webhook_server().base_url() + "/multiply";
  auto first = http_task::URL(url).get_async<int>({{"x", 6}, {"y", 7}});
  if (first.get() != 42) return 1;  // its connection stays open
  auto pending =
      http_task::URL(http_task_test::webhook_server().base_url() + "/slow?ms=30000").get_async();

  int out[2];
  if (::pipe(out) != 0) return 1;
  pid_t pid = ::fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    const char* args[] = {argv[0], "child", url.c_str(), nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(args));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return 1;
  std::cout << "child said: " << text;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cout << "child failed, status " << status << std::endl;
    return 1;
  }
  if (text.size() != 37 || text.compare(0, 36, first.id()) == 0 ||
      text.compare(0, 36, pending.id()) == 0) {
    std::cout << "child's id is missing or the parent's" << std::endl;
    return 1;
  }
  // The parent's Client goes on working after the child came and went.
  if (http_task::URL(url).get_async<int>({{"x", 2}, {"y", 2}}).get() != 4) return 1;
  std::cout << "parent " << first.id() << ", child " << text;
  return 0;
}
