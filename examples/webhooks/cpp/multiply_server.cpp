// SPDX-License-Identifier: MIT
// The multiply webhook as a C++ HTTP server: cpp-httplib (Debian's libcpp-httplib-dev)
// serves, http_task/webhook.hpp reads the arguments and writes the answers.
//
//   multiply_server [--host 127.0.0.1] [--port 0] [--port-file PATH] [--parent-pid N]
//
// --port 0 picks a free port; --port-file gets it written atomically (PATH.tmp, then
// renamed), otherwise it is printed on stdout. --parent-pid N: exit once process N is gone
// (polled every 0.5 s). SIGTERM/SIGINT exit promptly. Requests are not logged.
#include <http_task/webhook.hpp>

#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace webhook = http_task::webhook;

namespace {

constexpr std::string_view kMoonReason = "Invalid moon alignment: ☾ ≠ ☀ (🌙)";
constexpr long long kMaxLarge = 64LL * 1024 * 1024;
constexpr std::size_t kMaxBody = 16 * 1024 * 1024;

// The same strict rule as the other servers: [+-]?[0-9]+, nothing else.
std::optional<long long> parse_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return std::nullopt;  // "+-5"
  }
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Either the argument's value or the failure body that explains why there is none.
struct IntegerArgument {
  long long value = 0;
  std::string failure;  // empty on success
};

IntegerArgument integer_argument(const http_task::Params& args, const std::string& name) {
  const std::string* raw = args.find(name);
  if (raw == nullptr) return {0, webhook::failure_body("missing argument " + name)};
  const auto value = parse_integer(*raw);
  if (!value) return {0, webhook::failure_body("argument " + name + " is not an integer")};
  return {*value, {}};
}

void answer(httplib::Response& res, const std::string& body) {
  // Failures too are HTTP 200: the status in the body is what the caller reads.
  res.set_content(body, std::string(webhook::content_type));
}

void multiply(const http_task::Params& args, httplib::Response& res) {
  const auto x = integer_argument(args, "x");
  if (!x.failure.empty()) return answer(res, x.failure);
  const auto y = integer_argument(args, "y");
  if (!y.failure.empty()) return answer(res, y.failure);
  long long product = 0;
  if (__builtin_mul_overflow(x.value, y.value, &product)) {
    return answer(res, webhook::failure_body("product out of range"));
  }
  answer(res, webhook::success_body(product));
}

void echo_args(const http_task::Params& args, httplib::Response& res) {
  answer(res, webhook::success_body(webhook::Value::from_params(args)));
}

void moon_failure(const http_task::Params&, httplib::Response& res) {
  answer(res, webhook::failure_body(kMoonReason));
}

void large(const http_task::Params& args, httplib::Response& res) {
  const auto n = integer_argument(args, "n");
  if (!n.failure.empty()) return answer(res, n.failure);
  if (n.value < 0 || n.value > kMaxLarge) {
    return answer(res, webhook::failure_body("argument n is out of range"));
  }
  std::string digits(static_cast<std::size_t>(n.value), '0');
  for (std::size_t i = 0; i < digits.size(); ++i) digits[i] = static_cast<char>('0' + i % 10);
  answer(res, webhook::success_body(digits));
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;
  pid_t parent_pid = 0;
};

[[noreturn]] void usage() {
  std::cerr << "usage: multiply_server [--host H] [--port N] [--port-file PATH] "
               "[--parent-pid N]\n";
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--port") {
      options.port = std::atoi(value.c_str());
    } else if (flag == "--port-file") {
      options.port_file = value;
    } else if (flag == "--parent-pid") {
      options.parent_pid = static_cast<pid_t>(std::atol(value.c_str()));
    } else {
      usage();
    }
  }
  return options;
}

bool write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << '\n';
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

bool parent_alive(pid_t pid, pid_t original_ppid) {
  // Reparenting also means the parent died (it may linger as a zombie).
  if (pid == original_ppid && ::getppid() != original_ppid) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);

  // SIGTERM and SIGINT are blocked in every thread (httplib's workers inherit the mask) and
  // taken by the watcher below with sigtimedwait: no code runs in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server server;
  // httplib serves a connection on one pool thread for its whole keep-alive life (5 s
  // idle by default), and its pool has max(8, cores - 1) threads: the 9th concurrent
  // caller would wait seconds for a thread. A bigger pool and a short idle time fix that.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.set_keep_alive_timeout(1);
  // httplib 0.11 listens with a backlog of 5: a burst of new connections overflows it and
  // the kernel drops SYNs, which clients resend only after 1 s. Keep the socket (this
  // replaces httplib's default options, so SO_REUSEADDR is set here) to listen again with
  // a real backlog once bound.
  int listen_socket = -1;
  server.set_socket_options([&listen_socket](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket = sock;
  });
  using Handler = void (*)(const http_task::Params&, httplib::Response&);
  // A regex over the path: the trailing slash is optional, as on the other servers.
  for (const auto& [path, handler] : {std::pair<const char*, Handler>{"/multiply/?", &multiply},
                                      {"/echo_args/?", &echo_args},
                                      {"/fail/?", &moon_failure},
                                      {"/large/?", &large}}) {
    // req.target is the raw request target, its query still percent-encoded.
    // (httplib's own req.params mixes the query and the body.)
    server.Get(path, [handler = handler](const httplib::Request& req, httplib::Response& res) {
      handler(webhook::parse_query(req.target), res);
    });
    // With a ContentReader the body reaches us as it is. A plain handler would have httplib
    // parse form bodies itself, and refuse any over 8 kB with 413
    // (CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH, fixed when Debian built the library).
    server.Post(path, [handler = handler](const httplib::Request& req, httplib::Response& res,
                                          const httplib::ContentReader& read) {
      std::string body;
      const bool complete = read([&](const char* data, std::size_t size) {
        if (body.size() + size > kMaxBody) return false;
        body.append(data, size);
        return true;
      });
      if (!complete) {
        res.status = 413;
        return answer(res, webhook::failure_body("request body too large"));
      }
      handler(webhook::call_arguments(req.method, req.target, body), res);
    });
  }

  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
  } else if (!server.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0) {
    std::cerr << "multiply_server: cannot listen on " << options.host << ":" << options.port
              << "\n";
    return 1;
  }
  if (listen_socket >= 0) ::listen(listen_socket, SOMAXCONN);  // Linux: updates the backlog
  if (!options.port_file.empty()) {
    if (!write_port_file(options.port_file, port)) {
      std::cerr << "multiply_server: cannot write " << options.port_file << "\n";
      return 1;
    }
  } else {
    std::cout << port << std::endl;
  }

  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    const pid_t original_ppid = ::getppid();
    const timespec half_second{0, 500'000'000};
    while (!finished.load()) {
      if (::sigtimedwait(&stop_signals, nullptr, &half_second) > 0) break;
      if (options.parent_pid > 0 && !parent_alive(options.parent_pid, original_ppid)) break;
    }
    // stop() is lost if it comes before listen_after_bind() has started: repeat it.
    while (!finished.load()) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  server.listen_after_bind();
  finished.store(true);
  watcher.join();
  return 0;
}
