// SPDX-License-Identifier: MIT
// How to start each webhook server kind. Every one takes the same command line
// (--host, --port, and --port-file/--parent-pid, which ServerProcess appends).
#pragma once

#include "support/server_process.hpp"
#include "support/test_servers.hpp"

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#ifndef HTTP_TASK_INTEROP_CPP_SERVER
// The built examples/webhooks/cpp/multiply_server; empty when cpp-httplib was not found.
#define HTTP_TASK_INTEROP_CPP_SERVER ""
#endif

namespace http_task_interop {

using http_task_test::ServerProcess;

struct Framework {
  std::string name;
  // A shell command that succeeds when the framework is installed: a missing one is
  // reported as such instead of as a server that failed to start.
  std::string probe;
  std::string install_hint;
  std::function<std::unique_ptr<ServerProcess>()> start;
};

inline std::vector<std::string> listen_args() { return {"--host", "127.0.0.1", "--port", "0"}; }

inline std::unique_ptr<ServerProcess> start_script(std::vector<std::string> argv,
                                                   std::chrono::seconds startup_timeout) {
  for (auto& arg : listen_args()) argv.push_back(arg);
  return std::make_unique<ServerProcess>(std::move(argv), startup_timeout);
}

inline const std::vector<Framework>& frameworks() {
  static const std::vector<Framework> all = {
      {"django", http_task_test::test_python() + " -c 'import django'",
       "apt-get install python3-django",
       [] {
         return start_script({http_task_test::test_python(),
                              http_task_test::source_dir() + "/examples/django_webhook/serve.py"},
                             std::chrono::seconds(60));
       }},
      {"flask", http_task_test::test_python() + " -c 'import flask'",
       "apt-get install python3-flask",
       [] {
         return start_script({http_task_test::test_python(),
                              http_task_test::source_dir() + "/examples/webhooks/flask/app.py"},
                             std::chrono::seconds(60));
       }},
      // Rails boots in about 5 s on two cores: most of it is requiring the framework.
      {"rails", "ruby -e 'require \"action_controller/railtie\"; require \"puma\"'",
       "apt-get install ruby-rails puma",
       [] {
         return start_script(
             {"ruby", http_task_test::source_dir() + "/examples/webhooks/rails/serve.rb"},
             std::chrono::seconds(120));
       }},
      // The first start runs `npm ci` (the npm registry): allow for a slow download.
      {"express", "node --version && npm --version", "apt-get install nodejs npm",
       [] {
         return start_script(
             {"bash", http_task_test::source_dir() + "/examples/webhooks/express/serve.sh"},
             std::chrono::seconds(300));
       }},
      {"cpp", std::string("test -x '") + HTTP_TASK_INTEROP_CPP_SERVER + "'",
       "apt-get install libcpp-httplib-dev, then reconfigure",
       [] { return start_script({HTTP_TASK_INTEROP_CPP_SERVER}, std::chrono::seconds(30)); }},
  };
  return all;
}

inline bool installed(const Framework& framework) {
  const std::string command = "(" + framework.probe + ") >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

}  // namespace http_task_interop
