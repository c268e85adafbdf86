#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark suite (bench/README.md): builds bench/, starts its own nginx on 127.0.0.1,
# runs every client in the same run, alternating, and writes bench/results/ (raw JSON
# lines, results.md, throughput.png) and the results section of bench/README.md.
#
# usage: bench/run.sh [--quick] [--only tls|celery|compile] [--build-dir DIR] [--bin-dir DIR]
#                     [--out DIR] [--no-readme]
#   --quick      about 3 minutes instead of 16: shorter runs, one repetition, no N=10,000
#   --only tls   only the https / h2 stage (about 2 minutes): bench/results/tls.jsonl, tls.md
#   --only celery  only the Celery stage (bench/celery/run.sh: the C++ celery::Gateway
#                against the Python Celery client on the example cluster); writes
#                celery.jsonl and celery.md in the output directory, not the README
#   --only compile  only the compile-time stage (bench/compile_time/run.sh): a TU using
#                http_task against nlohmann/json.hpp and httplib.h; compile_time.md
#   --bin-dir    use already built bench_clients/bench_decoder from DIR (e.g. a prototype build)
# Needs nginx-light, libnginx-mod-http-echo, gnuplot-nox, valgrind
# (scripts/install-deps.sh --bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
build_dir="$root/build-bench"
bin_dir=""
out="$root/bench/results"
readme=1
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --bin-dir) bin_dir=$2; shift ;;
    --out) out=$2; shift ;;
    --no-readme) readme=0 ;;
    --only) only=$2; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

case "$only" in
  "" | celery | tls | compile) ;;
  *) echo "run.sh: unknown stage $only (stages: tls, celery, compile)" >&2; exit 2 ;;
esac
celery_args=(--out "$out")
[ $quick -eq 1 ] && celery_args+=(--quick)
if [ "$only" = compile ]; then
  exec "$root/bench/compile_time/run.sh" --out "$out"
fi
if [ "$only" = celery ]; then
  [ -n "$bin_dir" ] && celery_args+=(--bin-dir "$bin_dir")
  exec "$root/bench/celery/run.sh" --build-dir "$build_dir" "${celery_args[@]}"
fi

if [ $quick -eq 1 ]; then
  seconds=0.5 reps=1 pairs=2 pair_seconds=0.5 slow_counts="1000 5000" spread_counts=1000 cg_small=500 cg_large=1000 cg_reps=1
  decoder_seconds=0.3
else
  seconds=2 reps=3 pairs=6 pair_seconds=1 slow_counts="1000 5000 10000" spread_counts="1000 10000" cg_small=2000 cg_large=4000 cg_reps=3
  decoder_seconds=1
fi

