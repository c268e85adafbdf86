// SPDX-License-Identifier: MIT
// The http-task tool as a user runs it: a child process against the real test server,
// judged by its stdout, stderr and exit status.
#include <catch2/catch.hpp>

#include <http_task/json.hpp>
#include <http_task/version.hpp>

#include "support/checks.hpp"
#include "support/test_servers.hpp"
#include "support/webhook_urls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

#ifndef HTTP_TASK_CLI_BINARY
#error "HTTP_TASK_CLI_BINARY: the path of the built http-task (tests/cli/CMakeLists.txt sets it)"
#endif

namespace {

using http_task_test::answer_url;
using http_task_test::server_url;

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string input;           // written to stdin, which is then closed
  bool stderr_is_tty = false;  // stderr on a pseudo-terminal instead of a pipe
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

// Runs the tool with a pipe on each standard stream (or a pseudo-terminal on stderr),
// feeding stdin and draining both outputs at once so that neither side can block.
Run run_cli(const std::vector<std::string>& args, const RunOptions& options = {}) {
  int in[2], out[2], err[2];
  check(::pipe2(in, O_CLOEXEC) == 0, "pipe2");
  check(::pipe2(out, O_CLOEXEC) == 0, "pipe2");
  if (options.stderr_is_tty) {
    check(::openpty(&err[0], &err[1], nullptr, nullptr, nullptr) == 0, "openpty");
    // Raw: the terminal must not turn "\n" into "\r\n", the tests look for "\r".
    termios raw{};
    check(::tcgetattr(err[1], &raw) == 0, "tcgetattr");
    ::cfmakeraw(&raw);
    check(::tcsetattr(err[1], TCSANOW, &raw) == 0, "tcsetattr");
    ::fcntl(err[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(err[1], F_SETFD, FD_CLOEXEC);
  } else {
    check(::pipe2(err, O_CLOEXEC) == 0, "pipe2");
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<std::string> argv_text = {HTTP_TASK_CLI_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_text.size() + 1);
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    throw std::runtime_error(std::string("posix_spawn ") + argv[0] + ": " + std::strerror(rc));
  }

  Run run;
  std::size_t written = 0;
  int in_fd = in[1];
  if (options.input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out[0], err_fd = err[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out_fd >= 0 || err_fd >= 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{in_fd, POLLOUT, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    if (::poll(fds, 3, 200) < 0 && errno != EINTR) break;
    if (in_fd >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n =
          ::write(in_fd, options.input.data() + written, options.input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN) written = options.input.size();
      if (written == options.input.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
    auto drain = [](int& fd, short revents, std::string& into) {
      if (fd < 0 || !(revents & (POLLIN | POLLHUP | POLLERR))) return;
      char buf[4096];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        into.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        // EOF; a pseudo-terminal reports EIO once the child's side is closed.
        ::close(fd);
        fd = -1;
      }
    };
    drain(out_fd, fds[1].revents, run.out);
    drain(err_fd, fds[2].revents, run.err);
  }
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::string describe(const Run& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

// A port with nothing listening: the socket is bound (so no one else takes the port)
// but never listens, and connecting to it is refused.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check(fd_ >= 0, "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "bind");
    socklen_t len = sizeof addr;
    check(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0, "getsockname");
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The batch's stdout, one parsed result per input line number.
std::map<long, http_task::Json> results_by_line(const std::string& out) {
  std::map<long, http_task::Json> results;
  for (const auto& line : lines_of(out)) {
    http_task::Json j = http_task::Json::parse(line);
    results[j.get<long>("line")] = j;
  }
  return results;
}

std::string error_of(const http_task::Json& result) {
  return result.get<std::string>("status") == "success" ? "success"
                                                        : result.get<std::string>("error");
}

using http_task_test::contains;

}  // namespace

TEST_CASE("cli: --help and --version", "[cli]") {
  Run help = run_cli({"--help"});
  INFO(describe(help));
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "Usage: http-task"));
  CHECK(contains(help.out, "Exit status:"));
  CHECK(help.err.empty());

  Run version = run_cli({"--version"});
  INFO(describe(version));
  CHECK(version.exit_code == 0);
  CHECK(contains(version.out, "http-task " HTTP_TASK_VERSION_STRING));
}

TEST_CASE("cli: usage errors exit 1 with a hint", "[cli]") {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"--bogus", "get", "http://127.0.0.1:1/"},
      {"get"},
      {"frobnicate", "http://127.0.0.1:1/"},
      {"get", "http://127.0.0.1:1/", "novalue"},
      {"--timeout", "soon", "get", "http://127.0.0.1:1/"},
      {"--timeout", "-1", "get", "http://127.0.0.1:1/"},
      {"-H", "no colon", "get", "http://127.0.0.1:1/"},
      {"--post", "get", "http://127.0.0.1:1/"},
      {"batch", "-c", "0"},
      {"batch", "a", "b"},
  };
  for (const auto& args : bad) {
    Run r = run_cli(args);
    INFO(describe(r));
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "Try 'http-task --help'"));
  }
}

TEST_CASE("cli: a call prints its retval as JSON and exits 0", "[cli]") {
  SECTION("METHOD URL name=value") {
    Run r = run_cli({"get", server_url("/multiply"), "x=10", "y=10"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "100\n");
    CHECK(r.err.empty());
  }
  SECTION("URL alone means GET; options after the words") {
    Run r = run_cli({server_url("/multiply"), "x=6", "y=7", "--timeout", "5"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "42\n");
  }
  SECTION("a structured retval is compact JSON; -r prints a string bare") {
    Run r = run_cli({"GET", server_url("/echo"), "a=1"});
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    http_task::Json echo = http_task::Json::parse(r.out);
    CHECK(echo.get<std::string>("query") == "a=1");

    Run str = run_cli({"get", answer_url(R"({"status": "success", "retval": "a \"b\""})")});
    CHECK(str.out == "\"a \\\"b\\\"\"\n");
    Run raw = run_cli({"-r", "get", answer_url(R"({"status": "success", "retval": "a \"b\""})")});
    CHECK(raw.out == "a \"b\"\n");
  }
}

TEST_CASE("cli: each error class has its own exit code and message", "[cli]") {
  ClosedPort closed;
  struct Case {
    const char* name;
    std::vector<std::string> args;
    int exit_code;
    std::vector<std::string> stderr_parts;
  };
  const std::vector<Case> cases = {
      {"remote failure",
       {"get", server_url("/multiply"), "x=ten", "y=10"},
       2,
       {"remote task failed", "not an integer"}},
      {"invalid answer: not JSON", {"get", answer_url("not json at all")}, 3, {"invalid answer"}},
      {"invalid answer: unknown status",
       {"get", answer_url(R"({"status": "u.u.u.u"})")},
       3,
       {"invalid answer", "u.u.u.u"}},
      {"HTTP error", {"get", answer_url("oops", 500)}, 4, {"HTTP error", "500", "oops"}},
      {"HTTP error with a failure body",
       {"get", answer_url(R"({"status": "failure", "reason": "moon"})", 503)},
       4,
       {"503", "moon"}},
      {"transport error", {"get", closed.url("/multiply")}, 5, {"transport error"}},
      {"timeout", {"--timeout", "0.3", "get", server_url("/slow?ms=5000")}, 6, {"timeout"}},
      {"refused: not http", {"get", "file:///etc/passwd"}, 7, {"request refused", "file://"}},
      {"refused: header with CR",
       {"-H", "X-Bad: a\rb", "get", server_url("/echo")},
       7,
       {"request refused"}},
  };
  for (const auto& c : cases) {
    Run r = run_cli(c.args);
    INFO(c.name << "\n" << describe(r));
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.out.empty());
    for (const auto& part : c.stderr_parts) CHECK(contains(r.err, part));
    CHECK(r.err.rfind("http-task: ", 0) == 0);

    // -q: the same exit code, nothing said.
    std::vector<std::string> quiet_args = c.args;
    quiet_args.insert(quiet_args.begin(), "-q");
    Run q = run_cli(quiet_args);
    CHECK(q.exit_code == c.exit_code);
    CHECK(q.err.empty());
  }
}

TEST_CASE("cli: -H headers and --post reach the webhook", "[cli]") {
  SECTION("-H on GET, repeatable, both spellings") {
    Run r = run_cli(
        {"-H", "X-Test: hello world", "--header=X-Other:2", "get", server_url("/echo"), "a=b c"});
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    http_task::Json echo = http_task::Json::parse(r.out);
    CHECK(echo.get<std::string>("method") == "GET");
    CHECK(echo.get<http_task::Json>("headers").get<std::string>("x-test") == "hello world");
    CHECK(echo.get<http_task::Json>("headers").get<std::string>("x-other") == "2");
    CHECK(echo.get<std::string>("query") == "a=b+c");
  }
  SECTION("--post sends a form body") {
    Run r = run_cli({"--post", server_url("/echo"), "x=6", "y=seven & more"});
    INFO(describe(r));
    REQUIRE(r.exit_code == 0);
    http_task::Json echo = http_task::Json::parse(r.out);
    CHECK(echo.get<std::string>("method") == "POST");
    CHECK(echo.get<std::string>("query").empty());
    CHECK(echo.get<std::string>("body") == "x=6&y=seven+%26+more");
    CHECK(echo.get<http_task::Json>("headers").get<std::string>("content-type") ==
          "application/x-www-form-urlencoded");
  }
  SECTION("post as the command, to the multiply webhook") {
    Run r = run_cli({"post", server_url("/multiply"), "x=6", "y=7"});
    INFO(describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "42\n");
  }
}

TEST_CASE("cli: -v logs the call like a Celery worker", "[cli]") {
  Run ok = run_cli({"-v", "get", server_url("/multiply"), "x=10", "y=10"});
  INFO(describe(ok));
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "100\n");
  CHECK(std::regex_search(
      ok.err, std::regex(R"(^Task http_task\.dispatch\[[0-9a-f-]{36}\] processed: 100\n$)")));

  Run failed = run_cli({"-v", "get", server_url("/multiply"), "x=ten", "y=10"});
  INFO(describe(failed));
  CHECK(failed.exit_code == 2);
  CHECK(std::regex_search(
      failed.err, std::regex(R"(Task http_task\.dispatch\[[0-9a-f-]{36}\] raised: .*ten)")));
}

namespace {

// Thirteen input lines: eleven calls, two bad lines, and every outcome; `closed` is a refused port.
std::string mixed_batch(const ClosedPort& closed) {
  std::string in;
  in += "# a comment, then a blank line\n\n";      // 1, 2
  in += server_url("/multiply") + " x=10 y=10\n";  // 3
  in += R"({"method": "POST", "url": ")" + server_url("/multiply") +
        R"(", "args": {"x": 6, "y": 7}})" + "\n";            // 4
  in += "POST " + server_url("/multiply") + " x=ten y=1\n";  // 5
  in += answer_url("not json") + "\n";                       // 6
  in += R"({"url": ")" + server_url("/answer") + R"(", "args": {"status": 500, "body": "x"}})" +
        "\n";                            // 7
  in += closed.url("/multiply") + "\n";  // 8
  in += R"({"url": ")" + server_url("/slow") + R"(", "args": {"ms": 5000}, "timeout": 0.3})" +
        "\n";                    // 9
  in += "file:///etc/passwd\n";  // 10
  in += R"({"url": 5})"
        "\n";                                             // 11
  in += server_url("/echo") + " 'a=b c' \"q=x\\\"y\"\n";  // 12
  in += "   # indented comment\n";                        // 13
  in += R"({"url": ")" + server_url("/echo") +
        R"(", "args": {"n": [1, 2]}, "headers": {"X-Line": "14"}})" + "\n";  // 14
  in += server_url("/multiply") + " x=2 y=3\n";                              // 15
  in += R"({"url": )"
        "\n";  // 16: bad JSON
  return in;
}

