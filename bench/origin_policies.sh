#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Whether the circuit breaker and per-origin statistics cost anything: http_task's
# bench_clients against the benchmark's nginx, with both off and both on, in back-to-back
# pairs (order alternating) at 16 and 1024 calls in flight, in one run. Prints each run's
# JSON line, then per concurrency the median req/s and CPU us/call of each, and on/off.
# Timings on a shared machine swing: then user-space instructions per call (callgrind, the
# difference between two call counts, as bench/run.sh takes them) are the stable figure.
# --baseline BIN: a bench_clients built from another commit (main), run as "base" beside
# "off" in the callgrind stage, so that off can be compared with no breaker code at all.
#
# usage: bench/origin_policies.sh [--pairs N] [--seconds S] [--build-dir DIR] [--baseline BIN]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build/bench"
baseline=""
pairs=5
seconds=1
while [ $# -gt 0 ]; do
  case $1 in
    --pairs) pairs=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --baseline) baseline=$2; shift ;;
    *) echo "usage: $0 [--pairs N] [--seconds S] [--build-dir DIR] [--baseline BIN]" >&2; exit 2 ;;
  esac
  shift
done
source "$root/bench/fast_nginx.sh"
build_bench_clients "$build_dir"
clients_bin="$build_dir/bench/bench_clients"

bench_with_fast_nginx policies

results="$work/results.jsonl"
for c in 16 1024; do
  for i in $(seq "$pairs"); do
    order=(off on)
    [ $((i % 2)) -eq 0 ] && order=(on off)
    for policies in "${order[@]}"; do
      line=$("$clients_bin" --client http_task --url "http://127.0.0.1:$port/multiply" \
        --method GET --concurrency "$c" --seconds "$seconds" --origin-policies "$policies")
      echo "{\"policies\":\"$policies\",${line#\{}" | tee -a "$results"
    done
  done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for c in sorted({r["concurrency"] for r in rows}):
    med = {}
    for p in ("off", "on"):
        rs = [r for r in rows if r["concurrency"] == c and r["policies"] == p]
        med[p] = (statistics.median(r["req_per_s"] for r in rs),
                  statistics.median(r["cpu_us_per_call"] for r in rs))
    print(f"{c:5d} in flight: off {med['off'][0]:9.0f} req/s {med['off'][1]:6.2f} us/call | "
          f"on {med['on'][0]:9.0f} req/s {med['on'][1]:6.2f} us/call | "
          f"on/off req/s {med['on'][0] / med['off'][0]:.3f}, cpu {med['on'][1] / med['off'][1]:.3f}")
PY

# Instructions per call, one run at a time.
if command -v valgrind >/dev/null; then
  url="http://127.0.0.1:$port/multiply"
  variants=(off on)
  [ -n "$baseline" ] && variants=(base off on)
  for c in 16 1024; do
    small=$((c < 1000 ? 1000 : 2 * c))
    large=$((small + (c < 1000 ? 2000 : 2 * c)))
    for v in "${variants[@]}"; do
      bin=$clients_bin
      flags=(--origin-policies "$v")
      [ "$v" = base ] && bin=$baseline && flags=()
      for n in $small $large; do
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --client http_task \
          --url "$url" --concurrency "$c" --calls "$n" "${flags[@]}" >/dev/null 2>"$work/cg_$n.log" || true
      done
      ir_small=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg_$small.log")
      ir_large=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg_$large.log")
      echo "$c in flight, $v: $(((ir_large - ir_small) / (large - small))) instructions per call"
    done
  done
fi
