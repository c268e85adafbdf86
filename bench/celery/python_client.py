#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Python Celery client on the example cluster, the baseline of the C++ Gateway's
benchmark: `app.send_task(...)` and the result awaited straight through Redis (the result
backend's pub/sub, as `AsyncResult.get()` does), with N tasks in flight.

    python_client.py --base-url http://127.0.0.1:PORT/ [--redis redis://127.0.0.1:PORT+1]
                     [--inflight 1,16,256] [--tasks 200] [--task tasks.sleep --args '[0.1]']

Prints one JSON line per level: tasks/s, client CPU per task (getrusage, user + system),
threads of the process, latency p50/p99 (send -> result received), HTTP requests per task
(0: this client talks to Redis, not to the gateway). One thread drives everything: Celery's
result consumer is fed from this thread's loop, with a callback per task (`then`), so N in
flight cost no thread each, like the C++ client.
"""
import argparse
import json
import os
import resource
import sys
import threading
import time
import uuid

from celery import Celery
from celery.result import AsyncResult


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def threads_now():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return threading.active_count()


def run_level(app, task, args, inflight, total, stall_timeout):
    consumer = app.backend.result_consumer
    latencies, failures = [], []
    pending = {}
    state = {"sent": 0, "done": 0}

    def on_ready(result):
        entry = pending.pop(result.id, None)
        if entry is None:
            return
        latencies.append(time.perf_counter() - entry[0])
        if result.state != "SUCCESS":
            failures.append(result.state)
        state["done"] += 1

    def send_one():
        task_id = str(uuid.uuid4())
        result = AsyncResult(task_id, app=app)
        # Subscribe before sending, so that the result cannot be published unseen.
        result.then(on_ready)
        started = time.perf_counter()
        # Keep the AsyncResult that send_task returns until the task is done: its __del__
        # would unsubscribe the id (Celery cancels a result's wait when one of its objects
        # dies).
        pending[task_id] = (started, result, app.send_task(task, args=args, task_id=task_id))
        state["sent"] += 1

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    wall_before = time.perf_counter()
    max_threads = threads_now()
    while state["sent"] < min(inflight, total):
        send_one()
    last_progress = time.monotonic()
    rounds = 0
    while state["done"] < total:
        done_before = state["done"]
        consumer.drain_events(timeout=1.0)
        finished_now = state["done"] - done_before
        for _ in range(finished_now):
            if state["sent"] < total:
                send_one()
        if finished_now:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > stall_timeout:
            raise SystemExit(f"python_client.py: no result for {stall_timeout} s, {len(pending)} pending")
        rounds += 1
        if rounds % 64 == 0:  # reading /proc costs CPU, which is measured here too
            max_threads = max(max_threads, threads_now())
    wall = time.perf_counter() - wall_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    latencies.sort()
    return {
        "client": "python-celery",
        "task": task,
        "args": args,
        "inflight": inflight,
        "tasks": total,
        "failures": len(failures),
        "tasks_per_s": round(total / wall, 2),
        "cpu_ms_per_task": round(cpu * 1000 / total, 3),
        "threads": max_threads,
        "latency_p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "http_requests_per_task": 0,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", help="the cluster's gateway URL; Redis is on its port + 1")
    parser.add_argument("--redis", help="redis://127.0.0.1:PORT (default: the gateway's port + 1)")
    parser.add_argument("--inflight", default="1,16,256")
    parser.add_argument("--tasks", type=int, default=200, help="tasks per level")
    parser.add_argument("--task", default="tasks.sleep")
    parser.add_argument("--args", default="[0.1]", help="the task's args, JSON")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--stall-timeout", type=float, default=60)
    options = parser.parse_args()
    redis_url = options.redis
    if redis_url is None:
        if options.base_url is None:
            parser.error("--base-url or --redis")
        port = int(options.base_url.rstrip("/").rsplit(":", 1)[1])
        redis_url = f"redis://127.0.0.1:{port + 1}"
    app = Celery("bench", broker=redis_url + "/0", backend=redis_url + "/1")
    app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])
    args = json.loads(options.args)
    if options.warmup:
        run_level(app, options.task, args, min(16, options.warmup), options.warmup, options.stall_timeout)
    for level in (int(n) for n in options.inflight.split(",")):
        total = max(options.tasks, level)
        print(json.dumps(run_level(app, options.task, args, level, total, options.stall_timeout)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
