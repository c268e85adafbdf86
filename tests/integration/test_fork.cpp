// SPDX-License-Identifier: MIT
// fork() without exec: the child draws fresh call ids, a parent's Client refuses calls
// there through the future without touching the parent's loop, the parent's calls
// waited for there fail rather than hang, default_client() there is the child's own,
// and destroying the parent's Client there neither joins nor cleans up.
// (fork + exec: tests/programs/fork_and_exec.cpp.)
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/webhook_urls.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

using namespace http_task;
using http_task_test::server_url;

// ThreadSanitizer kills a child of a multi-threaded process that starts threads (its
// die_after_fork): there the child's own default_client() is not tried.
#if defined(__SANITIZE_THREAD__)
#define HTTP_TASK_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HTTP_TASK_TEST_TSAN 1
#endif
#endif
#ifndef HTTP_TASK_TEST_TSAN
#define HTTP_TASK_TEST_TSAN 0
#endif

namespace {
// Runs `child` in a forked child, which writes one line of text to the pipe and exits
// with the code it returns; returns the exit status and the line.
template <class F>
std::pair<int, std::string> in_child(F&& child) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string text;
    int code = 99;
    try {
      code = child(text);
    } catch (const std::exception& e) {
      text = std::string("unexpected exception: ") + e.what();
    }
    text += '\n';
    (void)!::write(fds[1], text.data(), text.size());
    ::_exit(code);  // no static destructors of the parent's objects, no Catch2 report
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return {WEXITSTATUS(status), out};
}
}  // namespace

TEST_CASE("after fork the child's call ids are not the parent's", "[fork]") {
  (void)detail::Uuid4::random();  // this thread's generator exists before the fork
  auto [code, child_id] = in_child([](std::string& text) {
    text = detail::Uuid4::random().str();
    return 0;
  });
  const std::string parent_id = detail::Uuid4::random().str();
  REQUIRE(code == 0);
  CHECK(child_id.size() == 36);
  CHECK(child_id != parent_id);
}

TEST_CASE("a parent's Client fails calls in a forked child; default_client() works there",
          "[fork]") {
  const std::string url = server_url("/multiply");
  auto client = std::make_unique<Client>();
  REQUIRE(URL(url, *client).get_async<int>({{"x", 2}, {"y", 3}}).get() == 6);  // kept alive
  auto pending = URL(server_url("/slow?ms=30000"), *client).get_async();
  const std::string first_parent_id = URL(url, *client).get_async().id();

  auto [code, text] = in_child([&](std::string& out) {
    int failures = 0;
    // A new call through the parent's Client: refused, through the future.
    auto refused = URL(url, *client).get_async<int>({{"x", 2}, {"y", 3}});
    try {
      refused.get();
      out += "parent's Client answered; ";
      ++failures;
    } catch (const RequestError& e) {
      if (std::strstr(e.what(), "fork()") == nullptr) {
        out += std::string("unclear error: ") + e.what() + "; ";
        ++failures;
      }
    }
    // Its continuations still run (there is no completion thread here to queue them on).
    bool continued = URL(url, *client)
                         .get_async()
                         .then([](AsyncResult<Json> r) {
                           try {
                             r.get();
                             return false;
                           } catch (const RequestError&) {
                             return true;
                           }
                         })
                         .get();
    if (!continued) {
      out += "continuation saw no error; ";
      ++failures;
    }
    // A call of the parent's, pending at the fork: fails here rather than hang.
    try {
      pending.get();
      out += "parent's pending call answered; ";
      ++failures;
    } catch (const CancelledError&) {
    }
    // Destroying the parent's Client here must neither join its threads nor hang.
    client.reset();
    if (HTTP_TASK_TEST_TSAN) {
      out += detail::Uuid4::random().str();
      return failures;
    }
    // The child's own default Client works, with ids of its own.
    auto own = URL(url).get_async<int>({{"x", 4}, {"y", 5}});
    if (own.get() != 20) {
      out += "default_client() failed; ";
      ++failures;
    }
    out += own.id();
    return failures;
  });
  INFO(text);
  CHECK(code == 0);
  CHECK(text.size() == 36);
  CHECK(text != first_parent_id);
  // The parent's Client is untouched by all that: its loop and connections still work.
  CHECK(URL(url, *client).get_async<int>({{"x", 6}, {"y", 7}}).get() == 42);
  CHECK(pending.cancel());
}
