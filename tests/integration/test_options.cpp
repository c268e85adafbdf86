// SPDX-License-Identifier: MIT
// Options and promises of the API that no other test exercised: each case sets one and
// checks the behaviour it promises, in a way that fails if the option were ignored.
#include <catch2/catch.hpp>

#include <http_task/http_task.hpp>

#include "support/checks.hpp"
#include "support/webhook_urls.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace http_task;
using namespace std::chrono_literals;
using http_task_test::answer_url;
using http_task_test::require_throws_as;
using http_task_test::server_url;

namespace {

std::string flaky(const std::string& query) {
  static std::atomic<int> n{0};
  return server_url("/flaky?key=options" + std::to_string(++n) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
                    "&" + query);
}

RetryPolicy quick(int attempts) {
  RetryPolicy p = RetryPolicy::attempts(attempts);
  p.initial_backoff = 10ms;
  p.max_backoff = 50ms;
  return p;
}

// A port on 127.0.0.1 where connecting never completes: a listening socket that never
// accepts, its accept queue filled, so the kernel drops further SYNs.
class BlackHole {
 public:
  BlackHole() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 0) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    for (int i = 0; i < 4; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      REQUIRE(fd >= 0);
      (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      fillers_.push_back(fd);
    }
  }
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  ~BlackHole() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

int thread_count() {
  int n = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++n;
    ::closedir(dir);
  }
  return n;
}

}  // namespace

TEST_CASE("connect_timeout ends a connect that never completes", "[options]") {
  BlackHole hole;
  ClientOptions options;
  options.connect_timeout = 300ms;
  options.timeout = std::chrono::hours(1);  // only connect_timeout can end the call in time
  Client client(options);
  auto e = require_throws_as<TimeoutError>(URL(hole.url(), client).get_async(), 60s);
  CHECK(e.curl_code() == CURLE_OPERATION_TIMEDOUT);
}

// Each part on a fresh Client: libcurl itself resends a request once when a connection it
// reused closes without an answer, which would hide whether http_task retried.
TEST_CASE("retry_transport_errors = false does not retry a dropped connection", "[options]") {
  RetryPolicy p = quick(3);
  {
    Client client;  // the same fault is retried by default: the route is retryable
    CHECK(URL(flaky("fail=1&mode=close"), client)
              .get_async({}, CallOptions().with_retry(p))
              .get()
              .find("attempt")
              ->as<int>() == 2);
  }
  p.retry_transport_errors = false;
  Client client;
  auto r = URL(flaky("fail=1&mode=close"), client).get_async({}, CallOptions().with_retry(p));
  auto e = require_throws_as<TransportError>(r);
  CHECK(e.curl_code() == CURLE_GOT_NOTHING);
  CHECK(r.attempts() == 1);
}

TEST_CASE("custom retry_statuses replace the default ones", "[options]") {
  Client client;
  RetryPolicy p = quick(3);
  p.retry_statuses = {500};
  CHECK(URL(flaky("fail=1&status=500"), client)
            .get_async({}, CallOptions().with_retry(p))
            .get()
            .find("attempt")
            ->as<int>() == 2);
  auto r = URL(flaky("fail=1&status=503"), client).get_async({}, CallOptions().with_retry(p));
  CHECK(require_throws_as<HttpError>(r).status_code() == 503);
  CHECK(r.attempts() == 1);
}

// The jittered delay is at most max_backoff: with an hour's initial backoff and a 10 ms
// cap, two retries end well inside the wait; ignoring the cap, they almost surely do not.
TEST_CASE("max_backoff caps the delay between attempts", "[options]") {
  Client client;
  RetryPolicy p = RetryPolicy::attempts(3);
  p.initial_backoff = std::chrono::hours(1);
  p.max_backoff = 10ms;
  auto r = URL(flaky("fail=2&status=503"), client).get_async({}, CallOptions().with_retry(p));
  REQUIRE(r.wait_for(60s) == std::future_status::ready);
  CHECK(r.get().find("attempt")->as<int>() == 3);
}

TEST_CASE("ClientOptions::max_redirects limits the hops of every call", "[options]") {
  ClientOptions options;
  options.max_redirects = 1;
  Client client(options);
  CHECK(URL(server_url("/redirect-chain?n=1"), client).get_async<int>().get() == 1);
  CHECK(
      require_throws_as<TransportError>(URL(server_url("/redirect-chain?n=2"), client).get_async())
          .curl_code() == CURLE_TOO_MANY_REDIRECTS);
}

