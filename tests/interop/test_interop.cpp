// SPDX-License-Identifier: MIT
// Interop: the shared cases (cases.hpp) against real webhook servers written with each
// framework people use (servers.hpp). One binary; ctest runs it once per framework:
//
//   http_task_interop_tests --framework rails    (no --framework: every framework)
//
// A framework that is not installed is skipped (exit code 77, which ctest reports as
// skipped), except under CI (CI set and not "false"), where it is an error.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "cases.hpp"
#include "servers.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace http_task_interop;

std::vector<const Framework*>& selected_frameworks() {
  static std::vector<const Framework*> selected;
  return selected;
}

// One server per framework for the whole run, started on first use.
const ServerProcess& server_for(const Framework& framework) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<ServerProcess>> servers;
  std::lock_guard<std::mutex> lock(mutex);
  auto& server = servers[framework.name];
  if (!server) {
    const auto start = std::chrono::steady_clock::now();
    server = framework.start();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("interop: %s server up on port %d in %.1f s\n", framework.name.c_str(),
                server->port(), took.count());
    std::fflush(stdout);
  }
  return *server;
}

// Large answers must not flood the report when they differ.
std::string preview(const std::string& text, std::size_t max_bytes = 300) {
  if (text.size() <= max_bytes) return text;
  return text.substr(0, max_bytes) + "... (" + std::to_string(text.size()) + " bytes)";
}

// The cases' answers reach 8 MiB, over the default cap of 4 MiB.
http_task::Client& interop_client() {
  static http_task::Client client([] {
    http_task::ClientOptions options;
    options.max_response_bytes = 32 * 1024 * 1024;
    return options;
  }());
  return client;
}

void check_case(const ServerProcess& server, const Case& c) {
  const http_task::URL url(server.base_url() + c.path, interop_client());
  auto result = url.dispatch(c.method, c.args);
  try {
    const http_task::Json retval = result.get();
    if (c.failure) {
      FAIL_CHECK("expected a failure with reason \"" << c.expected << "\", got retval "
                                                     << preview(retval.dump()));
      return;
    }
    const bool equal = retval == http_task::Json::parse(c.expected);
    INFO("expected retval " << preview(c.expected));
    INFO("received retval " << preview(retval.dump()));
    CHECK(equal);
  } catch (const http_task::RemoteExecuteError& e) {
    INFO("expected " << (c.failure ? "reason " : "retval ") << preview(c.expected));
    CHECK(c.failure);
    CHECK(e.reason() == c.expected);
  } catch (const std::exception& e) {
    INFO("server output ends with:\n" << server.stderr_tail(2000));
    FAIL_CHECK("call failed: " << e.what());
  }
}

bool required_by_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string_view(ci) != "false";
}

}  // namespace

TEST_CASE("interop: every server kind passes the shared cases", "[interop]") {
  for (const Framework* framework : selected_frameworks()) {
    const ServerProcess& server = server_for(*framework);
    for (const Case& c : cases()) {
      DYNAMIC_SECTION(framework->name << ": " << c.name) { check_case(server, c); }
    }
  }
}

TEST_CASE("interop: every server kind answers many calls at once", "[interop]") {
  for (const Framework* framework : selected_frameworks()) {
    const ServerProcess& server = server_for(*framework);
    DYNAMIC_SECTION(framework->name << ": 32 concurrent calls") {
      const http_task::URL multiply(server.base_url() + "/multiply", interop_client());
      std::vector<http_task::AsyncResult<long long>> results;
      for (int i = 0; i < 32; ++i) {
        results.push_back(i % 2 ? multiply.post_async<long long>({{"x", i}, {"y", 1000}})
                                : multiply.get_async<long long>({{"x", i}, {"y", 1000}}));
      }
      for (int i = 0; i < 32; ++i) CHECK(results[i].get() == i * 1000LL);
    }
  }
}

// JSON receivers: Express's express.json() route takes URL::post_json's body.
TEST_CASE("interop: express.json() takes post_json", "[interop]") {
  for (const Framework* framework : selected_frameworks()) {
    if (framework->name != "express") continue;
    const ServerProcess& server = server_for(*framework);
    const http_task::URL multiply(server.base_url() + "/multiply-json", interop_client());
    CHECK(multiply.post_json<long long>(http_task::Json::object({{"x", 6}, {"y", 7}})).get() == 42);
    CHECK_THROWS_WITH(multiply.post_json(http_task::Json::object({{"x", "6"}, {"y", 7}})).get(),
                      "argument x is not an integer");
    // A form body is not JSON: express.json() leaves it unparsed, the route fails it.
    CHECK_THROWS_AS(multiply.post_async({{"x", 6}, {"y", 7}}).get(), http_task::RemoteExecuteError);
  }
}

int main(int argc, char* argv[]) {
  Catch::Session session;
  std::string only;
  using Catch::clara::Opt;
  session.cli(session.cli() |
              Opt(only, "name")["--framework"]("run against this server kind only (django, "
                                               "flask, rails, express, cpp)"));
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;

  bool known = only.empty();
  for (const Framework& framework : frameworks()) {
    if (!only.empty() && framework.name != only) continue;
    known = true;
    if (installed(framework)) {
      selected_frameworks().push_back(&framework);
    } else if (required_by_ci()) {
      std::fprintf(stderr, "interop: %s is not installed (%s); CI requires every framework\n",
                   framework.name.c_str(), framework.install_hint.c_str());
      return 1;
    } else {
      std::printf("interop: %s is not installed (%s): skipped\n", framework.name.c_str(),
                  framework.install_hint.c_str());
    }
  }
  if (!known) {
    std::fprintf(stderr, "interop: unknown framework \"%s\"\n", only.c_str());
    return 2;
  }
  if (selected_frameworks().empty()) return 77;
  return session.run();
}
