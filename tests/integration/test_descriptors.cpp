// SPDX-License-Identifier: MIT
// Descriptors a Client holds are not inherited by the processes the application starts:
// its connections, libcurl's wake-up socket pairs, its epoll set and eventfd.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

extern char** environ;

using namespace http_task;
using http_task_test::server_url;

namespace {
// What this process's descriptors point to ("socket:[123]", "anon_inode:[eventpoll]").
std::multiset<std::string> own_targets() {
  std::multiset<std::string> out;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char target[256];
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    out.insert(std::string(target, static_cast<std::size_t>(n)));
  }
  ::closedir(dir);
  return out;
}

// What the child's descriptors point to, as `ls -l /proc/self/fd` prints it.
std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string listing_by_posix_spawn(const std::string& out_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  char ls[] = "/bin/ls";
  char l[] = "-l";
  char fds[] = "/proc/self/fd/";
  char* argv[] = {ls, l, fds, nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/bin/ls", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return read_file(out_path);
}

std::string listing_by_system(const std::string& out_path) {
  REQUIRE(std::system(("ls -l /proc/self/fd/ > " + out_path).c_str()) == 0);
  return read_file(out_path);
}
}  // namespace

TEST_CASE("a child process inherits no descriptor of a Client", "[descriptors]") {
  const std::string url = server_url("/multiply");  // the server runs before the snapshot
  const auto before = own_targets();
  Client client;
  // Kept alive after the call: the connection stays open, as it does between calls.
  REQUIRE(URL(url, client).get_async<int>({{"x", 6}, {"y", 7}}).get() == 42);
  auto after = own_targets();
  for (const auto& t : before) {
    auto it = after.find(t);
    if (it != after.end()) after.erase(it);
  }
  // The connection, the epoll set and the eventfd at least; with libcurl 7.88 also the
  // wake-up socket pair of the multi handle.
  int sockets = 0;
  for (const auto& t : after) sockets += t.rfind("socket:", 0) == 0;
  REQUIRE(sockets >= 1);
  REQUIRE(after.size() >= 3);

  const std::string out_path = "/tmp/http_task_fd_listing_" + std::to_string(::getpid()) + ".txt";
  for (int way = 0; way < 2; ++way) {
    const std::string listing =
        way == 0 ? listing_by_posix_spawn(out_path) : listing_by_system(out_path);
    INFO((way == 0 ? "posix_spawn" : "system") << " child's descriptors:\n" << listing);
    for (const auto& t : after) {
      // anon_inode targets name a kind, not one descriptor: none may be there at all.
      INFO("the Client's " << t);
      CHECK(listing.find(t) == std::string::npos);
    }
  }
  std::remove(out_path.c_str());
}
