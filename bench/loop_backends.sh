#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The loop backends against raw libcurl (bench/README.md, "Loop backends"): http_task with
# the automatic choice, with epoll and with poll forced, beside raw_epoll
# (multi_socket_action + epoll) and raw_poll (curl_multi_perform + curl_multi_poll), GET
# and POST at 1, 16, 128 and 1024 in flight, against the benchmark's nginx, in one run,
# the order rotated each time. Prints each run's JSON line, then per method and
# concurrency the median req/s of each client and http_task's over the better raw mode.
#
# With --callgrind, then user-space instructions per call of each client (valgrind
# callgrind, whole process, the difference between two call counts, as bench/run.sh takes
# them), GET, at each concurrency: the figure that a shared machine does not swing.
#
# usage: bench/loop_backends.sh [--reps N] [--seconds S] [--concurrency "1 16 128 1024"]
#                               [--build-dir DIR] [--out FILE] [--callgrind]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build/bench"
reps=3
seconds=1
concurrency="1 16 128 1024"
out=""
callgrind=0
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --concurrency) concurrency=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --out) out=$2; shift ;;
    --callgrind) callgrind=1 ;;
    *) echo "usage: $0 [--reps N] [--seconds S] [--concurrency LIST] [--build-dir DIR] [--out FILE] [--callgrind]" >&2; exit 2 ;;
  esac
  shift
done
source "$root/bench/fast_nginx.sh"
build_bench_clients "$build_dir"
clients_bin="$build_dir/bench/bench_clients"

bench_with_fast_nginx backends

results=${out:-$work/results.jsonl}
: >"$results"
clients=(http_task http_task_epoll http_task_poll raw_epoll raw_poll)
rotate=0
for rep in $(seq "$reps"); do
  for method in GET POST; do
    for c in $concurrency; do
      n=${#clients[@]}
      for i in $(seq 0 $((n - 1))); do
        client=${clients[$(((i + rotate) % n))]}
        line=$(HTTP_TASK_LOOP_BACKEND= "$clients_bin" --client "$client" \
          --url "http://127.0.0.1:$port/multiply" --method "$method" --concurrency "$c" \
          --seconds "$seconds" || true)
        [ -n "$line" ] || line="{\"client\":\"$client\",\"method\":\"$method\",\"concurrency\":$c,\"ok\":0,\"failed\":-1,\"req_per_s\":0}"
        echo "$line" | tee -a "$results"
      done
      rotate=$((rotate + 1))
    done
  done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
clients = ["http_task", "http_task_epoll", "http_task_poll", "raw_epoll", "raw_poll"]
print("| method | in flight | " + " | ".join(clients) +
      " | automatic / best raw | epoll / best raw | poll / best raw |")
print("|---|---:|" + "---:|" * (len(clients) + 3))
for method in ("GET", "POST"):
    for c in sorted({r["concurrency"] for r in rows}):
        med = {}
        for cl in clients:
            rs = [r["req_per_s"] for r in rows
                  if r["client"] == cl and r["method"] == method and r["concurrency"] == c]
            med[cl] = statistics.median(rs) if rs else 0.0
        best = max(med["raw_epoll"], med["raw_poll"]) or 1.0
        print(f"| {method} | {c} | " + " | ".join(f"{med[cl]:,.0f}" for cl in clients) +
              f" | {med['http_task'] / best:.2f} | {med['http_task_epoll'] / best:.2f} |"
              f" {med['http_task_poll'] / best:.2f} |")
PY

[ $callgrind -eq 1 ] || exit 0
echo
echo "| in flight | $(printf '%s | ' "${clients[@]}")automatic / best raw |"
echo "|---:|$(printf -- '---:|%.0s' "${clients[@]}")---:|"
for c in $concurrency; do
  small=$((c < 1000 ? 1000 : 2 * c))
  large=$((small + (c < 1000 ? 2000 : 2 * c)))
  declare -A ir=()
  for client in "${clients[@]}"; do
    for n in $small $large; do
      HTTP_TASK_LOOP_BACKEND= valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$clients_bin" --client "$client" --url "http://127.0.0.1:$port/multiply" \
        --concurrency "$c" --calls "$n" >/dev/null 2>"$work/cg_$n.log" || true
    done
    a=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg_$small.log")
    b=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg_$large.log")
    ir[$client]=$(((b - a) / (large - small)))
  done
  best=${ir[raw_epoll]}
  [ "${ir[raw_poll]}" -lt "$best" ] && best=${ir[raw_poll]}
  row="| $c |"
  for client in "${clients[@]}"; do row+=" ${ir[$client]} |"; done
  echo "$row $(python3 -c "print(f'{${ir[http_task]} / $best:.2f}')") |"
done