void check_mixed_batch(const Run& r) {
  INFO(describe(r));
  CHECK(r.exit_code == 8);
  auto results = results_by_line(r.out);
  REQUIRE(results.size() == 13);
  CHECK(error_of(results.at(3)) == "success");
  CHECK(results.at(3).get<int>("retval") == 100);
  CHECK(error_of(results.at(4)) == "success");
  CHECK(results.at(4).get<int>("retval") == 42);
  CHECK(error_of(results.at(5)) == "remote_failure");
  CHECK(contains(results.at(5).get<std::string>("reason"), "ten"));
  CHECK(error_of(results.at(6)) == "invalid_answer");
  CHECK(error_of(results.at(7)) == "http_error");
  CHECK(results.at(7).get<int>("http_status") == 500);
  CHECK(error_of(results.at(8)) == "transport_error");
  CHECK(error_of(results.at(9)) == "timeout");
  CHECK(error_of(results.at(10)) == "refused");
  CHECK(error_of(results.at(11)) == "bad_line");
  CHECK(error_of(results.at(12)) == "success");
  CHECK(results.at(12).get<http_task::Json>("retval").get<std::string>("query") == "a=b+c&q=x%22y");
  CHECK(error_of(results.at(14)) == "success");
  CHECK(results.at(14).get<http_task::Json>("retval").get<std::string>("query") == "n=1&n=2");
  CHECK(results.at(14)
            .get<http_task::Json>("retval")
            .get<http_task::Json>("headers")
            .get<std::string>("x-line") == "14");
  CHECK(results.at(15).get<int>("retval") == 6);
  CHECK(error_of(results.at(16)) == "bad_line");

  std::regex id(R"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})");
  for (const auto& [line, result] : results) {
    INFO("line " << line);
    if (error_of(result) == "bad_line") {
      CHECK(!result.find("id"));
      continue;
    }
    CHECK(std::regex_match(result.get<std::string>("id"), id));
    CHECK(result.get<double>("ms") >= 0);
  }

  CHECK(contains(r.err, "http-task: 13 calls in "));
  CHECK(contains(r.err,
                 ": 5 success, 1 remote_failure, 1 invalid_answer, 1 http_error, "
                 "1 transport_error, 1 timeout, 1 refused, 2 bad_line\n"));
  CHECK(std::regex_search(r.err, std::regex(R"(latency p50 [0-9.]+ ms, p99 [0-9.]+ ms)")));
  // One line per origin: the refused URL and the bad lines reached none.
  CHECK(std::regex_search(
      r.err, std::regex(R"(\nhttp-task: origin http://127\.0\.0\.1:[0-9]+: 9 calls: 5 success, )"
                        R"(1 remote_failure, 1 invalid_answer, 1 http_error, 1 timeout; )"
                        R"(latency p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms\n)")));
  CHECK(std::regex_search(r.err, std::regex(R"(\nhttp-task: origin http://127\.0\.0\.1:[0-9]+: )"
                                            R"(1 call: 0 success, 1 transport_error; latency)")));
}

}  // namespace

