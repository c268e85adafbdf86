// SPDX-License-Identifier: MIT
// One HTTP client model, one workload, one line of JSON on stdout. bench/run.sh runs it
// once per (client, method, concurrency) against its own servers on 127.0.0.1.
//
//   bench_clients --client NAME --url URL [--method GET|POST] [--concurrency C]
//                 (--calls N | --seconds S) [--receive-buffer BYTES] [--heap-at S]
//                 [--ca-file PEM]
//
// --ca-file PEM: https; every client trusts this CA (and verifies the server against it).
//
// --heap-at S: S seconds after the start, notes the heap in use and the RSS (with every
// call of a run against a server that answers later still in flight). Under glibc's
// malloc tracer (MALLOC_TRACE=FILE, LD_PRELOAD=libc_malloc_debug.so.0) it also marks the
// moment in the trace, so bench/heap_sites.py can count what was allocated then, and by
// whom.
//
// Clients, all doing the same work (the same request, the same libcurl options, keep-alive):
//   http_task     the public API as a user writes it: URL::get_async/post_async, a window
//                 of C AsyncResult<Json>, get() on the oldest, then start the next call
//   http_task_then  C chains of calls, each continuation (then) starting the next one,
//                 on the Client's completion thread
//   http_task_inline  the same with then(inline_executor, ...): continuations run on the
//                 loop thread, which starts the next call from its own turn
//   http_task_pool  the same with continuations on a pool of 2 threads (the user's own)
//   http_task_poll, http_task_epoll
//                 http_task with ClientOptions::loop_backend forced (http_task: automatic)
//   raw_epoll     hand-written libcurl multi_socket_action + epoll, easy handles reused:
//                 the limit http_task is measured against
//   raw_poll      hand-written curl_multi_poll + curl_multi_perform
//   threads       the model of cpr: C threads, each looping a blocking curl_easy_perform
//                 on its own handle, reused (so its connection is kept alive)
//   cpr_model     the same threads making a new easy handle for every call, as cpr's
//                 Get/Post/GetAsync do (a new Session each): a new connection per call
//   cpr_defaults  cpr_model with cpr's default libcurl options and its per-answer work
//                 (cookie engine, signals, headers captured and parsed): see cpr_call
//   sequential    one thread, one easy handle, curl_easy_perform after curl_easy_perform
// Every client checks each answer (HTTP 200 and a body); http_task also decodes it.
#include <http_task/http_task.hpp>

#include "support/thread_pool.hpp"  // tests/support: a user's thread pool

#include <curl/curl.h>
#include <malloc.h>
#include <mcheck.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string client;
  std::string url;  // without the query: the clients add x=6&y=7
  bool post = false;
  int concurrency = 1;
  long calls = 0;                // > 0: exactly this many calls
  double seconds = 0.0;          // otherwise: start calls for this long, then drain
  long receive_buffer = -1;      // http_task: ClientOptions::receive_buffer_size (-1: its default)
  double heap_at = 0.0;          // > 0: the heap snapshot's time (seconds after the start)
  std::string ca_file;           // https: the CA every client verifies the server against
  bool origin_policies = false;  // http_task: circuit breaker and per-origin statistics on
  // http_task: ClientOptions::loop_backend (http_task_poll, http_task_epoll force one).
  http_task::LoopBackend backend = http_task::LoopBackend::automatic;
};

// Hands out the right to start one more call: a fixed count, or until a deadline.
class Tickets {
 public:
  explicit Tickets(const Config& c) : limit_(c.calls) {
    if (c.calls <= 0)
      deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(c.seconds));
  }
  bool take() {
    if (limit_ > 0) return issued_.fetch_add(1, std::memory_order_relaxed) < limit_;
    return Clock::now() < deadline_;
  }

 private:
  long limit_;
  std::atomic<long> issued_{0};
  Clock::time_point deadline_{};
};

struct Tally {
  std::atomic<long> ok{0};
  std::atomic<long> failed{0};
  std::atomic<int> max_threads{0};
  std::string first_error;
};

long status_field(const char* name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  std::size_t n = std::strlen(name);
  while (std::getline(in, line))
    if (line.compare(0, n, name) == 0) return std::atol(line.c_str() + n + 1);
  return -1;
}

