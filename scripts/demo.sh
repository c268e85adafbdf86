#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# THE demo command (README): builds examples/multiply_client, starts the Django webhook
# example on a free port and calls it. Exits with the client's status.
#
#   scripts/demo.sh            the webhook demo
#   scripts/demo.sh celery     the Celery demo: starts examples/celery_gateway/cluster.sh
#                              (Redis, two workers, the HTTP gateway), applies tasks from
#                              C++ (examples/celery_client), prints the results, stops all
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-webhook}
if [ "$mode" != webhook ] && [ "$mode" != celery ]; then
  echo "usage: scripts/demo.sh [celery]" >&2
  exit 2
fi

./scripts/install-deps.sh

celery_work=
cluster_pid=
celery_cleanup() {
  if [ -n "$cluster_pid" ]; then
    kill -TERM "$cluster_pid" 2>/dev/null || true  # cluster.sh stops all it started
    wait "$cluster_pid" 2>/dev/null || true
  fi
  [ -z "$celery_work" ] || rm -rf "$celery_work"
}

celery_demo() {
  if [ ! -f include/http_task/celery.hpp ]; then
    echo "demo.sh: include/http_task/celery.hpp (http_task::celery::Gateway) is missing" >&2
    exit 1
  fi
  cmake --preset release
  cmake --build --preset release -j "$(nproc)" --target celery_client

  local port status=0
  celery_work=$(mktemp -d)
  trap celery_cleanup EXIT
  # A port P with P (gateway) and P+1 (Redis) free; 8000 when it is.
  port=$(/usr/bin/python3 - <<'PY'
import socket
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
for _ in range(100):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        candidate = s.getsockname()[1]
    for port in (8000, candidate):
        if port < 65535 and free(port) and free(port + 1):
            print(port)
            raise SystemExit
PY
)
  examples/celery_gateway/cluster.sh "$port" >"$celery_work/cluster.out" 2>"$celery_work/cluster.log" &
  cluster_pid=$!
  for _ in $(seq 1 1200); do
    grep -q '^ready ' "$celery_work/cluster.out" && break
    if ! kill -0 "$cluster_pid" 2>/dev/null; then
      echo "demo.sh: the Celery cluster exited before it was ready:" >&2
      cat "$celery_work/cluster.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if ! grep -q '^ready ' "$celery_work/cluster.out"; then
    echo "demo.sh: the Celery cluster was not ready within 120 s:" >&2
    cat "$celery_work/cluster.log" >&2
    exit 1
  fi
  echo "demo.sh: Celery cluster (Redis, workers w1 and w2, gateway) on http://127.0.0.1:$port/"
  build/release/examples/celery_client "http://127.0.0.1:$port/" || status=$?
  exit "$status"
}

if [ "$mode" = celery ]; then
  celery_demo
fi

if [ ! -f examples/multiply_client.cpp ] || [ ! -f examples/django_webhook/serve.py ]; then
  echo "demo.sh: examples/multiply_client.cpp or examples/django_webhook/serve.py is missing" >&2
  exit 1
fi

cmake --preset release
cmake --build --preset release -j "$(nproc)" --target multiply_client

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Port 8000 when free; serve.py writes the port it listens on to the port file.
/usr/bin/python3 examples/django_webhook/serve.py --port 8000 --port-file "$work/port" \
  </dev/null >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 300); do
  [ -s "$work/port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo.sh: the Django webhook exited before listening:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -s "$work/port" ]; then
  echo "demo.sh: the Django webhook did not listen within 30 s:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
port=$(cat "$work/port")

echo "demo.sh: Django webhook on 127.0.0.1:$port"
status=0
build/release/examples/multiply_client "http://127.0.0.1:$port/multiply" || status=$?
exit "$status"
