#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compile time of a translation unit that uses http_task, beside the header-only libraries a
# user would weigh it against (bench/README.md, "Compile time"). Each TU is compiled at -O0
# (what an edit-compile loop pays) in turn, round after round, so that the load of the
# machine falls on every TU alike; the median of the rounds is reported, and its ratio to
# nlohmann/json.hpp's and its excess over <curl/curl.h> alone, both from this run.
#
# usage: bench/compile_time/run.sh [--rounds N] [--out DIR] [--cxx COMPILER]
# Needs nlohmann-json3-dev and libcpp-httplib-dev (scripts/install-deps.sh --bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=7
out="$root/bench/results"
cxx=${CXX:-g++}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --out) out=$2; shift ;;
    --cxx) cxx=$2; shift ;;
    *) echo "compile_time/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for header in /usr/include/nlohmann/json.hpp /usr/include/httplib.h; do
  [ -f "$header" ] || {
    echo "compile_time/run.sh: $header is missing: scripts/install-deps.sh --bench" >&2
    exit 1
  }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The TUs, by name. Each does the least a user's file would: name the library's main type.
cat >"$work/curl_only.cpp" <<'CPP'
#include <curl/curl.h>
int main() { return curl_version() == nullptr; }
CPP
cat >"$work/fwd_only.cpp" <<'CPP'
#include <http_task/fwd.hpp>
void call(http_task::URL& url);
int main() { return 0; }
CPP
cat >"$work/umbrella_url.cpp" <<'CPP'
#include <http_task/http_task.hpp>
int main() {
  http_task::URL url("http://127.0.0.1:8000/multiply");
  return url.str().empty();
}
CPP
cat >"$work/umbrella_get_async.cpp" <<'CPP'
#include <http_task/http_task.hpp>
int main() {
  http_task::URL url("http://127.0.0.1:8000/multiply");
  return url.get_async({{"x", 10}, {"y", 10}}).get().as<int>() == 100 ? 0 : 1;
}
CPP
cat >"$work/nlohmann_json.cpp" <<'CPP'
#include <nlohmann/json.hpp>
int main() { return nlohmann::json::parse(R"({"retval":100})")["retval"].get<int>() == 100 ? 0 : 1; }
CPP
cat >"$work/cpp_httplib.cpp" <<'CPP'
#include <httplib.h>
int main() {
  httplib::Client client("http://127.0.0.1:8000");
  auto answer = client.Get("/multiply?x=10&y=10");
  return answer ? 0 : 1;
}
CPP

tus=(curl_only nlohmann_json cpp_httplib umbrella_url umbrella_get_async)
[ -f "$root/include/http_task/fwd.hpp" ] && tus=(curl_only fwd_only "${tus[@]:1}")
flags=(-std=c++17 -O0 -I"$root/include" -c)

# One compile: wall seconds on stdout.
compile_once() {
  local start end
  start=$(date +%s.%N)
  "$cxx" "${flags[@]}" "$work/$1.cpp" -o "$work/$1.o"
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

declare -A times
for tu in "${tus[@]}"; do
  "$cxx" "${flags[@]}" "$work/$tu.cpp" -o "$work/$tu.o" # warm the page cache; fails loudly
  times[$tu]=""
done
for ((r = 0; r < rounds; r++)); do
  for tu in "${tus[@]}"; do
    times[$tu]+="$(compile_once "$tu") "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
lines() { "$cxx" -std=c++17 -I"$root/include" -E "$work/$1.cpp" | wc -l; }

curl_s=$(echo "${times[curl_only]}" | median)
nlohmann_s=$(echo "${times[nlohmann_json]}" | median)
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
compiler=$("$cxx" --version | head -1)
{
  echo "Compile time at -O0, median of $rounds rounds, $compiler, $stamp"
  echo
  echo "| translation unit | preprocessed lines | seconds | vs nlohmann/json.hpp | over <curl/curl.h> |"
  echo "|---|---|---|---|---|"
  for tu in "${tus[@]}"; do
    s=$(echo "${times[$tu]}" | median)
    printf '| %s | %s | %.2f | %.2fx | %+.2f s |\n' "$tu" "$(lines "$tu")" "$s" \
      "$(echo "$s / $nlohmann_s" | bc -l)" "$(echo "$s - $curl_s" | bc -l)"
  done
} | tee "$out/compile_time.md"
for tu in "${tus[@]}"; do
  printf '{"stamp":"%s","tu":"%s","rounds":%d,"seconds":[%s]}\n' "$stamp" "$tu" "$rounds" \
    "$(echo "${times[$tu]}" | xargs | tr ' ' ',')"
done >>"$out/compile_time.jsonl"
