// SPDX-License-Identifier: MIT
// Call ids: random (version 4) UUIDs, as Celery gave its tasks. The random bits are
// drawn when a call starts; the text is made only when someone asks for it (most
// calls are never asked: it saves a string allocation and the formatting per call).
#pragma once

#include <http_task/detail/loop/fork_generation.hpp>

#include <cstdint>
#include <random>
#include <string>

namespace http_task {
inline namespace v1 {
namespace detail {

struct Uuid4 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  static Uuid4 random() {
    // One generator per thread, seeded from the OS: no lock on the call path. The child
    // of a fork() has a copy of the forking thread's generator, which would repeat the
    // parent's ids (receivers that drop duplicate webhook-ids would drop the child's
    // calls): it reseeds once it sees a new fork generation.
    auto seeded = [] {
      std::random_device rd;
      std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
      return std::mt19937_64(seq);
    };
    thread_local unsigned generation = ForkGeneration::current();
    thread_local std::mt19937_64 gen = seeded();
    const unsigned now = ForkGeneration::current();
    if (generation != now) {
      gen = seeded();
      generation = now;
    }
    Uuid4 id;
    id.hi = (gen() & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
    id.lo = (gen() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10xx
    return id;
  }

  // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx, lower case.
  std::string str() const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(36, '-');
    std::size_t pos = 0;
    auto put = [&](std::uint64_t v, int nibbles) {
      for (int i = nibbles - 1; i >= 0; --i) {
        if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
        out[pos++] = hex[(v >> (i * 4)) & 0xF];
      }
    };
    put(hi, 16);
    put(lo, 16);
    return out;
  }
};

}  // namespace detail
}  // namespace v1
}  // namespace http_task
