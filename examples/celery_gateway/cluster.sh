#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the example Celery cluster in the foreground: Redis (broker, result backend, the
# gateway's records) on 127.0.0.1:REDIS_PORT, two workers w1@ and w2@, and the HTTP
# gateway on 127.0.0.1:PORT.
#
#   cluster.sh PORT
#
# Prints `pid <role> <pid>` per process (roles redis, w1, w2, gateway), then
# `ready http://127.0.0.1:PORT/` once all serve (the gateway answers, both workers answer a
# Celery ping). SIGTERM / SIGINT: stops everything it started, by pid, removes its
# temporary directory, exits 0. SIGUSR1: restarts Redis (same port, same data: it keeps an
# append-only file) and prints `restarted redis`; SIGUSR2: restarts the gateway and prints
# `restarted gateway` (each after a new `pid` line). Startup failure: stops what started,
# prints the failing process's log on stderr, exits 1.
#
# Environment: CLUSTER_REDIS_PORT (default PORT+1), CELERY_VISIBILITY_TIMEOUT (seconds
# before a killed worker's task goes to another worker; default 10, README.md explains),
# CLUSTER_CONCURRENCY (pool processes per worker, default 2), GATEWAY_THREADS (default 64),
# CLUSTER_LOGS=DIR (keep the processes' logs there instead of the temporary directory).
set -u

if [ $# -ne 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: cluster.sh PORT" >&2
  exit 2
fi
port=$1
redis_port=${CLUSTER_REDIS_PORT:-$((port + 1))}
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/celery_cluster.XXXXXX")
logs=${CLUSTER_LOGS:-$work}
mkdir -p "$work/redis" "$logs"
base_url="http://127.0.0.1:$port/"

export CLUSTER_REDIS_URL="redis://127.0.0.1:$redis_port"
export CELERY_BROKER_URL="$CLUSTER_REDIS_URL/0"
export CELERY_RESULT_BACKEND="$CLUSTER_REDIS_URL/1"
export GATEWAY_STATE_URL="$CLUSTER_REDIS_URL/2"
export CELERY_VISIBILITY_TIMEOUT=${CELERY_VISIBILITY_TIMEOUT:-10}
export DJANGO_SETTINGS_MODULE=gateway.settings
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

declare -A pids=()
keeper=
waiter=

say() { echo "cluster.sh: $*" >&2; }

# Stops the given roles' processes together: each its signal, SIGKILL for those still
# running 5 s later; reaps them.
stop_roles() {
  local role pid signal watchdog stopping=()
  for role in "$@"; do
    pid=${pids[$role]:-}
    [ -n "$pid" ] || continue
    case $role in
      redis) signal=TERM ;;  # Redis syncs its append-only file and exits
      gateway) signal=QUIT ;;  # gunicorn's quick shutdown: parked long-polls end
      *) signal=QUIT ;;  # Celery's cold shutdown: running tasks stay unacknowledged
    esac
    kill -"$signal" "$pid" 2>/dev/null
    stopping+=("$pid")
    unset "pids[$role]"
  done
  [ ${#stopping[@]} -gt 0 ] || return 0
  (sleep 5 && kill -KILL "${stopping[@]}" 2>/dev/null) &
  watchdog=$!
  for pid in "${stopping[@]}"; do wait "$pid" 2>/dev/null; done
  kill "$watchdog" 2>/dev/null
  wait "$watchdog" 2>/dev/null
  return 0
}

cleanup() {
  # ':' rather than '': an ignored signal would be ignored by the helpers started below too.
  trap ':' TERM INT USR1 USR2
  stop_roles gateway w1 w2
  stop_roles redis
  local helper
  for helper in $waiter $keeper; do
    kill "$helper" 2>/dev/null
    wait "$helper" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' TERM INT
# A reader that closed our stdout must not kill this script before its cleanup (writes then
# fail instead; the Python and Redis processes ignore SIGPIPE anyway).
trap '' PIPE
# Until the cluster is ready a restart means nothing; a signal's default action would kill
# this script without its cleanup.
trap ':' USR1 USR2

start_redis() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --save "" \
    --appendonly yes --appendfsync everysec --daemonize no --logfile "" \
    </dev/null >>"$logs/redis.log" 2>&1 &
  pids[redis]=$!
  echo "pid redis ${pids[redis]}"
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && return 0
    kill -0 "${pids[redis]}" 2>/dev/null || break
    sleep 0.1
  done
  say "redis did not start on port $redis_port:"
  tail -n 20 "$logs/redis.log" >&2
  return 1
}

start_worker() {
  local name=$1
  (cd "$here" && exec "$python" -m celery -A gateway worker -n "$name@%h" \
    -c "${CLUSTER_CONCURRENCY:-2}" -l INFO --without-gossip --without-mingle --without-heartbeat) \
    </dev/null >>"$logs/$name.log" 2>&1 &
  pids[$name]=$!
  echo "pid $name ${pids[$name]}"
}

start_gateway() {
  (cd "$here" && exec "$python" -m gunicorn --bind "127.0.0.1:$port" --worker-class gthread \
    --workers 1 --threads "${GATEWAY_THREADS:-64}" --timeout 60 --graceful-timeout 2 \
    gateway.wsgi:application) </dev/null >>"$logs/gateway.log" 2>&1 &
  pids[gateway]=$!
  echo "pid gateway ${pids[gateway]}"
}

# Waits in the background so that SIGTERM / SIGINT are handled at once, even mid-startup.
await() {
  "$python" "$here/cluster_wait.py" --gateway "$base_url" "$@" &
  waiter=$!
  local status
  wait "$waiter"
  status=$?
  # A trapped signal (USR1/USR2) interrupts wait: wait again until the helper has ended.
  while kill -0 "$waiter" 2>/dev/null; do
    wait "$waiter"
    status=$?
  done
  waiter=
  return "$status"
}

fail_startup() {
  local role
  for role in gateway w1 w2; do
    if [ -s "$logs/$role.log" ]; then
      say "--- $role log (end) ---"
      tail -n 20 "$logs/$role.log" >&2
    fi
  done
  exit 1
}

restart_redis() {
  stop_roles redis
  if start_redis; then echo "restarted redis"; else say "redis did not restart"; fi
}

restart_gateway() {
  stop_roles gateway
  start_gateway
  if await --pid "gateway=${pids[gateway]}" --timeout 60; then
    echo "restarted gateway"
  else
    say "the gateway did not restart"
    tail -n 20 "$logs/gateway.log" >&2
  fi
}

# Something already listening on a port would answer the readiness checks in our place.
for busy in "$port" "$redis_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$busy") 2>/dev/null; then
    say "port $busy is in use on 127.0.0.1"
    exit 1
  fi
done

start_redis || exit 1
start_worker w1
start_worker w2
start_gateway
await --workers w1,w2 --pid "redis=${pids[redis]}" --pid "w1=${pids[w1]}" \
  --pid "w2=${pids[w2]}" --pid "gateway=${pids[gateway]}" || fail_startup
echo "ready $base_url"

trap restart_redis USR1
trap restart_gateway USR2
# wait returns whenever a trapped signal arrives; the traps do the work.
while :; do
  if [ -z "$keeper" ] || ! kill -0 "$keeper" 2>/dev/null; then
    sleep 2147483647 &
    keeper=$!
  fi
  wait "$keeper"
done
