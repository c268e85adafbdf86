// SPDX-License-Identifier: MIT
// Calls to a webhook listening on a Unix domain socket (ClientOptions::unix_socket,
// CallOptions::unix_socket), against the test server started with --unix.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/temp_dir.hpp"
#include "support/test_servers.hpp"

#include <string>

using namespace http_task;

namespace {
struct UnixServer {
  http_task_test::TempDir dir;
  std::string socket = dir.file("hook.sock");
  std::unique_ptr<http_task_test::ServerProcess> server =
      http_task_test::start_python_server("tests/servers/webhook_server.py", {"--unix", socket});
};
}  // namespace

TEST_CASE("a Client's Unix socket carries every call; the URL names host and path",
          "[unix_socket]") {
  UnixServer unix;
  ClientOptions options;
  options.unix_socket = unix.socket;
  Client client(options);
  // Nothing listens on port 9 of 127.0.0.1: only the socket can answer.
  Json echo = URL("http://localhost:9/echo?x=1", client).get_async().get();
  CHECK(echo.get<std::string>("path") == "/echo");
  CHECK(echo.find("headers")->get<std::string>("host") == "localhost:9");
  CHECK(URL("http://localhost/multiply", client).post_async({{"x", 6}, {"y", 7}}).get().as<int>() ==
        42);
}

TEST_CASE("CallOptions::unix_socket sets or clears the socket per call", "[unix_socket]") {
  UnixServer unix;
  ClientOptions options;
  options.unix_socket = unix.socket;
  Client client(options);
  // "" clears the Client's socket: this call goes over TCP to the server's port.
  const std::string tcp_url = unix.server->base_url() + "/multiply?x=2&y=3";
  CHECK(URL(tcp_url, client).get_async({}, CallOptions().with_unix_socket("")).get().as<int>() ==
        6);

  Client plain;
  CHECK(URL("http://localhost/multiply?x=3&y=3", plain)
            .get_async({}, CallOptions().with_unix_socket(unix.socket))
            .get()
            .as<int>() == 9);
}

TEST_CASE("URL::set_options carries the Unix socket to every call through the URL",
          "[unix_socket]") {
  UnixServer unix;
  Client plain;
  URL multiply("http://localhost:9/multiply?x=4&y=4", plain);
  multiply.set_options(CallOptions().with_unix_socket(unix.socket));
  CHECK(multiply.get_async().get().as<int>() == 16);
  // A call's own "" still clears it: nothing listens on port 9 of localhost.
  CHECK_THROWS_AS(multiply.get_async({}, CallOptions().with_unix_socket("")).get(), TransportError);
}

TEST_CASE("a Unix socket nobody listens on ends the call with a TransportError", "[unix_socket]") {
  http_task_test::TempDir dir;
  Client client;
  auto result = URL("http://localhost/echo", client)
                    .get_async({}, CallOptions().with_unix_socket(dir.file("nobody.sock")));
  CHECK_THROWS_AS(result.get(), TransportError);
}

TEST_CASE("a Unix socket path too long for sockaddr_un is refused before sending",
          "[unix_socket]") {
  Client client;
  auto result = URL("http://localhost/echo", client)
                    .get_async({}, CallOptions().with_unix_socket("/tmp/" + std::string(200, 'x')));
  CHECK_THROWS_AS(result.get(), RequestError);
}

TEST_CASE("the address guard lets a Unix socket through, and still checks TCP calls",
          "[unix_socket]") {
  UnixServer unix;
  ClientOptions options;
  options.address_guard = AddressGuard::on();
  options.unix_socket = unix.socket;
  Client client(options);
  CHECK(URL("http://localhost/multiply?x=4&y=5", client).get_async().get().as<int>() == 20);
  // The same Client over TCP to 127.0.0.1: loopback is blocked.
  auto tcp = URL(unix.server->base_url() + "/multiply?x=1&y=1", client)
                 .get_async({}, CallOptions().with_unix_socket(""));
  CHECK_THROWS_AS(tcp.get(), BlockedAddressError);
}
