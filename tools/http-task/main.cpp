// SPDX-License-Identifier: MIT
// http-task: call Celery-style HTTP webhooks from the shell, one call or a batch of them.
// `http-task --help` documents the interface; command_line.hpp holds it.
#include <http_task/http_task.hpp>

#include "batch_input.hpp"
#include "command_line.hpp"
#include "outcome_report.hpp"

#include <curl/curl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace http_task_cli {
namespace {

using Clock = std::chrono::steady_clock;

// What the log hook reports of a finished call. The hook runs on the loop thread right
// after the call's result became ready, and is the one place that knows the call's
// latency and HTTP status, so the main thread learns of completions through it.
struct Finished {
  std::string id;
  std::chrono::nanoseconds duration{0};
  long http_status = 0;
  std::string log_line;  // only with --verbose
};

class FinishedQueue {
 public:
  void push(Finished f) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      items_.push_back(std::move(f));
    }
    ready_.notify_one();
  }

  // Waits at most `wait` for something to arrive, then takes everything there is.
  std::vector<Finished> take(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait_for(lock, wait, [&] { return !items_.empty(); });
    return std::exchange(items_, {});
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<Finished> items_;
};

http_task::ClientOptions client_options(const Options& o, FinishedQueue& finished) {
  http_task::ClientOptions options;
  const bool log = o.verbose && !o.quiet;
  options.on_call_finished = [&finished, log](const http_task::CallRecord& record) {
    finished.push({std::string(record.id), record.duration, record.http_status,
                   log ? http_task::celery_log_line(record) : std::string()});
  };
  return options;
}

void write_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  // Results are read by other programs as they come, not when a buffer fills.
  std::fflush(stdout);
}

void write_err(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stderr); }

// Printable on one line: an HTTP error body can be anything.
std::string excerpt(std::string_view body, std::size_t max) {
  std::string out;
  for (char c : body.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7F) ? ' ' : c;
  }
  if (body.size() > max) out += "...";
  return out;
}

int run_call(const Options& o) {
  FinishedQueue finished;
  http_task::Client client(client_options(o, finished));
  auto call = client.dispatch(http_task::Request{o.method, o.url, o.params, o.call});

  Result r;
  r.id = call.id();
  std::string http_body;
  try {
    r.retval = call.get();
    r.kind = Kind::success;
  } catch (const http_task::HttpError& e) {
    http_body = e.body();
    classify(std::current_exception(), r);
  } catch (...) {
    classify(std::current_exception(), r);
  }

  if (o.verbose && !o.quiet) {
    // The hook runs just after the result is ready; give it a moment to be told.
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    bool logged = false;
    while (!logged && Clock::now() < deadline) {
      for (auto& f : finished.take(std::chrono::milliseconds(100))) {
        if (f.id != r.id) continue;
        write_err(f.log_line + "\n");
        logged = true;
      }
    }
  }

  if (r.kind == Kind::success) {
    if (o.raw && r.retval->is_string()) {
      write_out(r.retval->as<std::string>() + "\n");
    } else {
      write_out(r.retval->dump() + "\n");
    }
    return exit_success;
  }
  if (!o.quiet) {
    std::string message = std::string("http-task: ") + kind_label(r.kind) + ": " + r.message + "\n";
    if (r.kind == Kind::http_error && r.reason.empty() && !http_body.empty()) {
      message += "http-task: body: " + excerpt(http_body, o.verbose ? 4096 : 200) + "\n";
    }
    write_err(message);
  }
  return exit_code(r.kind);
}

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_sigint(int) { interrupted = 1; }

// The bar lives on the last line of stderr; anything else written to the terminal
// first clears it, and the next tick draws it again.
class ProgressBar {
 public:
  ProgressBar(bool enabled, bool shares_stdout, std::size_t total)
      : enabled_(enabled), shares_stdout_(shares_stdout), total_(total) {}

  void draw(const BatchStats& stats, double elapsed, bool force = false) {
    if (!enabled_) return;
    const auto now = Clock::now();
    // At most ~10 redraws a second: a terminal is slow and a batch can be fast.
    if (!force && visible_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    write_err("\r" + progress_line(stats.done(), total_, stats.failed(), elapsed) + "\x1b[K");
    visible_ = true;
  }

  void before_stdout() {
    if (shares_stdout_) clear();
  }
  void before_stderr() { clear(); }

  // The final state stays on screen, on a line of its own.
  void finish(const BatchStats& stats, double elapsed) {
    if (!enabled_) return;
    draw(stats, elapsed, true);
    write_err("\n");
    visible_ = false;
    enabled_ = false;
  }

 private:
  void clear() {
    if (!visible_) return;
    write_err("\r\x1b[K");
    visible_ = false;
  }

  bool enabled_;
  bool shares_stdout_;
  std::size_t total_;
  bool visible_ = false;
  Clock::time_point last_{};
};

int run_batch(const Options& o) {
  std::vector<BatchJob> jobs;
  if (o.input == "-") {
    jobs = read_batch(std::cin, o);
  } else {
    std::ifstream file(o.input);
    if (!file) {
      if (!o.quiet) write_err("http-task: cannot read " + o.input + "\n");
      return exit_usage;
    }
    jobs = read_batch(file, o);
  }

  struct sigaction action {};
  action.sa_handler = on_sigint;
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);

