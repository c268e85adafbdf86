#!/usr/bin/env bash
# THE demo command (README): builds examples/multiply_client, starts the Django webhook
# example on a free port and calls it. Exits with the client's status.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

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
