#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Celery benchmark (issue 18 item 6, bench/celery/README.md): one example cluster
# (examples/celery_gateway/cluster.sh on a free port), the Python Celery client
# (python_client.py, straight through Redis) and the C++ celery::Gateway
# (gateway_client.cpp, through the HTTP gateway) on it back to back, alternating, with the
# same task mix (tasks.sleep(0.1) and tasks.add(1, 2)) at 1, 16 and 256 in flight; then
# 1,000 tasks in flight from the C++ client. Stops the cluster by pid and writes
# celery.jsonl and celery.md (a markdown table) into the output directory.
#
# usage: bench/celery/run.sh [--quick] [--reps N] [--build-dir DIR] [--bin-dir DIR] [--out DIR]
#   --quick     fewer tasks per level (about 3 minutes instead of 7), one repetition
#   --bin-dir   use an already built celery_gateway_client from DIR
# Needs redis-server, python3-celery, python3-django-celery-results, python3-redis,
# gunicorn (scripts/install-deps.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir="$root/build-bench"
bin_dir=""
out="$root/bench/results"
reps=2
sleep_tasks=200
add_tasks=500
wide_tasks=768 # at 256 in flight: 3 windows, so the opening burst (256 applies at once, on
# 256 new connections) is not every task's cost, and the machine's noise averages out
big=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) reps=1 sleep_tasks=80 add_tasks=200 wide_tasks=256 ;;
    --reps) reps=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --bin-dir) bin_dir=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "celery/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$bin_dir" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DHTTP_TASK_BUILD_BENCH=ON -DHTTP_TASK_BUILD_TESTS=OFF -DHTTP_TASK_BUILD_EXAMPLES=OFF \
    -DHTTP_TASK_INSTALL=OFF >/dev/null
  cmake --build "$build_dir" --target celery_gateway_client >/dev/null
  bin_dir="$build_dir/bench"
fi
cpp_client="$bin_dir/celery_gateway_client"
py_client="$root/bench/celery/python_client.py"
[ -x "$cpp_client" ] || { echo "celery/run.sh: $cpp_client missing" >&2; exit 1; }

mkdir -p "$out"
results="$out/celery.jsonl"
: >"$results"
work=$(mktemp -d /tmp/http_task_celery_bench.XXXXXX)
cluster_pid=""
cleanup() {
  if [ -n "$cluster_pid" ]; then
    kill "$cluster_pid" 2>/dev/null || true # cluster.sh stops its processes by pid
    wait "$cluster_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free port whose successor (Redis) is free too.
free_port() {
  /usr/bin/python3 - <<'EOF'
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 1))
    except OSError:
        continue
    finally:
        b.close(); a.close()
    print(port)
    break
EOF
}
port=$(free_port)
base_url="http://127.0.0.1:$port/"
"$root/examples/celery_gateway/cluster.sh" "$port" >"$work/cluster.out" 2>"$work/cluster.err" &
cluster_pid=$!
for _ in $(seq 120); do
  grep -q '^ready' "$work/cluster.out" && break
  kill -0 "$cluster_pid" 2>/dev/null || break
  sleep 0.5
done
grep -q '^ready' "$work/cluster.out" || {
  echo "celery/run.sh: the cluster did not start" >&2
  cat "$work/cluster.err" >&2
  exit 1
}
started=$(date +%s)

run() { # client task args tasks [inflight] -> JSON lines into $results
  local client=$1 task=$2 args=$3 tasks=$4 inflight=${5:-1,16,256}
  local cmd=("$cpp_client")
  [ "$client" = python ] && cmd=(/usr/bin/python3 "$py_client")
  "${cmd[@]}" --base-url "$base_url" --task "$task" --args "$args" --tasks "$tasks" \
    --inflight "$inflight" | while read -r line; do
    echo "{\"rep\":$rep,${line#\{}" | tee -a "$results"
  done
}

# Alternating: each repetition swaps which client goes first, so neither always runs on
# a cluster just warmed (or just loaded) by the other.
for rep in $(seq "$reps"); do
  order=(python cpp)
  [ $((rep % 2)) -eq 0 ] && order=(cpp python)
  for client in "${order[@]}"; do run "$client" tasks.sleep '[0.1]' "$sleep_tasks" 1,16; done
  for client in "${order[@]}"; do run "$client" tasks.sleep '[0.1]' "$wide_tasks" 256; done
  for client in "${order[@]}"; do run "$client" tasks.add '[1,2]' "$add_tasks" 1,16; done
  for client in "${order[@]}"; do run "$client" tasks.add '[1,2]' "$wide_tasks" 256; done
done
rep=0 # the big run: 1,000 in flight from one Client, its threads
run cpp tasks.sleep '[0.1]' "$big" "$big"

kill "$cluster_pid"
wait "$cluster_pid" || true
cluster_pid=""
elapsed=$(($(date +%s) - started))

machine="$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), \
load average $(cut -d' ' -f1-3 /proc/loadavg), $(/usr/bin/python3 -c 'import celery; print("Celery", celery.__version__)'), \
$(redis-server --version | sed 's/.*v=\([^ ]*\).*/Redis \1/'), $(curl-config --version), $(g++ --version | head -1)"
/usr/bin/python3 - "$results" "$machine" "$elapsed" >"$out/celery.md" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"Machine: {sys.argv[2]}. Run took {sys.argv[3]} s.\n")
print("| task | in flight | client | rep | tasks/s | HTTP req/task (applies + waits + polls) "
      "| client CPU ms/task | threads | p50 ms | p99 ms | failures |")
print("|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|")
def task_name(r):
    return r["task"].split(".")[-1] + "(" + ", ".join(json.dumps(a) for a in r["args"]) + ")"
rows.sort(key=lambda r: (r["rep"] == 0, r["task"] != "tasks.sleep", r["inflight"], r["rep"], r["client"]))
for r in rows:
    req = r.get("requests")
    per = f'{r["http_requests_per_task"]:.2f}'
    if req:
        per += f' ({req["applies"]} + {req["batch_waits"]} + {req["result_polls"]})'
    print(f'| {task_name(r)} | {r["inflight"]} | {r["client"]} | {r["rep"] or "-"} '
          f'| {r["tasks_per_s"]:.1f} | {per} | {r["cpu_ms_per_task"]:.2f} | {r["threads"]} '
          f'| {r["latency_p50_ms"]:.1f} | {r["latency_p99_ms"]:.1f} | {r["failures"]} |')
EOF
cat "$out/celery.md"