TEST_CASE("cli: batch from a file and from stdin, mixed outcomes", "[cli]") {
  ClosedPort closed;
  const std::string input = mixed_batch(closed);

  SECTION("from a file, -c 8") {
    char path[] = "/tmp/http_task_cli_XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    ::close(fd);
    Run r = run_cli({"batch", "-c", "8", path});
    ::unlink(path);
    check_mixed_batch(r);
    // stderr is a pipe: no progress bar, no terminal control at all.
    CHECK(!contains(r.err, "\r"));
    CHECK(!contains(r.err, "\x1b["));
  }
  SECTION("from stdin, named -") { check_mixed_batch(run_cli({"-c8", "batch", "-"}, {input})); }
  SECTION("from stdin, one call at a time") {
    check_mixed_batch(run_cli({"batch", "--concurrency=1"}, {input}));
  }
}

TEST_CASE("cli: batch of successes exits 0; -q keeps only stdout", "[cli]") {
  std::string input;
  for (int i = 1; i <= 20; ++i) {
    input += server_url("/multiply") + " x=" + std::to_string(i) + " y=2\n";
  }
  Run r = run_cli({"batch", "-c", "8"}, {input});
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  auto results = results_by_line(r.out);
  REQUIRE(results.size() == 20);
  for (const auto& [line, result] : results) CHECK(result.get<long>("retval") == 2 * line);
  CHECK(contains(r.err, "http-task: 20 calls in "));
  CHECK(contains(r.err, ": 20 success\n"));

  Run quiet = run_cli({"-q", "batch", "-c", "8"}, {input});
  CHECK(quiet.exit_code == 0);
  CHECK(lines_of(quiet.out).size() == 20);
  CHECK(quiet.err.empty());
}

