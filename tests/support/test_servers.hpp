// SPDX-License-Identifier: MIT
// The project's test servers, started on first use and stopped at process exit.
#pragma once

#include "server_process.hpp"

#include <filesystem>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

// Both are normally defined by tests/CMakeLists.txt.
#ifndef HTTP_TASK_TEST_PYTHON
// Debian's interpreter: the one with Django (the `python3` first on PATH may lack it).
#define HTTP_TASK_TEST_PYTHON "/usr/bin/python3"
#endif
#ifndef HTTP_TASK_TEST_SOURCE_DIR
// Empty: source_dir() then finds the repository root from this header's own path.
#define HTTP_TASK_TEST_SOURCE_DIR ""
#endif

namespace http_task_test {

// The repository root, absolute.
inline std::string source_dir() {
  namespace fs = std::filesystem;
  const fs::path configured = HTTP_TASK_TEST_SOURCE_DIR;
  if (!configured.empty()) return fs::absolute(configured).lexically_normal().string();
  // Fallback without the build's definition: this file is
  // <root>/tests/support/test_servers.hpp, but __FILE__ may be relative to wherever the
  // compiler ran, so also look upwards from the working directory.
  const fs::path marker = "tests/servers/webhook_server.py";
  const fs::path from_header = fs::path(__FILE__).parent_path().parent_path().parent_path();
  std::error_code ec;
  if (from_header.is_absolute() && fs::exists(from_header / marker, ec)) {
    return from_header.lexically_normal().string();
  }
  for (fs::path dir = fs::current_path(ec); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / marker, ec)) return dir.lexically_normal().string();
    if (dir == dir.root_path()) break;
  }
  return fs::absolute(from_header).lexically_normal().string();
}

inline std::string test_python() { return HTTP_TASK_TEST_PYTHON; }

// A private instance of a Python server (script relative to the repository root), for
// tests that need one of their own, e.g. to read /stats undisturbed.
inline std::unique_ptr<ServerProcess> start_python_server(const std::string& script,
                                                          std::vector<std::string> args = {}) {
  std::vector<std::string> argv = {test_python(), source_dir() + "/" + script};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return std::make_unique<ServerProcess>(std::move(argv));
}

inline std::unique_ptr<ServerProcess> start_webhook_server() {
  return start_python_server("tests/servers/webhook_server.py",
                             {"--host", "127.0.0.1", "--port", "0"});
}

inline std::unique_ptr<ServerProcess> start_django_server() {
  return start_python_server("examples/django_webhook/serve.py",
                             {"--host", "127.0.0.1", "--port", "0"});
}

// Shared instances. Function-local statics: started once even when several threads ask
// at the same time (a failed start throws and is retried by the next caller), and
// stopped by their destructors at exit. Tests sharing them must not rely on /stats.
inline const ServerProcess& webhook_server() {
  static const std::unique_ptr<ServerProcess> server = start_webhook_server();
  return *server;
}

inline const ServerProcess& django_server() {
  static const std::unique_ptr<ServerProcess> server = start_django_server();
  return *server;
}

}  // namespace http_task_test