void note_thread_count(Tally& t, int n) {
  int seen = t.max_threads.load();
  while (n > seen && !t.max_threads.compare_exchange_weak(seen, n)) {
  }
}

void note_threads(Tally& t) { note_thread_count(t, static_cast<int>(status_field("Threads"))); }

// --heap-at: the heap and the RSS at one moment of the run, and how many calls had
// ended by then (0 for a snapshot of calls in flight).
//
// The moment is marked in the malloc trace by one allocation of kMarkBytes, freed at
// once: the tracer writes under a lock, so what precedes the mark happened before it.
// (Ending the trace there with muntrace() instead would race with the other threads'
// allocations: glibc's hooks test the trace stream before taking that lock.)
struct HeapSnapshot {
  static constexpr std::size_t kMarkBytes = 0x1eaf5ee;  // heap_sites.py: MARK_BYTES

  bool taken = false;
  long heap_in_use_kib = 0;
  long rss_kib = 0;
  long calls_ended = 0;

  void take(double seconds, const Tally& t) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    void* (*volatile allocate)(std::size_t) = std::malloc;  // not elided with its free
    std::free(allocate(kMarkBytes));
    heap_in_use_kib = static_cast<long>(mallinfo2().uordblks / 1024);
    rss_kib = status_field("VmRSS");
    calls_ended = t.ok.load() + t.failed.load();
    taken = true;
  }
  std::string json() const {
    if (!taken) return std::string();
    return ",\"heap_in_use_kib\":" + std::to_string(heap_in_use_kib) +
           ",\"rss_at_heap_kib\":" + std::to_string(rss_kib) +
           ",\"calls_ended_at_heap\":" + std::to_string(calls_ended);
  }
};

// --- plain libcurl: the options every raw client sets, the same ones http_task sets ---

struct Easy {
  CURL* easy = nullptr;
  std::string body;
  char error[CURL_ERROR_SIZE] = {};
};

curl_slist* default_headers() {
  static curl_slist* headers = [] {
    curl_slist* h = curl_slist_append(nullptr, "Accept: application/json");
    return curl_slist_append(h, "Expect:");
  }();
  return headers;
}

size_t on_write(char* data, size_t size, size_t count, void* userp) {
  auto& e = *static_cast<Easy*>(userp);
  size_t n = size * count;
  if (n > 4 * 1024 * 1024 - e.body.size()) return 0;
  e.body.append(data, n);
  return n;
}

void configure(Easy& e, const Config& c, const std::string& get_url) {
  CURL* h = e.easy;
  curl_easy_setopt(h, CURLOPT_PRIVATE, &e);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, "http_task/" HTTP_TASK_VERSION_STRING);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, default_headers());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &e);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, e.error);
  // Generous: 10,000 connections at once overflow the 4,096 listen backlog, and the
  // SYN retries that follow take seconds on a busy machine. Same for every client.
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 60'000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120'000L);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(4 * 1024 * 1024));
  if (!c.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, c.ca_file.c_str());
  if (c.post) {
    curl_easy_setopt(h, CURLOPT_URL, c.url.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(7));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "x=6&y=7");
  } else {
    curl_easy_setopt(h, CURLOPT_URL, get_url.c_str());
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  }
}

void check(Easy& e, CURLcode rc, Tally& t) {
  long status = 0;
  curl_easy_getinfo(e.easy, CURLINFO_RESPONSE_CODE, &status);
  if (rc == CURLE_OK && status == 200 && !e.body.empty()) {
    t.ok.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (t.failed.fetch_add(1) == 0)
      t.first_error =
          std::string(curl_easy_strerror(rc)) + " " + e.error + " status " + std::to_string(status);
  }
  e.body.clear();
}

std::string get_url_of(const Config& c) { return c.url + "?x=6&y=7"; }

// --- the clients ---

http_task::ClientOptions http_task_options(const Config& c) {
  http_task::ClientOptions options;
  if (c.receive_buffer >= 0) options.receive_buffer_size = c.receive_buffer;
  options.connect_timeout = std::chrono::seconds(60);  // as configure() gives the others
  options.timeout = std::chrono::seconds(120);
  options.tls.ca_file = c.ca_file;
  // Breaker on with defaults that never open against a healthy server, statistics on.
  options.circuit_breaker.enabled = c.origin_policies;
  options.origin_stats = c.origin_policies;
  options.loop_backend = c.backend;
  return options;
}

