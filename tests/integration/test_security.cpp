// SPDX-License-Identifier: MIT
// TLS, the SSRF guard, redirects that must not leak credentials, auth headers.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/checks.hpp"
#include "support/tls_certs.hpp"
#include "support/webhook_urls.hpp"

#include <cstdlib>
#include <string>

using namespace http_task;
using http_task_test::server_url;

namespace {
struct TlsServer {
  http_task_test::TlsCerts certs;
  std::unique_ptr<http_task_test::ServerProcess> server;
  explicit TlsServer(bool require_client_cert) {
    std::vector<std::string> args = {"--tls-cert", certs.file("server.pem"), "--tls-key",
                                     certs.file("server.key")};
    if (require_client_cert) {
      args.push_back("--tls-client-ca");
      args.push_back(certs.file("ca.pem"));
    }
    server = http_task_test::start_python_server("tests/servers/webhook_server.py", args);
  }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server->port()) + path;
  }
};
}  // namespace

TEST_CASE("TLS is verified by default", "[tls]") {
  TlsServer tls(false);
  Client strict;
  try {
    URL(tls.url("/multiply?x=2&y=3"), strict).get_async().get();
    FAIL("an unknown CA was trusted");
  } catch (const TransportError& e) {
    CHECK(e.curl_code() == CURLE_PEER_FAILED_VERIFICATION);
  }
  ClientOptions options;
  options.tls.ca_file = tls.certs.file("ca.pem");
  Client trusting(options);
  CHECK(URL(tls.url("/multiply?x=2&y=3"), trusting).get_async<int>().get() == 6);
}

TEST_CASE("verify_peer = false accepts an unknown CA; ca_path trusts a hashed directory", "[tls]") {
  TlsServer tls(false);
  {
    ClientOptions options;
    options.tls.verify_peer = false;  // no CA given: only skipping verification can pass
    Client client(options);
    CHECK(URL(tls.url("/multiply?x=2&y=3"), client).get_async<int>().get() == 6);
  }
  // A directory of CA certificates named by subject hash, as `openssl rehash` makes it.
  const std::string dir = tls.certs.file("ca_dir");
  REQUIRE(std::system(("mkdir -p '" + dir + "' && cp '" + tls.certs.file("ca.pem") + "' '" + dir +
                       "/' && openssl rehash '" + dir + "' >/dev/null 2>&1")
                          .c_str()) == 0);
  ClientOptions options;
  options.tls.ca_path = dir;
  Client client(options);
  CHECK(URL(tls.url("/multiply?x=2&y=4"), client).get_async<int>().get() == 8);
}

TEST_CASE("an encrypted client key is opened with client_key_password", "[tls]") {
  TlsServer tls(true);
  const std::string key = tls.certs.file("client-encrypted.key");
  REQUIRE(std::system(("openssl pkey -in '" + tls.certs.file("client.key") + "' -out '" + key +
                       "' -aes256 -passout pass:s3cret >/dev/null 2>&1")
                          .c_str()) == 0);
  ClientOptions options;
  options.tls.ca_file = tls.certs.file("ca.pem");
  options.tls.client_cert = tls.certs.file("client.pem");
  options.tls.client_key = key;
  // Not tried without the password: OpenSSL would then ask for it on the terminal.
  options.tls.client_key_password = "s3cret";
  Client client(options);
  CHECK(URL(tls.url("/multiply?x=3&y=3"), client).get_async<int>().get() == 9);
}

TEST_CASE("mutual TLS sends the client certificate", "[tls]") {
  TlsServer tls(true);
  ClientOptions options;
  options.tls.ca_file = tls.certs.file("ca.pem");
  Client anonymous(options);
  CHECK_THROWS_AS(URL(tls.url("/multiply?x=2&y=3"), anonymous).get_async().get(), TransportError);
  options.tls.client_cert = tls.certs.file("client.pem");
  options.tls.client_key = tls.certs.file("client.key");
  Client known(options);
  CHECK(URL(tls.url("/multiply?x=2&y=3"), known).get_async<int>().get() == 6);
}

TEST_CASE("an https-only Client refuses plain http, also after a redirect", "[tls]") {
  TlsServer tls(false);
  ClientOptions options;
  options.tls.https_only = true;
  options.tls.ca_file = tls.certs.file("ca.pem");
  Client client(options);
  CHECK_THROWS_AS(URL(server_url("/multiply"), client).get_async().get(), RequestError);
  std::string to_http = tls.url("/redirect?to=") + server_url("/multiply%3Fx%3D1%26y%3D1");
  CHECK_THROWS_AS(URL(to_http, client).get_async().get(), TransportError);
}

