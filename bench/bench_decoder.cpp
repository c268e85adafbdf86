// SPDX-License-Identifier: MIT
// The answer decoder alone (HTTP status and body in, the retval out), no network: ns per
// answer and MB/s for a few answer shapes, one line of JSON per shape.
//
//   bench_decoder [--seconds S]
#include <http_task/http_task.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

std::string big_answer() {
  std::string s = "{\"status\": \"success\", \"retval\": [";
  for (int i = 0; i < 100; ++i) {
    if (i) s += ", ";
    s += "{\"id\": " + std::to_string(1000 + i) + ", \"name\": \"item number " + std::to_string(i) +
         "\", \"price\": 12.5}";
  }
  return s + "]}";
}

// A string retval of 64 KiB, as /large answers; with escaped_every > 0, a "\n" escape
// every escaped_every bytes, so the decoder also moves the text as it unescapes.
std::string long_string_answer(std::size_t escaped_every) {
  std::string text;
  for (std::size_t i = 0; text.size() < 64 * 1024; ++i) {
    if (escaped_every > 0 && i % escaped_every == escaped_every - 1)
      text += "\\n";
    else
      text += static_cast<char>('a' + i % 26);
  }
  return "{\"status\": \"success\", \"retval\": \"" + text + "\"}";
}

template <class Check>
void measure(const char* name, long status, const std::string& body, double seconds, Check check) {
  const http_task::detail::DecodeLimits limits;
  long n = 0;
  long bad = 0;
  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Clock::time_point now;
  do {
    for (int i = 0; i < 256; ++i) {
      auto outcome = http_task::detail::decode_answer(status, body, limits);
      if (!check(outcome)) ++bad;
    }
    n += 256;
    now = Clock::now();
  } while (now < end);
  double s = std::chrono::duration<double>(now - start).count();
  std::printf(
      "{\"answer\":\"%s\",\"bytes\":%zu,\"decodes\":%ld,\"ns_per_answer\":%.1f,\"mb_per_s\":%.1f,"
      "\"unexpected\":%ld}\n",
      name, body.size(), n, s * 1e9 / n, n * body.size() / s / 1e6, bad);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  if (argc == 3 && std::string_view(argv[1]) == "--seconds") seconds = std::atof(argv[2]);
  measure("success_int", 200, "{\"status\": \"success\", \"retval\": 42}", seconds,
          [](const auto& o) { return o.ok() && o.value.template as<int>() == 42; });
  measure("failure", 200, "{\"status\": \"failure\", \"reason\": \"Invalid moon alignment.\"}",
          seconds, [](const auto& o) { return !o.ok(); });
  measure("success_100_objects", 200, big_answer(), seconds,
          [](const auto& o) { return o.ok() && o.value.size() == 100; });
  measure("success_64k_string", 200, long_string_answer(0), seconds, [](const auto& o) {
    return o.ok() && o.value.template as<std::string>().size() == 64 * 1024;
  });
  measure("success_64k_escaped", 200, long_string_answer(100), seconds, [](const auto& o) {
    return o.ok() && o.value.template as<std::string>().size() > 60 * 1024;
  });
  return 0;
}
