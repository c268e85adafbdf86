// SPDX-License-Identifier: MIT
// Calls through real proxies on 127.0.0.1 (ClientOptions::proxy): tinyproxy for HTTP with
// Basic authentication, dante (danted) for SOCKS5. Each proxy runs from its own config in a
// temp dir on a free port and is stopped by pid; its log shows it carried the request.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

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
#include <fstream>
#include <iterator>
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