if [ -z "$bin_dir" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DHTTP_TASK_BUILD_BENCH=ON -DHTTP_TASK_BUILD_TESTS=OFF -DHTTP_TASK_BUILD_EXAMPLES=OFF \
    -DHTTP_TASK_INSTALL=OFF >/dev/null
  cmake --build "$build_dir" --target bench_clients bench_decoder celery_gateway_client >/dev/null
  bin_dir="$build_dir/bench"
fi
clients_bin="$bin_dir/bench_clients"
decoder_bin="$bin_dir/bench_decoder"

ulimit -n "$(ulimit -Hn)"
mkdir -p "$out"
work=$(mktemp -d /tmp/http_task_bench.XXXXXX)
nginx_pid=""
tls_nginx_pid=""
cleanup() {
  for pid in $nginx_pid $tls_nginx_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
echo_module=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$echo_module" ] || { echo "run.sh: $echo_module missing (apt-get install libnginx-mod-http-echo)" >&2; exit 1; }
source "$root/bench/fast_nginx.sh"

# https and h2 (bench/README.md, "https and HTTP/2"): nginx over TLS 1.3 with a CA and
# certificate made here (ECDSA P-256), one port HTTP/1.1 only, one h2; http_task and
# raw_epoll verify it against the CA. Each run's connections and full / resumed
# handshakes come from nginx's log of that run.
tls_stage() {
  local tls_out="$out/tls.jsonl"
  : >"$tls_out"
  (cd "$work" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.pem -days 2 -subj '/CN=http_task bench CA' &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key \
      -out server.csr -subj '/CN=127.0.0.1' &&
    printf 'subjectAltName=IP:127.0.0.1\n' >server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
      -days 2 -extfile server.ext) >/dev/null 2>&1
  local h1_port h2_port
  h1_port=$(free_port)
  h2_port=$(free_port)
  sed -e "s#@DIR@#$work#g; s#@H1_PORT@#$h1_port#g; s#@H2_PORT@#$h2_port#g; s#@LOAD_ECHO@#load_module $echo_module;#" \
    "$root/bench/nginx_tls.conf.in" >"$work/nginx_tls.conf"
  nginx -c "$work/nginx_tls.conf" -p "$work" -e "$work/nginx_tls-error.log" &
  tls_nginx_pid=$!
  for _ in $(seq 50); do
    curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$h2_port/multiply" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local log="$work/tls_access.log"
  tls_run() { # proto client concurrency (--seconds S | --calls N) path
    local proto=$1 client=$2 c=$3 path=$6 port line conns
    port=$h1_port
    [ "$proto" = h2 ] && port=$h2_port
    : >"$log"
    line=$("$clients_bin" --client "$client" --url "https://127.0.0.1:$port$path" --method GET \
      --concurrency "$c" "$4" "$5" --ca-file "$work/ca.pem" || true)
    [ -n "$line" ] || line="{\"client\":\"$client\",\"concurrency\":$c,\"ok\":0,\"failed\":-1}"
    sleep 0.5 # nginx logs a request when it has answered it
    conns=$(awk '{ if (!($2 in seen)) { seen[$2] = 1; n++; if ($3 == "r") r++ } }
      END { printf "\"connections\":%d,\"resumed\":%d,\"full_handshakes\":%d", n, r, n - r }' "$log")
    echo "{\"kind\":\"tls\",\"proto\":\"$proto\",$conns,${line#\{}" | tee -a "$tls_out"
  }
  local order
  for proto in http1 h2; do
    for c in 1 16 128 1024; do
      order=(http_task raw_epoll)
      [ "$c" -eq 16 ] || [ "$c" -eq 1024 ] && order=(raw_epoll http_task)
      for client in "${order[@]}"; do
        tls_run "$proto" "$client" "$c" --seconds "$seconds" /multiply
      done
    done
    for client in http_task raw_epoll; do
      tls_run "$proto" "$client" 10000 --calls 10000 /slow
      sleep 1
    done
  done
  kill "$tls_nginx_pid" 2>/dev/null || true
  wait "$tls_nginx_pid" 2>/dev/null || true
  tls_nginx_pid=""
  python3 "$root/bench/tls_report.py" "$tls_out" "$machine_line" >"$out/tls.md"
  cat "$out/tls.md"
}
machine_line() {
  set +o pipefail # head closing a pipe early is not an error here
  echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), \
$(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r), $(curl-config --version), \
nginx $(nginx -v 2>&1 | sed 's#.*nginx/##') (1 worker), $(g++ --version | head -1)"
  set -o pipefail
}
machine_line=$(machine_line)
if [ "$only" = tls ]; then
  tls_stage
  exit 0
fi

results="$out/results.jsonl"
: >"$results"

port=$(free_port)
start_fast_nginx "$port"
fast_url="http://127.0.0.1:$port/multiply"
slow_url="http://127.0.0.1:$port/slow"
spread_url="http://127.0.0.1:$port/spread"
started=$(date +%s)

run_client() { # kind client url method concurrency (--seconds S | --calls N) [more] -> a JSON line
  local kind=$1; shift
  local line
  line=$("$clients_bin" --client "$1" --url "$2" --method "$3" --concurrency "$4" "${@:5}" || true)
  [ -n "$line" ] || line="{\"client\":\"$1\",\"method\":\"$3\",\"concurrency\":$4,\"ok\":0,\"failed\":-1}"
  echo "{\"kind\":\"$kind\",${line#\{}" >>"$results"
  echo "$kind $line"
}

# Throughput: every client at every concurrency, the order rotated each time so that no
# client always runs first (or right after the same neighbour).
rotate=0
for rep in $(seq "$reps"); do
  for method in GET POST; do
    for c in 1 16 128 1024; do
      clients=(http_task raw_epoll raw_poll threads http_task_then http_task_inline http_task_pool
        cpr_model cpr_defaults)
      [ "$c" -eq 1 ] && clients+=(sequential)
      n=${#clients[@]}
      for i in $(seq 0 $((n - 1))); do
        client=${clients[$(((i + rotate) % n))]}
        run_client throughput "$client" "$fast_url" "$method" "$c" --seconds "$seconds"
      done
      rotate=$((rotate + 1))
    done
  done
done

# The target ratio, http_task / raw_epoll, measured in pairs: each pair runs the two back
# to back, in the order A B B A so that neither always goes first, after a discarded
# warm-up run so that neither follows the previous cell's 1,024 connections closing.
# Single cells above swing 20-60 % with the machine's other load; a pair sees the same
# load, so the median of the pair ratios is the steadier figure (bench/README.md).
for method in GET POST; do
  for c in 1 16 128 1024; do
    "$clients_bin" --client raw_epoll --url "$fast_url" --method "$method" --concurrency "$c" \
      --seconds "$pair_seconds" >/dev/null || true
    for pair in $(seq "$pairs"); do
      order=(http_task raw_epoll)
      [ $((pair % 2)) -eq 0 ] && order=(raw_epoll http_task)
      for client in "${order[@]}"; do
        run_client pair "$client" "$fast_url" "$method" "$c" --seconds "$pair_seconds"
      done
    done
  done
done

# N calls all in flight at once to a server answering after 1 s: wall, peak RSS, threads.
# (cpr_defaults at 10,000 takes about 40 s of the run.)
for n in $slow_counts; do
  for client in http_task raw_epoll raw_poll threads cpr_defaults; do
    run_client slow "$client" "$slow_url" GET "$n" --calls "$n"
    sleep 1 # let the server close what the last client left
  done
done

# The loop's design (bench/README.md, "Why epoll"): N calls in flight that finish a few
# at a time over 10 s. curl_multi_poll looks at every transfer on each turn; epoll only at the
# ready ones.
for n in $spread_counts; do
  for client in raw_epoll raw_poll http_task; do
    run_client spread "$client" "$spread_url" GET "$n" --calls "$n"
    sleep 1
  done
done

# The receive buffer trade-off: http_task's default (1 KiB, grown on a handle after a larger
# answer) against libcurl's 16 KiB, on 64 KiB answers and on the largest slow case
# (bench/README.md, "Receive buffer").
large_url="http://127.0.0.1:$port/large"
for rep in $(seq "$reps"); do
  run_client buffer_1k http_task "$large_url" GET 16 --seconds "$seconds"
  run_client buffer_16k http_task "$large_url" GET 16 --seconds "$seconds" --receive-buffer 0
  run_client buffer_raw raw_epoll "$large_url" GET 16 --seconds "$seconds"
done
n_max=${slow_counts##* }
run_client slow_buffer_16k http_task "$slow_url" GET "$n_max" --calls "$n_max" --receive-buffer 0
sleep 1

# Where the memory of n_max calls in flight goes (bench/README.md, "Peak RSS"): glibc's
# malloc tracer records every allocation, bench_clients marks the moment when every call
# waits for a server answering after 8 s, and heap_sites.py counts what was allocated
# then, by the library that asked for it.
hold_url="http://127.0.0.1:$port/hold"
debug_malloc=$(ldconfig -p | sed -n 's/.*libc_malloc_debug\.so\.0 .*=> //p' | head -1)
if [ -n "$debug_malloc" ]; then
  for client in http_task raw_epoll; do
    MALLOC_TRACE="$work/heap_$client.trace" LD_PRELOAD="$debug_malloc" "$clients_bin" \
      --client "$client" --url "$hold_url" --concurrency "$n_max" --calls "$n_max" \
      --heap-at 5 >"$work/heap_$client.json" || true
    python3 "$root/bench/heap_sites.py" "$work/heap_$client.trace" "$work/heap_$client.json" \
      heap | tee -a "$results" || true
    rm -f "$work/heap_$client.trace"
    sleep 1
  done
fi

tls_stage

# The decoder alone.
"$decoder_bin" --seconds "$decoder_seconds" | sed 's/^{/{"kind":"decoder",/' | tee -a "$results"

# User-space instructions per call (callgrind, whole process, all threads): the difference
# between two call counts removes start-up costs. One run at a time and cg_reps times: a
# client's count depends a little on timing (libcurl's timers, and http_task's loop thread
# checking every millisecond for calls nobody drives, which under valgrind's 50-fold
# slowdown fires about once per call), and two runs at once on 2 cores slow each other.
if command -v valgrind >/dev/null; then
  for rep in $(seq "$cg_reps"); do
    for client in http_task raw_epoll raw_poll threads; do
      for n in $cg_small $cg_large; do
        valgrind --tool=callgrind --callgrind-out-file="$work/cg_${client}_$n.out" "$clients_bin" \
          --client "$client" --url "$fast_url" --concurrency 16 --calls "$n" \
          >/dev/null 2>"$work/cg_${client}_$n.log" || true
      done
      small=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg_${client}_${cg_small}.log")
      large=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg_${client}_${cg_large}.log")
      if [ -n "$small" ] && [ -n "$large" ]; then
        echo "{\"kind\":\"instructions\",\"client\":\"$client\",\"rep\":$rep,\"calls_small\":$cg_small,\"calls_large\":$cg_large,\"ir_small\":$small,\"ir_large\":$large}" | tee -a "$results"
      fi
    done
  done
  mkdir -p "$out/callgrind"
  rm -f "$out"/callgrind/cg_*.out
  cp "$work"/cg_*_"$cg_large".out "$out/callgrind/" 2>/dev/null || true
fi

# The Celery stage (bench/celery/README.md): its own cluster, its own table (celery.md).
if [ -x "$bin_dir/celery_gateway_client" ]; then
  "$root/bench/celery/run.sh" --bin-dir "$bin_dir" "${celery_args[@]}" ||
    echo "run.sh: the Celery stage failed (bench/celery/run.sh)" >&2
else
  echo "run.sh: $bin_dir/celery_gateway_client missing: Celery stage skipped" >&2
fi

elapsed=$(($(date +%s) - started))
set +o pipefail # head closing a pipe early is not an error here
machine="$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), \
$(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r), $(curl-config --version), \
nginx $(nginx -v 2>&1 | sed 's#.*nginx/##') (1 worker), $(g++ --version | head -1)"
set -o pipefail
command="bench/run.sh$([ $quick -eq 1 ] && echo ' --quick' || true)"
readme_args=()
[ $readme -eq 1 ] && readme_args=(--readme "$root/bench/README.md")
python3 "$root/bench/report.py" --results "$results" --out "$out" --machine "$machine" \
  --command "$command" --elapsed "$elapsed" "${readme_args[@]}"
