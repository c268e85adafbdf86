// SPDX-License-Identifier: MIT
// What happened to a call, in the words and codes of the command line: the error class,
// its exit code, its JSON result line, and the batch's progress bar and summary.
#pragma once

#include <http_task/error.hpp>
#include <http_task/json.hpp>
#include <http_task/origin_stats.hpp>

#include "command_line.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http_task_cli {

enum class Kind {
  success,
  remote_failure,
  invalid_answer,
  http_error,
  transport_error,
  timeout,
  refused,
  cancelled,
  bad_line,
  other,
};
constexpr std::size_t kKindCount = 10;

inline const char* kind_name(Kind k) {
  switch (k) {
    case Kind::success:
      return "success";
    case Kind::remote_failure:
      return "remote_failure";
    case Kind::invalid_answer:
      return "invalid_answer";
    case Kind::http_error:
      return "http_error";
    case Kind::transport_error:
      return "transport_error";
    case Kind::timeout:
      return "timeout";
    case Kind::refused:
      return "refused";
    case Kind::cancelled:
      return "cancelled";
    case Kind::bad_line:
      return "bad_line";
    case Kind::other:
      return "error";
  }
  return "error";
}

inline int exit_code(Kind k) {
  switch (k) {
    case Kind::success:
      return exit_success;
    case Kind::remote_failure:
      return exit_remote_failure;
    case Kind::invalid_answer:
      return exit_invalid_answer;
    case Kind::http_error:
      return exit_http_error;
    case Kind::transport_error:
      return exit_transport_error;
    case Kind::timeout:
      return exit_timeout;
    case Kind::refused:
      return exit_refused;
    case Kind::bad_line:
      return exit_usage;
    case Kind::cancelled:
    case Kind::other:
      return exit_other;
  }
  return exit_other;
}

// One finished call (or unusable input line).
struct Result {
  std::size_t line = 0;  // batch input line; 0 in call mode
  std::string id;
  Kind kind = Kind::other;
  std::optional<http_task::Json> retval;
  std::string message;  // what() of the error
  std::string reason;   // remote failure reason, or an HTTP error body's failure reason
  long http_status = 0;
  std::optional<std::chrono::nanoseconds> duration;  // from the log hook
};

inline void classify(const std::exception_ptr& error, Result& r) {
  try {
    std::rethrow_exception(error);
  } catch (const http_task::RemoteExecuteError& e) {
    r.kind = Kind::remote_failure;
    r.message = e.what();
    r.reason = e.reason();
  } catch (const http_task::InvalidResponseError& e) {  // UnknownStatusError too
    r.kind = Kind::invalid_answer;
    r.message = e.what();
  } catch (const http_task::HttpError& e) {
    r.kind = Kind::http_error;
    r.message = e.what();
    r.reason = e.reason();
    r.http_status = e.status_code();
  } catch (const http_task::TimeoutError& e) {  // before its base, TransportError
    r.kind = Kind::timeout;
    r.message = e.what();
  } catch (const http_task::TransportError& e) {
    r.kind = Kind::transport_error;
    r.message = e.what();
  } catch (const http_task::RequestError& e) {
    r.kind = Kind::refused;
    r.message = e.what();
  } catch (const http_task::CancelledError& e) {
    r.kind = Kind::cancelled;
    r.message = e.what();
  } catch (const std::exception& e) {
    r.kind = Kind::other;
    r.message = e.what();
  } catch (...) {
    r.kind = Kind::other;
    r.message = "unknown error";
  }
}

// The human words for call mode's message on stderr.
inline const char* kind_label(Kind k) {
  switch (k) {
    case Kind::remote_failure:
      return "remote task failed";
    case Kind::invalid_answer:
      return "invalid answer";
    case Kind::http_error:
      return "HTTP error";
    case Kind::transport_error:
      return "transport error";
    case Kind::timeout:
      return "timeout";
    case Kind::refused:
      return "request refused";
    case Kind::cancelled:
      return "cancelled";
    case Kind::bad_line:
      return "bad input line";
    default:
      return "error";
  }
}

inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

// A JSON string. Error messages can quote bytes of a broken answer, which need not be
// UTF-8; those become U+FFFD so that every output line stays valid JSON.
inline void append_json_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

inline std::string format_ms(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(d.count()) / 1e6);
  return buf;
}