http_task::AsyncResult<http_task::Json> start_call(const Config& c, http_task::URL& url) {
  return c.post ? url.post_async({{"x", 6}, {"y", 7}}) : url.get_async({{"x", 6}, {"y", 7}});
}

// 42 from /multiply and /slow, a long string from /large.
void count_answer(http_task::AsyncResult<http_task::Json>& result, Tally& t) {
  try {
    http_task::Json retval = result.get();
    if (retval.is_string() || (retval.is_number() && retval.as<int>() == 42))
      t.ok.fetch_add(1, std::memory_order_relaxed);
    else
      t.failed.fetch_add(1);
  } catch (const std::exception& e) {
    if (t.failed.fetch_add(1) == 0) t.first_error = e.what();
  }
}

void run_http_task(const Config& c, Tally& t) {
  http_task::Client client(http_task_options(c));
  http_task::URL url(c.url, client);
  Tickets tickets(c);
  std::deque<http_task::AsyncResult<http_task::Json>> window;
  while (static_cast<int>(window.size()) < c.concurrency && tickets.take())
    window.push_back(start_call(c, url));
  note_threads(t);
  while (!window.empty()) {
    auto result = std::move(window.front());
    window.pop_front();
    count_answer(result, t);
    if (tickets.take()) window.push_back(start_call(c, url));
  }
  note_threads(t);
}

// C chains of calls, each call's continuation starting the next: nobody waits in get(),
// a slot refills as soon as its call ends. The continuations run on the Client's
// completion thread, or with on_loop on the thread that completes the call (the loop
// thread here, inline_executor), as a hand-written libcurl client starts its next
// transfer from its own loop.
enum class ContinueOn { completion_thread, loop, pool };

void run_http_task_then(const Config& c, Tally& t, ContinueOn where) {
  // Declared before the Client, so they outlive the continuations it runs.
  std::mutex m;
  std::condition_variable all_done;
  int chains = c.concurrency;
  Tickets tickets(c);
  std::function<void()> next;
  http_task_test::TestThreadPool pool(2);  // the kind of pool users bring: one per core
  http_task::Client client(http_task_options(c));
  http_task::URL url(c.url, client);
  next = [&] {
    if (!tickets.take()) {
      std::lock_guard<std::mutex> lock(m);
      if (--chains == 0) all_done.notify_one();
      return;
    }
    auto continuation = [&](http_task::AsyncResult<http_task::Json> finished) {
      count_answer(finished, t);
      next();
    };
    if (where == ContinueOn::loop)
      start_call(c, url).then(http_task::inline_executor, continuation);
    else if (where == ContinueOn::pool)
      start_call(c, url).then(std::ref(pool), continuation);
    else
      start_call(c, url).then(continuation);
  };
  for (int i = 0; i < c.concurrency; ++i) next();
  note_threads(t);
  std::unique_lock<std::mutex> lock(m);
  all_done.wait(lock, [&] { return chains == 0; });
  note_threads(t);
}

// curl's docs/examples/ephiperfifo.c, reduced: epoll for the sockets libcurl names, a
// deadline for its timer, finished handles re-added at once.
struct RawEpoll {
  CURLM* multi = nullptr;
  int epfd = -1;
  long timer_ms = -1;
  Clock::time_point timer_at{};

  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void* socketp) {
    auto& self = *static_cast<RawEpoll*>(userp);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(self.epfd, EPOLL_CTL_DEL, s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (socketp) {
      epoll_ctl(self.epfd, EPOLL_CTL_MOD, s, &ev);
    } else {
      epoll_ctl(self.epfd, EPOLL_CTL_ADD, s, &ev);
      curl_multi_assign(self.multi, s, &self);
    }
    return 0;
  }
  static int on_timer(CURLM*, long ms, void* userp) {
    auto& self = *static_cast<RawEpoll*>(userp);
    self.timer_ms = ms;
    if (ms >= 0) self.timer_at = Clock::now() + std::chrono::milliseconds(ms);
    return 0;
  }
};