TEST_CASE("the address guard refuses loopback in every spelling", "[ssrf]") {
  ClientOptions options;
  options.address_guard = AddressGuard::on();
  options.connect_timeout = std::chrono::seconds(5);
  Client client(options);
  std::string port = std::to_string(http_task_test::webhook_server().port());
  for (std::string host : {"127.0.0.1", "localhost", "0177.0.0.1", "0x7f.0.0.1", "2130706433",
                           "127.1", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"}) {
    INFO(host);
    try {
      URL("http://" + host + ":" + port + "/multiply?x=1&y=1", client).get_async().get();
      FAIL("the guard let " << host << " through");
    } catch (const BlockedAddressError& e) {
      CHECK_THAT(e.what(), Catch::Contains("address guard"));
      CHECK_FALSE(e.address().empty());
    } catch (const TransportError& e) {
      // Only a name that does not resolve at all may fail otherwise.
      CHECK(e.curl_code() == CURLE_COULDNT_RESOLVE_HOST);
    }
  }
  auto blocked = http_task_test::require_throws_as<BlockedAddressError>(
      URL("http://127.0.0.1:" + port + "/multiply", client).get_async());
  CHECK(blocked.address() == "127.0.0.1");
  CHECK_THAT(blocked.what(), Catch::Contains("loopback"));
}

TEST_CASE("the guard checks every redirect hop, and the allow-list lets through", "[ssrf]") {
  ClientOptions options;
  options.address_guard = AddressGuard::on({"127.0.0.1/32"});
  Client client(options);
  CHECK(URL(server_url("/multiply"), client).get_async<int>({{"x", 2}, {"y", 2}}).get() == 4);
  // A redirect from an allowed address to a blocked one is stopped at connect time.
  std::string port = std::to_string(http_task_test::webhook_server().port());
  std::string hop = server_url("/redirect?to=http://127.0.0.2:" + port + "/multiply");
  CHECK_THROWS_AS(URL(hop, client).get_async().get(), BlockedAddressError);
}

TEST_CASE("credentials never follow a redirect to another host", "[redirect]") {
  auto other = http_task_test::start_webhook_server();
  Client client;
  std::string target = other->base_url() + "/echo";
  std::string hop = server_url("/redirect?to=") + target;
  Json r = URL(hop, client)
               .get_async({}, CallOptions()
                                  .basic_auth("user", "secret")
                                  .header("Cookie", "session=abc")
                                  .header("X-Other", "kept"))
               .get();
  auto headers = *r.find("headers");
  CHECK_FALSE(headers.find("authorization"));
  CHECK_FALSE(headers.find("cookie"));
  CHECK(headers.find("x-other")->as<std::string>() == "kept");

  // On the same host they are sent, as the user asked.
  Json same =
      URL(server_url("/echo"), client).get_async({}, CallOptions().bearer_token("t0ken")).get();
  CHECK(same.find("headers")->find("authorization")->as<std::string>() == "Bearer t0ken");
}

TEST_CASE("basic auth is encoded and CR/LF in credentials is refused", "[auth]") {
  Client client;
  Json r = URL(server_url("/echo"), client)
               .get_async({}, CallOptions().basic_auth("Aladdin", "open sesame"))
               .get();
  CHECK(r.find("headers")->find("authorization")->as<std::string>() ==
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK_THROWS_AS(
      URL(server_url("/echo"), client).get_async({}, CallOptions().bearer_token("a\r\nX: y")).get(),
      RequestError);
}

TEST_CASE("the pending-call limit refuses new calls with a clear error", "[limits]") {
  ClientOptions options;
  options.max_pending_calls = 3;
  Client client(options);
  URL slow(server_url("/slow?ms=2000"), client);
  std::vector<AsyncResult<Json>> held;
  for (int i = 0; i < 3; ++i) held.push_back(slow.get_async());
  try {
    slow.get_async().get();
    FAIL("no exception");
  } catch (const RequestError& e) {
    CHECK_THAT(e.what(), Catch::Contains("too many calls pending"));
  }
  for (auto& r : held) r.cancel();
}
