// SPDX-License-Identifier: MIT
// The command line of http-task: options, exit codes and the usage text.
#pragma once

#include <http_task/params.hpp>
#include <http_task/request.hpp>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_task_cli {

// Part of the interface: scripts branch on these, so they never change meaning.
enum ExitCode : int {
  exit_success = 0,
  exit_usage = 1,            // bad command line, unreadable input file
  exit_remote_failure = 2,   // {"status": "failure"} (RemoteExecuteError)
  exit_invalid_answer = 3,   // not a webhook answer (InvalidResponseError, UnknownStatusError)
  exit_http_error = 4,       // HTTP status outside 2xx (HttpError)
  exit_transport_error = 5,  // connect, DNS, TLS, reset... (TransportError)
  exit_timeout = 6,          // --timeout or --connect-timeout expired (TimeoutError)
  exit_refused = 7,          // refused before sending: bad URL, method, header (RequestError)
  exit_batch_failures = 8,   // batch: at least one call or input line failed
  exit_other = 9,            // anything else (cancelled call, internal error)
  exit_interrupted = 130,    // batch stopped by SIGINT, as shells report it
};

constexpr const char* kUsageText =
    R"(Usage: http-task [options] METHOD URL [name=value ...]
       http-task [options] URL [name=value ...]        (GET, or POST with --post)
       http-task [options] batch [FILE|-]

Calls an HTTP webhook (the Celery "HTTP callback task" protocol) and prints its
retval as JSON on stdout. METHOD is get, post, put, patch, delete or head; the
arguments go in the query string, or in a form body for post, put and patch.

Options:
  -H, --header 'Name: value'  add a request header (repeatable)
  -X, --request METHOD        the method, as an option (default GET)
      --post                  same as -X POST
      --timeout SECONDS       limit on the whole call (default 30; fractions allowed)
      --connect-timeout SECONDS
                              limit on connecting (default 10)
      --max-redirects N       redirects to follow, for any method (default: 5, GET/HEAD only)
  -r, --raw                   print a string retval without JSON quotes
  -q, --quiet                 nothing on stderr but usage errors (no message, progress, summary)
  -v, --verbose               a Celery worker log line per call on stderr:
                                Task http_task.dispatch[<id>] processed: 100
  -c, --concurrency N         batch: calls in flight at once (default 8)
      --no-progress           batch: no progress bar even when stderr is a terminal
  -h, --help                  this text
  -V, --version               the version

Batch mode reads one call per line from FILE (or stdin when FILE is - or absent):
  {"method": "POST", "url": "http://host/multiply", "args": {"x": 6, "y": 7}}
  http://host/multiply x=10 y=10
  POST http://host/multiply x=6 'y=7'
JSON lines may also hold "headers" ({"Name": "value"}) and "timeout" (seconds); an
array in "args" repeats the name. Text lines split on blanks with shell-like quotes.
Blank lines and lines starting with # are skipped. The input is read completely,
then up to N calls run at once. One JSON line per call goes to stdout, in the order
the calls finish ("line" is the input line number):
  {"line":1,"id":"<uuid>","status":"success","retval":100,"http_status":200,"ms":3.1}
  {"line":2,"id":"<uuid>","status":"failure","error":"remote_failure","message":"...",
   "reason":"...","http_status":200,"ms":2.5}
"error" is remote_failure, invalid_answer, http_error, transport_error, timeout,
refused, cancelled or bad_line. A progress bar is drawn on stderr when it is a
terminal; a summary (counts by outcome, p50/p99 latency), then a line per origin
called (counts, p50/p90/p99 latency), ends the batch.

Exit status:
  0  success (batch: every call succeeded)
  1  usage error
  2  remote failure: the webhook answered {"status": "failure"}
  3  invalid answer: not JSON, unknown status, no retval, too large...
  4  HTTP error: a status outside 2xx
  5  transport error: connection refused, DNS, TLS, reset...
  6  timeout
  7  request refused before sending: bad URL scheme, method or header
  8  batch: at least one call or input line failed
  9  other error
  130 batch interrupted (SIGINT)
)";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  enum class Mode { call, batch, help, version };
  Mode mode = Mode::call;

  std::string method;  // call mode: as sent (upper case); batch: default for text lines
  std::string url;
  http_task::Params params;
  http_task::CallOptions call;  // headers, timeouts, redirects: every call gets them
  std::string input = "-";      // batch

  std::size_t concurrency = 8;
  bool raw = false;
  bool quiet = false;
  bool verbose = false;
  bool progress = true;  // still only when stderr is a terminal
};

inline std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

inline bool is_cli_method(std::string_view word) {
  const std::string m = to_upper(word);
  return m == "GET" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE" || m == "HEAD";
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Seconds as a person writes them ("0.3", "2", "1e-1") to whole milliseconds, rounded up
// so that a small positive timeout never becomes 0 (which libcurl reads as "none").
inline std::chrono::milliseconds seconds_to_ms(double seconds, const char* option,
                                               const std::string& text) {
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > 86400.0 * 365) {
    throw UsageError(std::string(option) + ": expected a positive number of seconds" +
                     (text.empty() ? std::string() : ", got '" + text + "'"));
  }
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000.0)));
}

inline std::chrono::milliseconds parse_seconds(const std::string& text, const char* option) {
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    throw UsageError(std::string(option) + ": expected a number of seconds, got '" + text + "'");
  }
  return seconds_to_ms(seconds, option, text);
}