void run_raw_epoll(const Config& c, Tally& t) {
  RawEpoll loop;
  loop.multi = curl_multi_init();
  loop.epfd = epoll_create1(EPOLL_CLOEXEC);
  curl_multi_setopt(loop.multi, CURLMOPT_SOCKETFUNCTION, &RawEpoll::on_socket);
  curl_multi_setopt(loop.multi, CURLMOPT_SOCKETDATA, &loop);
  curl_multi_setopt(loop.multi, CURLMOPT_TIMERFUNCTION, &RawEpoll::on_timer);
  curl_multi_setopt(loop.multi, CURLMOPT_TIMERDATA, &loop);
  Tickets tickets(c);
  std::string get_url = get_url_of(c);
  std::vector<Easy> easies(c.concurrency);
  int in_flight = 0;
  for (auto& e : easies) {
    if (!tickets.take()) break;
    e.easy = curl_easy_init();
    configure(e, c, get_url);
    curl_multi_add_handle(loop.multi, e.easy);
    ++in_flight;
  }
  note_threads(t);
  int running = 0;
  epoll_event events[256];
  while (in_flight > 0) {
    int wait_ms = -1;
    if (loop.timer_ms >= 0) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(loop.timer_at - Clock::now());
      wait_ms = static_cast<int>(std::max<long long>(0, left.count()));
    }
    int n = epoll_wait(loop.epfd, events, 256, wait_ms);
    for (int i = 0; i < n; ++i) {
      int mask = 0;
      if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
      curl_multi_socket_action(loop.multi, events[i].data.fd, mask, &running);
    }
    if (loop.timer_ms >= 0 && Clock::now() >= loop.timer_at) {
      loop.timer_ms = -1;
      curl_multi_socket_action(loop.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(loop.multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Easy* e = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &e);
      CURLcode rc = msg->data.result;
      check(*e, rc, t);
      curl_multi_remove_handle(loop.multi, e->easy);
      if (tickets.take())
        curl_multi_add_handle(loop.multi, e->easy);
      else
        --in_flight;
    }
  }
  note_threads(t);
  for (auto& e : easies)
    if (e.easy) curl_easy_cleanup(e.easy);
  curl_multi_cleanup(loop.multi);
  close(loop.epfd);
}

void run_raw_poll(const Config& c, Tally& t) {
  CURLM* multi = curl_multi_init();
  Tickets tickets(c);
  std::string get_url = get_url_of(c);
  std::vector<Easy> easies(c.concurrency);
  int in_flight = 0;
  for (auto& e : easies) {
    if (!tickets.take()) break;
    e.easy = curl_easy_init();
    configure(e, c, get_url);
    curl_multi_add_handle(multi, e.easy);
    ++in_flight;
  }
  note_threads(t);
  int running = 0;
  while (in_flight > 0) {
    curl_multi_perform(multi, &running);
    int left = 0;
    bool readded = false;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Easy* e = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &e);
      check(*e, msg->data.result, t);
      curl_multi_remove_handle(multi, e->easy);
      if (tickets.take()) {
        curl_multi_add_handle(multi, e->easy);
        readded = true;
      } else {
        --in_flight;
      }
    }
    if (in_flight > 0 && !readded) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  note_threads(t);
  for (auto& e : easies)
    if (e.easy) curl_easy_cleanup(e.easy);
  curl_multi_cleanup(multi);
}

// --- cpr's defaults: what a cpr::Get or cpr::Post does with libcurl, modelled ---
//
// cpr is not packaged in Debian 12, so cpr_defaults models it: cpr_model's thread and
// new handle per call, plus the options cpr's Session sets by default and the work its
// Response does on every answer. Read from cpr's session.cpp (1.x): the constructor sets
// a "curl/VERSION" user agent, redirects (up to 50), no progress meter, an error buffer,
// the cookie engine (COOKIEFILE "") and TCP keep-alive probes, and NOSIGNAL only when
// cpr was built with CPR_CURL_NOSIGNAL, which is off by default; each request builds the
// header list from the user's Header map, escapes the parameters into the URL, asks for
// every encoding libcurl supports and for certificate information, and captures the
// headers into a string; each answer reads the cookie list back and fills the Response
// (status, time, effective URL, headers parsed into a case-insensitive map).

struct CaselessLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return strcasecmp(a.c_str(), b.c_str()) < 0;
  }
};

size_t append_to(char* data, size_t size, size_t count, void* userp) {
  static_cast<std::string*>(userp)->append(data, size * count);
  return size * count;
}

