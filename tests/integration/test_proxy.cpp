// SPDX-License-Identifier: MIT
// Calls through real proxies on 127.0.0.1 (ClientOptions::proxy): tinyproxy for HTTP with
// Basic authentication, dante (danted) for SOCKS5 without authentication, and the project's
// own tests/servers/socks5_server.py for SOCKS5 with username/password (RFC 1929), which
// dante would check against system users. Each proxy runs on a free port and is stopped by
// pid; its log shows it carried the request.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_servers.hpp"
#include "support/tls_certs.hpp"
#include "support/webhook_urls.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace http_task;

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A proxy daemon in the foreground, stopped by pid in the destructor.
class Proxy {
 public:
  Proxy(std::vector<std::string> argv, int port, std::string log) : port_(port), log_(log) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0)
      throw std::runtime_error("cannot start " + argv[0]);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!port_open(port_)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(argv[0] + " exited at start; log:\n" + read_file(log_));
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error(argv[0] + " did not listen; log:\n" + read_file(log_));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  ~Proxy() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string log() const { return read_file(log_); }
  std::string url(const std::string& scheme) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }

 private:
  pid_t pid_ = -1;
  int port_;
  std::string log_;
};

struct Tinyproxy {
  http_task_test::TempDir dir;
  int port = free_port();
  std::unique_ptr<Proxy> proxy;
  // connect_port: the one port CONNECT (https:// through the proxy) may reach.
  explicit Tinyproxy(bool with_auth, int connect_port = 0) {
    std::ofstream conf(dir.file("tinyproxy.conf"));
    conf << "Port " << port << "\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\n"
         << "LogFile \"" << dir.file("tinyproxy.log") << "\"\nLogLevel Connect\n"
         << "Allow 127.0.0.1\nDisableViaHeader No\nViaProxyName \"edge-test-proxy\"\n"
         << "ConnectPort " << (connect_port ? connect_port : 443) << "\n";
    if (with_auth) conf << "BasicAuth hookuser s3cret\n";
    conf.close();
    proxy = std::make_unique<Proxy>(
        std::vector<std::string>{"/usr/bin/tinyproxy", "-d", "-c", dir.file("tinyproxy.conf")},
        port, dir.file("tinyproxy.log"));
  }
};

struct Danted {
  http_task_test::TempDir dir;
  int port = free_port();
  std::unique_ptr<Proxy> proxy;
  Danted() {
    std::ofstream conf(dir.file("danted.conf"));
    conf << "logoutput: " << dir.file("danted.log") << "\n"
         << "internal: 127.0.0.1 port = " << port << "\nexternal: 127.0.0.1\n"
         << "socksmethod: none\nclientmethod: none\n"
         << "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect }\n"
         << "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect }\n";
    conf.close();
    proxy = std::make_unique<Proxy>(
        std::vector<std::string>{"/usr/sbin/danted", "-f", dir.file("danted.conf"), "-p",
                                 dir.file("danted.pid")},
        port, dir.file("danted.log"));
  }
};

// tests/servers/socks5_server.py requiring user "hookuser", password "s3cret". Its output
// has one "socks5_server: CONNECT <type> <host> <port> user=<name>" line per connection it
// relayed and one "socks5_server: REFUSED <reason>" line per client it turned away.
struct AuthSocks5 {
  std::unique_ptr<http_task_test::ServerProcess> server = http_task_test::start_python_server(
      "tests/servers/socks5_server.py", {"--user", "hookuser", "--password", "s3cret"});

  std::string url(const std::string& scheme) const {
    return scheme + "://127.0.0.1:" + std::to_string(server->port());
  }
  std::string log() const { return server->stderr_tail(1 << 20); }
  std::size_t count(const std::string& text) const {
    const std::string all = log();
    std::size_t n = 0;
    for (auto at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
    return n;
  }
  std::size_t relayed() const { return count("socks5_server: CONNECT "); }
};

// Whether this host can listen on ::1 (a container may run without IPv6).
bool ipv6_loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The webhook server's request count, asked directly (the asking request counts too).
int requests_seen(const http_task_test::ServerProcess& webhook) {
  Client direct;
  return URL(webhook.base_url() + "/stats", direct).get_async().get().find("requests")->as<int>();
}

// How a call through the authenticating proxy with these credentials ended: CURLE_OK
// when it went through, else its TransportError's code and message.
struct ProxyOutcome {
  CURLcode code = CURLE_OK;
  std::string message;
};

ProxyOutcome call_through(const AuthSocks5& socks, const std::string& scheme,
                          const std::string& user, const std::string& password,
                          const std::string& url) {
  ClientOptions options;
  options.proxy.url = socks.url(scheme);
  options.proxy.user = user;
  options.proxy.password = password;
  Client client(options);
  try {
    URL(url, client).get_async().get();
    return {};
  } catch (const TransportError& e) {
    return {e.curl_code(), e.what()};
  }
}

}  // namespace