TEST_CASE("cli: batch -v logs one Celery line per call, with the result's id", "[cli]") {
  const std::string input =
      server_url("/multiply") + " x=10 y=10\n" + server_url("/multiply") + " x=ten y=10\n";
  Run r = run_cli({"-v", "batch"}, {input});
  INFO(describe(r));
  CHECK(r.exit_code == 8);
  auto results = results_by_line(r.out);
  REQUIRE(results.size() == 2);
  CHECK(contains(r.err, "Task http_task.dispatch[" + results.at(1).get<std::string>("id") +
                            "] processed: 100\n"));
  CHECK(contains(r.err,
                 "Task http_task.dispatch[" + results.at(2).get<std::string>("id") + "] raised: "));
}

TEST_CASE("cli: batch input errors", "[cli]") {
  Run missing = run_cli({"batch", "/nonexistent/calls.txt"});
  INFO(describe(missing));
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "cannot read /nonexistent/calls.txt"));

  Run empty = run_cli({"batch"}, {"# nothing to do\n\n"});
  INFO(describe(empty));
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.empty());
  CHECK(contains(empty.err, "http-task: 0 calls in "));
}

TEST_CASE("cli: progress bar on stderr only when it is a terminal", "[cli]") {
  std::string input;
  for (int i = 0; i < 6; ++i) input += server_url("/slow") + " ms=300\n";
  for (int i = 0; i < 3; ++i) input += server_url("/multiply") + " x=ten\n";

  SECTION("a terminal gets the bar, redrawn with \\r, and the summary") {
    Run r = run_cli({"batch", "-c", "4"}, {input, true});
    INFO(describe(r));
    CHECK(r.exit_code == 8);
    CHECK(contains(r.err, "\r["));
    CHECK(contains(r.err, " 0/9 "));
    CHECK(contains(r.err, " 9/9 100% "));
    CHECK(contains(r.err, " 3 failed"));
    CHECK(contains(r.err, "http-task: 9 calls in "));
    CHECK(contains(r.err, ": 6 success, 3 remote_failure\n"));
    // The final bar stays, on a line of its own, before the summary.
    CHECK(r.err.find("http-task: 9 calls") > r.err.rfind("\r["));
    // stdout is a pipe: plain JSON lines, untouched by the bar.
    CHECK(lines_of(r.out).size() == 9);
    CHECK(!contains(r.out, "\r"));
    CHECK(!contains(r.out, "\x1b["));
  }
  SECTION("a pipe gets no bar") {
    Run r = run_cli({"batch", "-c", "4"}, {input, false});
    INFO(describe(r));
    CHECK(r.exit_code == 8);
    CHECK(!contains(r.err, "\r"));
    CHECK(!contains(r.err, "["));
    CHECK(contains(r.err, ": 6 success, 3 remote_failure\n"));
  }
  SECTION("a terminal with --no-progress or -q gets no bar") {
    Run no_bar = run_cli({"--no-progress", "batch"}, {input, true});
    INFO(describe(no_bar));
    CHECK(!contains(no_bar.err, "\r"));
    CHECK(contains(no_bar.err, ": 6 success, 3 remote_failure\n"));
    Run quiet = run_cli({"-q", "batch"}, {input, true});
    INFO(describe(quiet));
    CHECK(quiet.err.empty());
    CHECK(quiet.exit_code == 8);
  }
}