inline std::string result_json_line(const Result& r) {
  std::string out = "{\"line\":" + std::to_string(r.line);
  if (!r.id.empty()) {
    out += ",\"id\":";
    append_json_string(out, r.id);
  }
  if (r.kind == Kind::success) {
    out += ",\"status\":\"success\",\"retval\":";
    out += r.retval ? r.retval->dump() : "null";
  } else {
    out += ",\"status\":\"failure\",\"error\":\"";
    out += kind_name(r.kind);
    out += "\",\"message\":";
    append_json_string(out, r.message);
    if (!r.reason.empty()) {
      out += ",\"reason\":";
      append_json_string(out, r.reason);
    }
  }
  if (r.http_status > 0) out += ",\"http_status\":" + std::to_string(r.http_status);
  if (r.duration) out += ",\"ms\":" + format_ms(*r.duration);
  out += "}\n";
  return out;
}

// Nearest-rank percentile of sorted samples.
inline std::chrono::nanoseconds percentile(const std::vector<std::chrono::nanoseconds>& sorted,
                                           double p) {
  if (sorted.empty()) return std::chrono::nanoseconds(0);
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

class BatchStats {
 public:
  void add(const Result& r) {
    ++counts_[static_cast<std::size_t>(r.kind)];
    ++done_;
    if (r.kind != Kind::success) ++failed_;
    if (r.duration) latencies_.push_back(*r.duration);
  }
  std::size_t done() const { return done_; }
  std::size_t failed() const { return failed_; }

  //   http-task: 12 calls in 0.412 s: 8 success, 1 remote_failure, 3 transport_error
  //   http-task: latency p50 3.104 ms, p99 301.245 ms
  std::string summary(double elapsed_seconds) {
    char head[96];
    std::snprintf(head, sizeof head, "http-task: %zu call%s in %.3f s: ", done_,
                  done_ == 1 ? "" : "s", elapsed_seconds);
    std::string out = head;
    out += std::to_string(counts_[0]) + " success";
    for (std::size_t k = 1; k < kKindCount; ++k) {
      if (counts_[k] == 0) continue;
      out += ", " + std::to_string(counts_[k]) + " " + kind_name(static_cast<Kind>(k));
    }
    out += "\nhttp-task: latency ";
    if (latencies_.empty()) {
      out += "n/a (no call was sent)\n";
      return out;
    }
    std::sort(latencies_.begin(), latencies_.end());
    out += "p50 " + format_ms(percentile(latencies_, 50)) + " ms, p99 " +
           format_ms(percentile(latencies_, 99)) + " ms\n";
    return out;
  }

 private:
  std::array<std::size_t, kKindCount> counts_{};
  std::size_t done_ = 0;
  std::size_t failed_ = 0;
  std::vector<std::chrono::nanoseconds> latencies_;
};

// One line per origin the batch called (Client::origin_stats), after the summary:
//   http-task: origin http://127.0.0.1:8000: 9 calls: 8 success, 1 timeout; latency p50
//   3.104 ms, p90 4.010 ms, p99 301.245 ms
inline std::string origin_summary(const std::vector<http_task::OriginStats>& origins) {
  std::string out;
  for (const auto& o : origins) {
    out += "http-task: origin " + o.origin + ": " + std::to_string(o.calls) + " call" +
           (o.calls == 1 ? "" : "s") + ": " + std::to_string(o.successes) + " success";
    const std::pair<std::uint64_t, const char*> errors[] = {
        {o.remote_failures, kind_name(Kind::remote_failure)},
        {o.invalid_responses, kind_name(Kind::invalid_answer)},
        {o.http_errors, kind_name(Kind::http_error)},
        {o.transport_errors, kind_name(Kind::transport_error)},
        {o.timeouts, kind_name(Kind::timeout)},
        {o.circuit_open, "circuit_open"},
        {o.cancelled, kind_name(Kind::cancelled)},
        {o.other_errors, kind_name(Kind::other)},
        {o.in_flight, "in_flight"}};
    for (const auto& [count, name] : errors)
      if (count > 0) out += ", " + std::to_string(count) + " " + name;
    if (o.latency_samples > 0) {
      out += "; latency p50 " + format_ms(o.latency_p50) + " ms, p90 " + format_ms(o.latency_p90) +
             " ms, p99 " + format_ms(o.latency_p99) + " ms";
    }
    if (o.circuit != http_task::CircuitState::closed)
      out += std::string("; circuit ") + http_task::to_string(o.circuit);
    out += "\n";
  }
  return out;
}

//   [##########..........]  60/120  50%  41.3/s  3 failed
inline std::string progress_line(std::size_t done, std::size_t total, std::size_t failed,
                                 double elapsed_seconds) {
  constexpr std::size_t kWidth = 24;
  const std::size_t filled = total == 0 ? kWidth : done * kWidth / total;
  std::string bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
  char tail[128];
  const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0.0;
  std::snprintf(tail, sizeof tail, " %zu/%zu %3zu%% %.1f/s %zu failed", done, total,
                total == 0 ? std::size_t{100} : done * 100 / total, rate, failed);
  return bar + tail;
}

}  // namespace http_task_cli