TEST_CASE("max_json_depth and max_error_body hold end to end", "[options]") {
  ClientOptions options;
  options.max_json_depth = 3;
  options.max_error_body = 10;
  Client client(options);
  CHECK(URL(answer_url(R"({"status":"success","retval":[[1]]})"), client).get_async().get() ==
        Json::parse("[[1]]"));
  auto deep = require_throws_as<InvalidResponseError>(
      URL(answer_url(R"({"status":"success","retval":[[[1]]]})"), client).get_async());
  CHECK_THAT(deep.what(), Catch::Contains("nesting deeper than 3"));
  auto http =
      require_throws_as<HttpError>(URL(answer_url("0123456789abcdef", 500), client).get_async());
  CHECK(http.status_code() == 500);
  CHECK(http.body() == "0123456789");
}

namespace {
// Adds "x-sig: <name> <method> <url> <body>" to each attempt.
struct NamedSigner : RequestSigner {
  explicit NamedSigner(std::string n) : name(std::move(n)) {}
  Headers sign(const SigningInput& in) const override {
    return {{"X-Sig", name + " " + std::string(in.method) + " " + std::string(in.url) + " [" +
                          std::string(in.body) + "]"}};
  }
  std::string name;
};
}  // namespace

TEST_CASE("a custom signer signs GET and POST; a call's own signer wins", "[options]") {
  ClientOptions options;
  options.signer = std::make_shared<NamedSigner>("client");
  Client client(options);
  const std::string url = server_url("/echo");
  Json get = URL(url, client).get_async({{"x", 1}}).get();
  CHECK(get.find("headers")->find("x-sig")->as<std::string>() == "client GET " + url + "?x=1 []");
  Json post = URL(url, client).post_async({{"x", 2}}).get();
  CHECK(post.find("headers")->find("x-sig")->as<std::string>() == "client POST " + url + " [x=2]");
  CallOptions own;
  own.signer = std::make_shared<NamedSigner>("call");
  Json mine = URL(url, client).get_async({}, own).get();
  CHECK(mine.find("headers")->find("x-sig")->as<std::string>() == "call GET " + url + " []");
}

TEST_CASE("when_any over an iterator range", "[options]") {
  Client client;
  std::vector<AsyncResult<std::string>> calls;
  calls.push_back(
      URL(server_url("/gate?key=never&n=2&timeout_ms=60000"), client).get_async<std::string>());
  calls.push_back(URL(server_url("/slow?ms=0"), client).get_async<std::string>());
  auto first = when_any(calls.begin(), calls.end()).get();
  CHECK(first.index == 1);
  CHECK(first.results[1].get() == "slow");
  CHECK(first.results[0].cancel());
}

// Yours, the loop thread and the completion thread: no thread per call, none per
// continuation, however many are in flight.
TEST_CASE("a default Client uses at most three threads for any number of calls", "[options]") {
  http_task_test::webhook_server();  // started before counting (a process, not a thread)
  // A thread started and joined first: ThreadSanitizer starts a helper thread of its own
  // with a process's first thread, which must not count as the Client's.
  std::thread([] {}).join();
  const int before = thread_count();
  {
    Client client;
    URL gate(server_url("/gate?key=threads&n=200"), client);
    std::vector<AsyncResult<std::string>> calls;
    for (int i = 0; i < 200; ++i)
      calls.push_back(gate.get_async<std::string>().then([](std::string s) { return s; }));
    for (auto& c : calls) REQUIRE(c.get() == "open");
    CHECK(thread_count() - before <= 2);
  }
}

TEST_CASE("a second thread trying to drive a driven Client gets logic_error", "[options]") {
  ClientOptions options;
  options.own_thread = false;
  Client client(options);
  std::atomic<bool> refused{false};
  // The continuation runs on the thread inside run(); from there another thread tries.
  auto r =
      URL(server_url("/multiply"), client).get_async<int>({{"x", 2}, {"y", 2}}).then([&](int n) {
        std::thread([&] {
          try {
            client.run_once(0ms);
          } catch (const std::logic_error&) {
            refused = true;
          }
        }).join();
        client.stop();
        return n;
      });
  client.run();
  REQUIRE(r.ready());
  CHECK(r.get() == 4);
  CHECK(refused);
}