// The parameters as cpr's Parameters gives them: each key and value escaped by libcurl.
std::string cpr_query(CURL* h) {
  std::string query;
  for (auto [key, value] : {std::pair{"x", "6"}, std::pair{"y", "7"}}) {
    char* k = curl_easy_escape(h, key, 0);
    char* v = curl_easy_escape(h, value, 0);
    if (!query.empty()) query += '&';
    query += std::string(k) + "=" + v;
    curl_free(k);
    curl_free(v);
  }
  return query;
}

void cpr_call(const Config& c, Tally& t) {
  std::string user_agent = std::string("curl/") + curl_version_info(CURLVERSION_NOW)->version;
  Easy e;
  e.easy = curl_easy_init();
  CURL* h = e.easy;
  // A Session's defaults.
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 50L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, e.error);
  curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  // The same timeouts and limits as every client, as a user would set them.
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 60'000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120'000L);
  // The request: the same headers as every client, from a Header map.
  std::map<std::string, std::string, CaselessLess> user_headers{{"Accept", "application/json"}};
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : user_headers)
    headers = curl_slist_append(headers, (name + (value.empty() ? ";" : ": " + value)).c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  std::string query = cpr_query(h);
  std::string url = c.post ? c.url : c.url + "?" + query;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (c.post) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(query.size()));
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, query.c_str());
  }
  curl_easy_setopt(h, CURLOPT_PROXY, nullptr);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  std::string header_text;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &e);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &append_to);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &header_text);
  curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
  CURLcode rc = curl_easy_perform(h);
  // The Response.
  curl_slist* cookies = nullptr;
  curl_easy_getinfo(h, CURLINFO_COOKIELIST, &cookies);
  curl_slist_free_all(cookies);
  double elapsed = 0;
  char* effective_url = nullptr;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &elapsed);
  curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective_url);
  std::string kept_url = effective_url ? effective_url : "";
  std::map<std::string, std::string, CaselessLess> answer_headers;
  std::size_t start = 0;
  while (start < header_text.size()) {
    std::size_t end = header_text.find("\r\n", start);
    if (end == std::string::npos) end = header_text.size();
    std::string line = header_text.substr(start, end - start);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::size_t value = line.find_first_not_of(' ', colon + 1);
      answer_headers[line.substr(0, colon)] =
          value == std::string::npos ? std::string() : line.substr(value);
    }
    start = end + 2;
  }
  check(e, rc, t);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
}

// new_handle_per_call: cpr's way (a Session per call), else one handle per thread.
void run_threads(const Config& c, Tally& t, bool new_handle_per_call) {
  Tickets tickets(c);
  std::string get_url = get_url_of(c);
  std::atomic<int> live{1};  // the main thread; counted, not sampled: early threads exit
  std::vector<std::thread> pool;
  pool.reserve(c.concurrency);
  for (int i = 0; i < c.concurrency; ++i) {
    pool.emplace_back([&] {
      note_thread_count(t, live.fetch_add(1) + 1);
      Easy e;
      while (tickets.take()) {
        if (!e.easy) {
          e.easy = curl_easy_init();
          configure(e, c, get_url);
        }
        check(e, curl_easy_perform(e.easy), t);
        if (new_handle_per_call) {
          curl_easy_cleanup(e.easy);
          e.easy = nullptr;
        }
      }
      if (e.easy) curl_easy_cleanup(e.easy);
      live.fetch_sub(1);
    });
  }
  for (auto& th : pool) th.join();
}

// cpr_call on C threads, as cpr_model runs its calls.
void run_cpr_defaults(const Config& c, Tally& t) {
  Tickets tickets(c);
  std::atomic<int> live{1};
  std::vector<std::thread> pool;
  pool.reserve(c.concurrency);
  for (int i = 0; i < c.concurrency; ++i) {
    pool.emplace_back([&] {
      note_thread_count(t, live.fetch_add(1) + 1);
      while (tickets.take()) cpr_call(c, t);
      live.fetch_sub(1);
    });
  }
  for (auto& th : pool) th.join();
}

void run_sequential(const Config& c, Tally& t) {
  Tickets tickets(c);
  std::string get_url = get_url_of(c);
  Easy e;
  e.easy = curl_easy_init();
  configure(e, c, get_url);
  note_threads(t);
  while (tickets.take()) check(e, curl_easy_perform(e.easy), t);
  curl_easy_cleanup(e.easy);
}

