// SPDX-License-Identifier: MIT
// examples/celery_gateway/cluster.sh as a child process of the test: started on a free
// port, its `pid <role> <pid>` lines read, stopped by pid (SIGTERM: it stops what it
// started), SIGKILL to its process group only if it does not exit.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace http_task_test {

// Whether nothing listens on 127.0.0.1:port (we could bind it).
inline bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A port p with p and p+1 (Redis) both free, from the kernel's ephemeral choice.
inline int free_port_pair() {
  for (int tries = 0; tries < 100; ++tries) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    const int port = ntohs(addr.sin_port);
    if (port < 65535 && port_free(port) && port_free(port + 1)) return port;
  }
  throw std::runtime_error("no free pair of ports");
}

class ClusterProcess {
 public:
  explicit ClusterProcess(std::chrono::seconds startup = std::chrono::seconds(90)) {
    char pattern[] = "/tmp/http_task_cluster.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    log_ = dir_ + "/cluster.out";
    port_ = free_port_pair();
    spawn();
    wait_for_line("ready ", startup);
  }
  ClusterProcess(const ClusterProcess&) = delete;
  ClusterProcess& operator=(const ClusterProcess&) = delete;
  ~ClusterProcess() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  pid_t pid() const { return pid_; }

  // The latest pid cluster.sh printed for a role (redis, w1, w2, gateway).
  pid_t role_pid(const std::string& role) const {
    pid_t pid = -1;
    std::istringstream in(output());
    std::string word, name;
    long value = 0;
    for (std::string line; std::getline(in, line);) {
      std::istringstream l(line);
      if (l >> word >> name >> value && word == "pid" && name == role)
        pid = static_cast<pid_t>(value);
    }
    return pid;
  }

  std::string output() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Sends sig to cluster.sh and waits until it has printed `expect` once more than before.
  void signal_and_wait(int sig, const std::string& expect, std::chrono::seconds timeout) {
    const std::size_t before = count(expect);
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (count(expect) <= before) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("cluster.sh did not print '" + expect + "':\n" + output());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(-pid_, SIGKILL);  // its own process group: only what it started
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid_ = -1;
  }

 private:
  std::size_t count(const std::string& text) const {
    const std::string out = output();
    std::size_t n = 0;
    for (auto at = out.find(text); at != std::string::npos; at = out.find(text, at + 1)) ++n;
    return n;
  }

  void wait_for_line(const std::string& prefix, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (output().find("\n" + prefix) != std::string::npos || output().rfind(prefix, 0) == 0)
        return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("cluster.sh exited before it was ready:\n" + output());
      }
      if (std::chrono::steady_clock::now() > deadline) {
        const std::string out = output();
        stop();
        throw std::runtime_error("cluster.sh not ready in time:\n" + out);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void spawn() {
    const std::string script =
        std::string(HTTP_TASK_TEST_SOURCE_DIR) + "/examples/celery_gateway/cluster.sh";
    std::vector<std::string> args = {"/bin/bash", script, std::to_string(port_)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
      sigaddset(&defaults, sig);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    const int rc = ::posix_spawn(&pid_, "/bin/bash", &actions, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      throw std::runtime_error(std::string("cannot start cluster.sh: ") + std::strerror(rc));
  }

  std::string dir_;
  std::string log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace http_task_test
