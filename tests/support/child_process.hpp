// SPDX-License-Identifier: MIT
// Runs a test body in a forked child with an alarm, for tests whose failure is a hang or
// an abort: the parent's test fails with what happened instead of hanging itself.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <string>

namespace http_task_test {

struct ChildEnd {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it (SIGALRM: it hung)

  std::string describe() const {
    if (signal == SIGALRM) return "the child hung (killed by its alarm)";
    if (signal) return "the child was killed by signal " + std::to_string(signal);
    return "the child exited with " + std::to_string(exit_code);
  }
};

// body returns the child's exit code; an exception from it exits with 99. Start the
// servers the child needs before calling this (the child must not start them itself).
inline ChildEnd run_in_child(const std::function<int()>& body, unsigned alarm_seconds = 60) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Catch2's handlers report a crash as the parent's test failing: the child's end
    // is the parent's to judge.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTERM, SIGINT})
      ::signal(sig, SIG_DFL);
    ::alarm(alarm_seconds);
    int code = 99;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    } catch (...) {
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  ChildEnd end;
  if (pid < 0) return end;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) end.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) end.signal = WTERMSIG(status);
  return end;
}

}  // namespace http_task_test