void raise_open_files_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// User and system CPU of the whole process so far, in seconds.
struct CpuTime {
  double user, sys;
};
CpuTime cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6,
          u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6};
}

[[noreturn]] void usage() {
  std::fprintf(
      stderr,
      "usage: bench_clients --client "
      "http_task|http_task_poll|http_task_epoll|http_task_then|http_task_inline|http_task_pool|"
      "raw_epoll|raw_poll|"
      "threads|cpr_model|cpr_defaults|"
      "sequential "
      "--url URL [--method GET|POST] [--concurrency C] (--calls N | --seconds S) "
      "[--receive-buffer BYTES] [--heap-at S] [--ca-file PEM] [--origin-policies on|off]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    std::string v = argv[++i];
    if (a == "--client")
      c.client = v;
    else if (a == "--url")
      c.url = v;
    else if (a == "--method")
      c.post = (v == "POST");
    else if (a == "--concurrency")
      c.concurrency = std::max(1, std::atoi(v.c_str()));
    else if (a == "--calls")
      c.calls = std::atol(v.c_str());
    else if (a == "--seconds")
      c.seconds = std::atof(v.c_str());
    else if (a == "--receive-buffer")
      c.receive_buffer = std::atol(v.c_str());
    else if (a == "--heap-at")
      c.heap_at = std::atof(v.c_str());
    else if (a == "--ca-file")
      c.ca_file = v;
    else if (a == "--origin-policies")
      c.origin_policies = (v == "on");
    else
      usage();
  }
  if (c.client.empty() || c.url.empty() || (c.calls <= 0 && c.seconds <= 0)) usage();
  raise_open_files_limit();
  curl_global_init(CURL_GLOBAL_DEFAULT);

  Tally t;
  HeapSnapshot heap;
  std::thread heap_thread;
  if (c.heap_at > 0) {
    mtrace();  // a no-op unless run under the tracer
    heap_thread = std::thread([&] { heap.take(c.heap_at, t); });
  }
  CpuTime cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  if (c.client == "http_task_poll") c.backend = http_task::LoopBackend::poll;
  if (c.client == "http_task_epoll") c.backend = http_task::LoopBackend::epoll;
  if (c.client == "http_task" || c.client == "http_task_poll" || c.client == "http_task_epoll")
    run_http_task(c, t);
  else if (c.client == "http_task_then")
    run_http_task_then(c, t, ContinueOn::completion_thread);
  else if (c.client == "http_task_inline")
    run_http_task_then(c, t, ContinueOn::loop);
  else if (c.client == "http_task_pool")
    run_http_task_then(c, t, ContinueOn::pool);
  else if (c.client == "raw_epoll")
    run_raw_epoll(c, t);
  else if (c.client == "raw_poll")
    run_raw_poll(c, t);
  else if (c.client == "threads")
    run_threads(c, t, false);
  else if (c.client == "cpr_model")
    run_threads(c, t, true);
  else if (c.client == "cpr_defaults")
    run_cpr_defaults(c, t);
  else if (c.client == "sequential")
    run_sequential(c, t);
  else
    usage();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  CpuTime cpu1 = cpu_seconds();
  if (heap_thread.joinable()) heap_thread.join();
  double user = cpu1.user - cpu0.user, sys = cpu1.sys - cpu0.sys;
  long calls = t.ok + t.failed;
  std::string err;
  for (char ch : t.first_error)
    if (ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) err += ch;
  std::printf(
      "{\"client\":\"%s\",\"method\":\"%s\",\"concurrency\":%d,\"ok\":%ld,\"failed\":%ld,"
      "\"wall_s\":%.4f,\"req_per_s\":%.1f,\"cpu_us_per_call\":%.2f,\"sys_us_per_call\":%.2f,"
      "\"peak_rss_kib\":%ld,\"max_threads\":%d,\"first_error\":\"%s\"%s}\n",
      c.client.c_str(), c.post ? "POST" : "GET", c.concurrency, t.ok.load(), t.failed.load(), wall,
      calls / wall, calls ? (user + sys) * 1e6 / calls : 0.0, calls ? sys * 1e6 / calls : 0.0,
      status_field("VmHWM"), t.max_threads.load(), err.c_str(), heap.json().c_str());
  return t.failed == 0 ? 0 : 1;
}