inline long parse_count(const std::string& text, const char* option, long min, long max) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || n < min || n > max) {
    throw UsageError(std::string(option) + ": expected an integer from " + std::to_string(min) +
                     " to " + std::to_string(max) + ", got '" + text + "'");
  }
  return n;
}

// "Name: value", as curl -H takes it.
inline std::pair<std::string, std::string> parse_header(std::string_view text) {
  const auto colon = text.find(':');
  const std::string_view name = colon == std::string_view::npos ? "" : trim(text.substr(0, colon));
  if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
    throw UsageError("-H: expected 'Name: value', got '" + std::string(text) + "'");
  }
  return {std::string(name), std::string(trim(text.substr(colon + 1)))};
}

// A header given later replaces one of the same name given earlier (names are
// case-insensitive), so a batch line can override a -H default.
inline void set_header(http_task::Headers& headers, std::pair<std::string, std::string> header) {
  for (auto& h : headers) {
    if (to_upper(h.first) == to_upper(header.first)) {
      h.second = std::move(header.second);
      return;
    }
  }
  headers.push_back(std::move(header));
}

inline void add_param(http_task::Params& params, std::string_view arg) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw UsageError("expected an argument name=value, got '" + std::string(arg) + "'");
  }
  params.add(std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)));
}

// GNU-style: options may come before or after the positional words, "--" ends them,
// "--name=value" and "-cN" are accepted, flags bundle ("-qv").
inline Options parse_command_line(int argc, char** argv) {
  Options o;
  std::vector<std::string> words;
  std::string method_option;

  auto set_method_option = [&](const std::string& m) {
    const std::string upper = to_upper(m);
    if (!method_option.empty() && method_option != upper) {
      throw UsageError("conflicting methods " + method_option + " and " + upper);
    }
    method_option = upper;
  };

  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }

    std::string name;
    std::optional<std::string> inline_value;
    std::string cluster;  // the rest of a short-option bundle after its first letter
    if (arg[1] == '-') {
      const auto eq = arg.find('=');
      name = arg.substr(0, eq);
      if (eq != std::string::npos) inline_value = arg.substr(eq + 1);
    } else {
      name = arg.substr(0, 2);
      cluster = arg.substr(2);
    }

    for (;;) {
      auto value = [&]() -> std::string {
        if (inline_value) return *std::exchange(inline_value, std::nullopt);
        if (!cluster.empty()) return std::exchange(cluster, std::string());
        if (i + 1 >= argc) throw UsageError(name + ": missing value");
        return argv[++i];
      };
      auto flag = [&] {
        if (inline_value) throw UsageError(name + " takes no value");
      };

      if (name == "-H" || name == "--header") {
        set_header(o.call.headers, parse_header(value()));
      } else if (name == "-X" || name == "--request") {
        set_method_option(value());
      } else if (name == "--post") {
        flag();
        set_method_option("POST");
      } else if (name == "--timeout") {
        o.call.timeout = parse_seconds(value(), "--timeout");
      } else if (name == "--connect-timeout") {
        o.call.connect_timeout = parse_seconds(value(), "--connect-timeout");
      } else if (name == "--max-redirects") {
        o.call.max_redirects = static_cast<int>(parse_count(value(), "--max-redirects", 0, 100));
      } else if (name == "-c" || name == "--concurrency") {
        o.concurrency = static_cast<std::size_t>(parse_count(value(), "--concurrency", 1, 100000));
      } else if (name == "-r" || name == "--raw") {
        flag();
        o.raw = true;
      } else if (name == "-q" || name == "--quiet") {
        flag();
        o.quiet = true;
      } else if (name == "-v" || name == "--verbose") {
        flag();
        o.verbose = true;
      } else if (name == "--no-progress") {
        flag();
        o.progress = false;
      } else if (name == "-h" || name == "--help") {
        flag();
        o.mode = Options::Mode::help;
        return o;
      } else if (name == "-V" || name == "--version") {
        flag();
        o.mode = Options::Mode::version;
        return o;
      } else {
        throw UsageError("unknown option " + name);
      }

      if (cluster.empty()) break;
      name = std::string("-") + cluster[0];
      cluster.erase(0, 1);
    }
  }

  if (words.empty()) throw UsageError("missing METHOD URL or batch");
  std::size_t next = 0;
  if (words[0] == "batch") {
    o.mode = Options::Mode::batch;
    if (words.size() > 2) throw UsageError("batch takes one input file, got '" + words[2] + "'");
    if (words.size() == 2) o.input = words[1];
    o.method = method_option.empty() ? "GET" : method_option;
    return o;
  }
  if (is_cli_method(words[0])) {
    if (!method_option.empty() && method_option != to_upper(words[0])) {
      throw UsageError("conflicting methods " + method_option + " and " + to_upper(words[0]));
    }
    o.method = to_upper(words[0]);
    ++next;
  } else if (words[0].find("://") != std::string::npos) {
    o.method = method_option.empty() ? "GET" : method_option;
  } else {
    throw UsageError("unknown command '" + words[0] + "' (expected a method, a URL or batch)");
  }
  if (next >= words.size()) throw UsageError("missing URL");
  o.url = words[next++];
  for (; next < words.size(); ++next) add_param(o.params, words[next]);
  return o;
}

}  // namespace http_task_cli
