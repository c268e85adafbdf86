// SPDX-License-Identifier: MIT
// A test server run as a child process on 127.0.0.1, owned and stopped by pid.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace http_task_test {

// Starts `argv` with `--port-file <fresh temp dir>/port --parent-pid <getpid()>` appended
// and waits until the server has written its port there. The server exits by itself if
// this process dies without running destructors; the destructor stops it by pid and
// removes the temp dir. The child's stdout and stderr go to a file in the temp dir.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> argv,
                         std::chrono::milliseconds startup_timeout = std::chrono::seconds(30))
      : argv_(std::move(argv)) {
    if (argv_.empty()) throw std::invalid_argument("ServerProcess: empty command");
    make_temp_dir();
    try {
      spawn();
      wait_for_port(startup_timeout);
    } catch (...) {
      kill_now();
      remove_temp_dir();
      throw;
    }
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  ~ServerProcess() {
    stop();
    remove_temp_dir();
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

  // The last `max_bytes` the server wrote to stdout/stderr, for failure messages.
  std::string stderr_tail(std::size_t max_bytes = 4096) const {
    std::ifstream in(stderr_path_, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
  }

  // SIGTERM, up to `grace` for it to exit, then SIGKILL; always reaps. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(3)) {
    if (pid_ <= 0) return;
    signal_group(SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (reaped()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill_now();
  }

 private:
  void make_temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/http_task_server.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("ServerProcess: mkdtemp(" + pattern +
                               ") failed: " + std::strerror(errno));
    }
    dir_ = pattern;
    port_path_ = dir_ + "/port";
    stderr_path_ = dir_ + "/stderr.log";
  }

  void remove_temp_dir() {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    dir_.clear();
  }

  void spawn() {
    std::vector<std::string> args = argv_;
    args.insert(args.end(),
                {"--port-file", port_path_, "--parent-pid", std::to_string(::getpid())});
    std::vector<char*> c_args;
    for (auto& arg : args) c_args.push_back(arg.data());
    c_args.push_back(nullptr);

    // .pyc files would otherwise land in the source tree; unbuffered output makes the
    // stderr tail complete when the server dies.
    std::vector<std::string> env = {"PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"};
    for (char** e = environ; e && *e; ++e) {
      if (std::strncmp(*e, "PYTHONDONTWRITEBYTECODE=", 24) != 0 &&
          std::strncmp(*e, "PYTHONUNBUFFERED=", 17) != 0) {
        env.emplace_back(*e);
      }
    }
    std::vector<char*> c_env;
    for (auto& var : env) c_env.push_back(var.data());
    c_env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Sockets of the test process (curl's, other servers') must not leak into the child.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif

    // The test process may block or ignore signals (SIGPIPE, SIGTERM in a test); the
    // server must start with the defaults so that SIGTERM stops it.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    // Its own process group (pgid = pid), so that stopping it also stops anything it
    // started. Terminal signals then miss it; --parent-pid covers that case.
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    pid_t child = -1;
    const int rc = ::posix_spawnp(&child, c_args[0], &actions, &attr, c_args.data(), c_env.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      throw std::runtime_error("ServerProcess: cannot start " + command() + ": " +
                               std::strerror(rc));
    }
    pid_ = child;
  }

  void wait_for_port(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      // The server renames a finished file into place, so a readable number is final.
      std::ifstream in(port_path_);
      int port = 0;
      if (in >> port && port > 0 && port < 65536) {
        port_ = port;
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("ServerProcess: " + command() + " " + describe(status) +
                                 " before writing its port file; its output ends with:\n" +
                                 stderr_tail());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        throw std::runtime_error("ServerProcess: " + command() + " wrote no port file within " +
                                 std::to_string(timeout.count()) + " ms; its output ends with:\n" +
                                 stderr_tail());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // True once the child is gone and reaped (or was reaped by someone else: ECHILD).
  bool reaped() {
    int status = 0;
    const pid_t rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_ || (rc < 0 && errno == ECHILD)) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  // The group id stays ours until the leader is reaped, so this never hits a stranger.
  void signal_group(int sig) {
    if (::kill(-pid_, sig) != 0) ::kill(pid_, sig);
  }

  void kill_now() {
    if (pid_ <= 0) return;
    signal_group(SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  std::string command() const {
    std::ostringstream out;
    for (std::size_t i = 0; i < argv_.size(); ++i) out << (i ? " " : "") << argv_[i];
    return out.str();
  }

  static std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
    return "stopped";
  }

  std::vector<std::string> argv_;
  std::string dir_;
  std::string port_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace http_task_test
