# SPDX-License-Identifier: MIT
# Sourced by the benchmark scripts (run.sh, loop_backends.sh, origin_policies.sh): the
# plain-http nginx they all measure against (bench/nginx.conf.in), so that each measures
# the same server. Expects $root (the repository) and $work (a scratch folder the caller
# removes); sets nginx_pid, which the caller's cleanup kills.

bench_echo_module=/usr/lib/nginx/modules/ngx_http_echo_module.so

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Builds bench_clients in a Release tree of its own: $1 the build folder.
build_bench_clients() {
  cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DHTTP_TASK_BUILD_BENCH=ON -DHTTP_TASK_BUILD_TESTS=OFF -DHTTP_TASK_BUILD_EXAMPLES=OFF \
    -DHTTP_TASK_INSTALL=OFF >/dev/null
  cmake --build "$1" --target bench_clients >/dev/null
}

# Starts nginx on 127.0.0.1:$1 and returns once it answers /multiply.
start_fast_nginx() {
  local port=$1
  [ -f "$bench_echo_module" ] || {
    echo "bench: $bench_echo_module missing (apt-get install libnginx-mod-http-echo)" >&2
    return 1
  }
  sed -e "s#@DIR@#$work#g; s#@FAST_PORT@#$port#g; s#@LOAD_ECHO@#load_module $bench_echo_module;#" \
    "$root/bench/nginx.conf.in" >"$work/nginx.conf"
  nginx -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log" &
  nginx_pid=$!
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/multiply" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: nginx did not answer on port $port; $work/nginx-error.log:" >&2
  cat "$work/nginx-error.log" >&2 || true
  return 1
}

# For a script that measures against this nginx only: the open-files limit raised, a
# scratch folder ($work) and nginx on a free port ($port), both gone when the script
# exits. $1 names the scratch folder.
bench_with_fast_nginx() {
  ulimit -n "$(ulimit -Hn)"
  work=$(mktemp -d "/tmp/http_task_$1.XXXXXX")
  nginx_pid=""
  trap stop_fast_nginx EXIT
  port=$(free_port)
  start_fast_nginx "$port"
}

stop_fast_nginx() {
  [ -n "$nginx_pid" ] && { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