TEST_CASE("an HTTP proxy with Basic authentication carries the call", "[proxy]") {
  Tinyproxy tiny(true);
  ClientOptions options;
  options.proxy.url = tiny.proxy->url("http");
  options.proxy.user = "hookuser";
  options.proxy.password = "s3cret";
  Client client(options);
  Json echo = URL(http_task_test::server_url("/echo"), client).get_async().get();
  // tinyproxy adds its Via header: the webhook saw the proxy's request.
  auto via = echo.find("headers")->find("via");
  REQUIRE(via);
  CHECK(via->as<std::string>().find("edge-test-proxy") != std::string::npos);
  // The proxy's credentials went to the proxy only.
  CHECK_FALSE(echo.find("headers")->find("proxy-authorization"));
}

TEST_CASE("an HTTP proxy refuses a call without its credentials", "[proxy]") {
  Tinyproxy tiny(true);
  ClientOptions options;
  options.proxy.url = tiny.proxy->url("http");
  Client client(options);
  try {
    URL(http_task_test::server_url("/echo"), client).get_async().get();
    FAIL("the proxy let an unauthenticated call through");
  } catch (const HttpError& e) {
    CHECK(e.status_code() == 407);
  }
}

TEST_CASE("no_proxy sends the call straight to the host", "[proxy]") {
  Tinyproxy tiny(false);
  ClientOptions options;
  options.proxy.url = tiny.proxy->url("http");
  options.proxy.no_proxy = "127.0.0.1";
  Client client(options);
  Json echo = URL(http_task_test::server_url("/echo"), client).get_async().get();
  CHECK_FALSE(echo.find("headers")->find("via"));
}

TEST_CASE("a SOCKS5 proxy carries the call", "[proxy]") {
  Danted dante;
  for (const char* scheme : {"socks5", "socks5h"}) {
    ClientOptions options;
    options.proxy.url = dante.proxy->url(scheme);
    Client client(options);
    CHECK(
        URL(http_task_test::server_url("/multiply?x=6&y=7"), client).get_async().get().as<int>() ==
        42);
  }
  // dante logs each connection it passed, with the webhook server's port.
  CHECK(dante.proxy->log().find("." + std::to_string(http_task_test::webhook_server().port())) !=
        std::string::npos);
}

TEST_CASE("with the address guard on, an explicit proxy is the address checked", "[proxy]") {
  Tinyproxy tiny(false);
  ClientOptions options;
  options.proxy.url = tiny.proxy->url("http");
  options.address_guard = AddressGuard::on();
  {
    Client client(options);
    auto blocked = URL(http_task_test::server_url("/echo"), client).get_async();
    CHECK_THROWS_AS(blocked.get(), BlockedAddressError);
  }
  options.address_guard = AddressGuard::on({"127.0.0.1/32"});
  Client client(options);
  Json echo = URL(http_task_test::server_url("/echo"), client).get_async().get();
  CHECK(echo.find("headers")->find("via"));
}

TEST_CASE("https:// goes through an HTTP proxy with CONNECT, still verified", "[proxy]") {
  http_task_test::TlsCerts certs;
  auto tls = http_task_test::start_python_server(
      "tests/servers/webhook_server.py",
      {"--tls-cert", certs.file("server.pem"), "--tls-key", certs.file("server.key")});
  Tinyproxy tiny(true, tls->port());
  ClientOptions options;
  options.proxy.url = tiny.proxy->url("http");
  options.proxy.user = "hookuser";
  options.proxy.password = "s3cret";
  options.tls.ca_file = certs.file("ca.pem");
  Client client(options);
  const std::string url = "https://127.0.0.1:" + std::to_string(tls->port()) + "/multiply?x=6&y=7";
  CHECK(URL(url, client).get_async().get().as<int>() == 42);
  // tinyproxy logs the tunnel it opened.
  CHECK(tiny.proxy->log().find("CONNECT 127.0.0.1:" + std::to_string(tls->port())) !=
        std::string::npos);
}