  FinishedQueue finished;  // declared before the Client: the loop thread uses it
  http_task::ClientOptions options = client_options(o, finished);
  options.origin_stats = true;  // the summary's lines per origin
  http_task::Client client(std::move(options));

  struct InFlight {
    std::size_t line;
    http_task::AsyncResult<http_task::Json> result;
    bool seen_ready = false;
  };
  std::unordered_map<std::string, InFlight> in_flight;
  BatchStats stats;
  const auto started = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };
  ProgressBar bar(o.progress && !o.quiet && ::isatty(STDERR_FILENO) == 1,
                  ::isatty(STDOUT_FILENO) == 1, jobs.size());

  auto emit = [&](const Result& r) {
    stats.add(r);
    bar.before_stdout();
    write_out(result_json_line(r));
  };
  auto finish = [&](const std::string& id, InFlight& call, const Finished* info) {
    Result r;
    r.line = call.line;
    r.id = id;
    try {
      r.retval = call.result.get();
      r.kind = Kind::success;
    } catch (...) {
      classify(std::current_exception(), r);
    }
    if (info) {
      r.duration = info->duration;
      if (r.http_status == 0) r.http_status = info->http_status;
      if (!info->log_line.empty()) {
        bar.before_stderr();
        write_err(info->log_line + "\n");
      }
    }
    emit(r);
  };

  bar.draw(stats, 0, true);
  std::size_t next = 0;
  bool cancelled = false;
  auto last_scan = Clock::now();
  for (;;) {
    while (!interrupted && in_flight.size() < o.concurrency && next < jobs.size()) {
      BatchJob& job = jobs[next++];
      if (!job.request) {
        Result r;
        r.line = job.line;
        r.kind = Kind::bad_line;
        r.message = job.error;
        emit(r);
        continue;
      }
      // A window of futures: the Client's one loop thread carries them all.
      auto result = client.dispatch(std::move(*job.request));
      std::string id = result.id();
      in_flight.emplace(std::move(id), InFlight{job.line, std::move(result)});
    }
    if (in_flight.empty() && (interrupted || next >= jobs.size())) break;

    if (interrupted && !cancelled) {
      for (auto& entry : in_flight) entry.second.result.cancel();
      cancelled = true;
    }

    for (const Finished& f : finished.take(std::chrono::milliseconds(100))) {
      auto it = in_flight.find(f.id);
      if (it == in_flight.end()) continue;
      finish(it->first, it->second, &f);
      in_flight.erase(it);
    }

    // Every call that reaches the loop is reported by the hook; this only guards against
    // a call that completed without reaching it, which would otherwise hang the batch.
    if (Clock::now() - last_scan >= std::chrono::milliseconds(250)) {
      last_scan = Clock::now();
      for (auto it = in_flight.begin(); it != in_flight.end();) {
        if (it->second.result.ready() && it->second.seen_ready) {
          finish(it->first, it->second, nullptr);
          it = in_flight.erase(it);
          continue;
        }
        it->second.seen_ready = it->second.result.ready();
        ++it;
      }
    }
    bar.draw(stats, elapsed());
  }

  bar.finish(stats, elapsed());
  if (!o.quiet) write_err(stats.summary(elapsed()) + origin_summary(client.origin_stats()));
  if (interrupted) {
    if (!o.quiet) {
      write_err("http-task: interrupted; " + std::to_string(jobs.size() - next) + " of " +
                std::to_string(jobs.size()) + " input lines not run\n");
    }
    return exit_interrupted;
  }
  return stats.failed() == 0 ? exit_success : exit_batch_failures;
}

}  // namespace
}  // namespace http_task_cli

int main(int argc, char** argv) {
  using namespace http_task_cli;
  Options options;
  try {
    options = parse_command_line(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "http-task: %s\nTry 'http-task --help'.\n", e.what());
    return exit_usage;
  }

  try {
    switch (options.mode) {
      case Options::Mode::help:
        std::fputs(kUsageText, stdout);
        return exit_success;
      case Options::Mode::version:
        std::printf("http-task %s (libcurl %s)\n", HTTP_TASK_VERSION_STRING,
                    curl_version_info(CURLVERSION_NOW)->version);
        return exit_success;
      case Options::Mode::batch:
        return run_batch(options);
      case Options::Mode::call:
        return run_call(options);
    }
  } catch (const std::exception& e) {
    if (!options.quiet) std::fprintf(stderr, "http-task: %s\n", e.what());
  }
  return exit_other;
}