TEST_CASE("a SOCKS5 proxy with username/password authentication carries the call", "[proxy]") {
  AuthSocks5 socks;
  const std::string port = std::to_string(http_task_test::webhook_server().port());
  ClientOptions options;
  options.proxy.user = "hookuser";
  options.proxy.password = "s3cret";
  // socks5: resolved here, the proxy gets an IPv4 address.
  options.proxy.url = socks.url("socks5");
  {
    Client client(options);
    CHECK(
        URL("http://127.0.0.1:" + port + "/multiply?x=6&y=7", client).get_async().get().as<int>() ==
        42);
  }
  CHECK(socks.count("CONNECT ipv4 127.0.0.1 " + port + " user=hookuser\n") == 1);
  // socks5h: the proxy gets the name and resolves it.
  options.proxy.url = socks.url("socks5h");
  {
    Client client(options);
    CHECK(
        URL("http://localhost:" + port + "/multiply?x=6&y=7", client).get_async().get().as<int>() ==
        42);
  }
  CHECK(socks.count("CONNECT domain localhost " + port + " user=hookuser\n") == 1);
  CHECK(socks.relayed() == 2);
  CHECK(socks.count("REFUSED") == 0);
}

TEST_CASE("a SOCKS5 proxy with authentication carries a call to an IPv6 address", "[proxy]") {
  if (!ipv6_loopback()) {
    WARN("no IPv6 loopback here: the IPv6 address type is not tried");
    return;
  }
  AuthSocks5 socks;
  auto webhook = http_task_test::start_python_server("tests/servers/webhook_server.py",
                                                     {"--host", "::1", "--port", "0"});
  ClientOptions options;
  options.proxy.url = socks.url("socks5");
  options.proxy.user = "hookuser";
  options.proxy.password = "s3cret";
  Client client(options);
  const std::string port = std::to_string(webhook->port());
  CHECK(URL("http://[::1]:" + port + "/multiply?x=6&y=7", client).get_async().get().as<int>() ==
        42);
  CHECK(socks.count("CONNECT ipv6 ::1 " + port + " user=hookuser\n") == 1);
}

// libcurl 7.88 ends a SOCKS handshake the proxy refused with CURLE_PROXY (since 7.73; before,
// CURLE_COULDNT_CONNECT); its error buffer, in the message, says what the proxy answered.
TEST_CASE("a SOCKS5 proxy refuses a wrong password, and the webhook sees nothing", "[proxy]") {
  AuthSocks5 socks;
  auto webhook = http_task_test::start_webhook_server();  // private: its /stats are ours
  const std::string url = webhook->base_url() + "/multiply?x=6&y=7";
  for (const char* scheme : {"socks5", "socks5h"}) {
    INFO(scheme);
    const ProxyOutcome refused = call_through(socks, scheme, "hookuser", "wrong", url);
    INFO(refused.message);
    CHECK(refused.code == CURLE_PROXY);
    CHECK_THAT(refused.message, Catch::Contains("rejected by the SOCKS5"));
  }
  CHECK(socks.count("REFUSED bad credentials user=hookuser\n") == 2);
  CHECK(socks.relayed() == 0);
  CHECK(requests_seen(*webhook) == 1);  // the /stats request only
}

TEST_CASE("a SOCKS5 proxy requiring authentication refuses a call without credentials", "[proxy]") {
  AuthSocks5 socks;
  auto webhook = http_task_test::start_webhook_server();  // private: its /stats are ours
  const std::string url = webhook->base_url() + "/multiply?x=6&y=7";
  for (const char* scheme : {"socks5", "socks5h"}) {
    INFO(scheme);
    const ProxyOutcome refused = call_through(socks, scheme, "", "", url);
    INFO(refused.message);
    CHECK(refused.code == CURLE_PROXY);
    CHECK_THAT(refused.message, Catch::Contains("No authentication method was acceptable"));
  }
  // libcurl offered no method 0x02 without a user name.
  CHECK(socks.count("REFUSED no acceptable method") == 2);
  CHECK(socks.relayed() == 0);
  CHECK(requests_seen(*webhook) == 1);  // the /stats request only
}
