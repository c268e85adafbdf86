#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Smoke test of examples/celery_gateway: starts cluster.sh on a free port and checks each
route with urllib (Flower's apply/result/revoke, the batch wait, djcelery's routes), the
tasks (http_dispatch against a tiny stdlib webhook), idempotent applies, a kill -9 of the
worker running a task, and restarts of Redis and of the gateway. Exits 0 when all pass.

    /usr/bin/python3 tests/celery/smoke_gateway.py [-v]
"""
import http.server
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(ROOT, "examples", "celery_gateway", "cluster.sh")
# Short, so that a killed worker's task is redelivered within the test's time.
VISIBILITY_TIMEOUT = 5
VERBOSE = "-v" in sys.argv


def log(message):
    if VERBOSE:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def free_port_pair():
    """A port P with P and P+1 free on 127.0.0.1 (the gateway and Redis)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise Failed("no free pair of ports")


def call(method, url, body=None, form=None, timeout=30):
    """(status, decoded JSON body) of one request; HTTP errors are answers too."""
    data, headers = None, {}
    if body is not None:
        data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        raise Failed(f"{method} {url}: {status} with a body that is not JSON: {raw[:200]!r}")


class Webhook(http.server.BaseHTTPRequestHandler):
    """Celery's webhook protocol: /ok answers success with what it got, /fail a failure."""

    def answer(self, fields):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/ok":
            payload = {"status": "success", "retval": {"method": self.command, "fields": fields}}
        else:
            payload = {"status": "failure", "reason": "Invalid moon alignment."}
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.answer(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())))

    def log_message(self, *args):
        pass


class Cluster:
    def __init__(self):
        self.port = free_port_pair()
        self.base = f"http://127.0.0.1:{self.port}/"
        env = dict(os.environ, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
        self.process = subprocess.Popen(
            [CLUSTER, str(self.port)],
            stdout=subprocess.PIPE,
            stderr=None if VERBOSE else subprocess.DEVNULL,
            env=env,
            text=True,
        )
        self.lines = queue.Queue()
        self.pids = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, wanted, timeout):
        """Reads cluster.sh's lines (recording pid lines) until the line `wanted`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Failed(f"cluster.sh did not print {wanted!r} within {timeout} s")
            if line is None:
                raise Failed(f"cluster.sh exited ({self.process.wait()}) before {wanted!r}")
            log(f"cluster.sh: {line}")
            words = line.split()
            if len(words) == 3 and words[0] == "pid":
                self.pids[words[1]] = int(words[2])
            if line == wanted:
                return

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise Failed("cluster.sh did not stop within 30 s of SIGTERM")

    def apply(self, name, args=(), kwargs=None, task_id=None, **options):
        body = {"args": list(args), "kwargs": kwargs or {}, "task_id": task_id or str(uuid.uuid4())}
        body.update(options)
        status, answer = call("POST", self.base + "api/task/async-apply/" + name, body)
        check(status == 200, f"apply {name}: {status} {answer}")
        check(answer["task-id"] == body["task_id"], f"apply {name}: {answer}")
        return body["task_id"]

    def result(self, task_id, timeout=0):
        status, answer = call("GET", f"{self.base}api/task/result/{task_id}?timeout={timeout}",
                              timeout=timeout + 30)
        check(status == 200, f"result {task_id}: {status} {answer}")
        return answer

    def await_state(self, task_id, wanted, timeout):
        deadline = time.monotonic() + timeout
        while True:
            answer = self.result(task_id)
            if answer["state"] == wanted:
                return answer
            check(time.monotonic() < deadline, f"{task_id} not {wanted} within {timeout} s: {answer}")
            time.sleep(0.1)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cluster_processes(c):
    """Pids of the processes that carry this cluster's environment (cluster.sh exports
    CLUSTER_REDIS_URL to all it starts): pool processes and gunicorn workers included."""
    marker = f"CLUSTER_REDIS_URL=redis://127.0.0.1:{c.port + 1}\0".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as environ:
                    if marker in environ.read() and alive(int(entry)):
                        found.append(int(entry))
            except OSError:
                pass
    return found


def test_add(c):
    task_id = c.apply("tasks.add", [2, 3])
    answer = c.result(task_id, timeout=20)
    check(answer == {"task-id": task_id, "state": "SUCCESS", "result": 5}, f"add: {answer}")
    return task_id


def test_fail(c):
    answer = c.result(c.apply("tasks.fail", ["boom"]), timeout=20)
    check(answer["state"] == "FAILURE", f"fail: {answer}")
    check(answer["exc_type"] == "ValueError" and answer["exc_message"] == "boom", f"fail: {answer}")
    check(answer["result"] == "ValueError('boom')", f"fail: {answer}")
    check("ValueError: boom" in answer["traceback"], f"fail: {answer}")


def test_revoke_terminate(c):
    task_id = c.apply("tasks.sleep", [60])
    started = c.await_state(task_id, "STARTED", 20)
    check("hostname" in started["result"], f"STARTED without the worker: {started}")
    status, answer = call("POST", f"{c.base}api/task/revoke/{task_id}?terminate=true")
    check(status == 200 and answer == {"message": f"Revoked '{task_id}'"}, f"revoke: {status} {answer}")
    answer = c.result(task_id, timeout=20)
    check(answer["state"] == "REVOKED", f"revoke terminate: {answer}")


def test_countdown_and_revoke_before_start(c):
    task_id = c.apply("tasks.add", [20, 22], countdown=1)
    check(c.result(task_id, timeout=20)["result"] == 42, "countdown")
    # Revoked while it waits for its countdown: REVOKED at once, not when the countdown ends.
    task_id = c.apply("tasks.add", [1, 2], countdown=60)
    status, answer = call("POST", f"{c.base}api/task/revoke/{task_id}")
    check(status == 200, f"revoke: {status} {answer}")
    answer = c.result(task_id)
    check(answer["state"] == "REVOKED", f"revoked before its countdown: {answer}")


def test_unknown_and_bad_requests(c):
    status, answer = call("POST", c.base + "api/task/async-apply/tasks.nope", {"args": []})
    check(status == 404 and answer == {"error": "Unknown task 'tasks.nope'"}, f"unknown: {status} {answer}")
    # Registered with Celery but not whitelisted: as unknown.
    status, answer = call("POST", c.base + "api/task/async-apply/celery.ping", {})
    check(status == 404, f"not whitelisted: {status} {answer}")
    status, answer = call("POST", c.base + "api/task/async-apply/tasks.add", {"args": {"x": 1}})
    check(status == 400 and "args" in answer["error"], f"bad args: {status} {answer}")
    status, answer = call("GET", c.base + "api/task/result/x?timeout=-1")
    check(status == 400, f"negative timeout: {status} {answer}")


def test_idempotent_apply(c):
    key, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    c.apply("tasks.touch", [key], task_id=task_id)
    c.apply("tasks.touch", [key], task_id=task_id)
    check(c.result(task_id, timeout=20)["result"] == 1, "touch")
    c.apply("tasks.touch", [key], task_id=task_id)
    answer = c.result(c.apply("tasks.count", [key]), timeout=20)
    check(answer["result"] == 1, f"the same id applied 3 times ran {answer['result']} times")


def test_batch_wait(c):
    done = [c.apply("tasks.multiply", [i, 10]) for i in range(3)]
    never = str(uuid.uuid4())
    deadline = time.monotonic() + 20
    seen = {}
    while len(seen) < 3:
        status, answer = call("POST", c.base + "api/tasks/wait", {"ids": done + [never], "timeout": 10})
        check(status == 200 and answer["tasks"], f"wait: {status} {answer}")
        for task in answer["tasks"]:
            check(task["state"] == "SUCCESS", f"wait: {task}")
            seen[task["task-id"]] = task["result"]
        check(time.monotonic() < deadline, f"wait: only {seen}")
    check(seen == {done[i]: i * 10 for i in range(3)}, f"wait: {seen}")
    status, answer = call("POST", c.base + "api/tasks/wait", {"ids": [never], "timeout": 0.5})
    check(status == 200 and answer == {"tasks": []}, f"wait timeout: {status} {answer}")
    status, answer = call("POST", c.base + "api/tasks/wait", {"ids": ["a"] * 1001, "timeout": 0})
    check(status == 400, f"1001 ids: {status} {answer}")


def test_djcelery(c):
    status, answer = call("GET", c.base + "apply/tasks.add/?x=4&y=2")
    check(status == 200 and answer["ok"] == "true", f"djcelery apply: {status} {answer}")
    task_id = answer["task_id"]
    # djcelery passes the fields as strings: add("4", "2") is "42".
    check(c.result(task_id, timeout=20)["result"] == "42", "djcelery apply GET")
    status, answer = call("GET", f"{c.base}{task_id}/status/")
    check(answer == {"task": {"id": task_id, "status": "SUCCESS", "result": "42"}}, f"status: {answer}")
    status, answer = call("GET", f"{c.base}{task_id}/done/")
    check(answer == {"task": {"id": task_id, "executed": True}}, f"done: {answer}")
    status, answer = call("POST", c.base + "apply/tasks.add/", form={"x": "a", "y": "b"})
    check(status == 200 and c.result(answer["task_id"], timeout=20)["result"] == "ab", "djcelery POST")
    status, answer = call("GET", c.base + "apply/tasks.nope/")
    check(status == 404, f"djcelery unknown: {status} {answer}")
    failed = c.apply("tasks.fail", ["bad"])
    c.result(failed, timeout=20)
    status, answer = call("GET", f"{c.base}{failed}/status/")
    task = answer["task"]
    check(task["status"] == "FAILURE" and task["exc"] == "builtins.ValueError", f"status: {answer}")


def test_http_dispatch(c):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        answer = c.result(c.apply("tasks.http_dispatch", [url + "/ok", "GET", {"x": 1}]), timeout=20)
        check(answer["result"] == {"method": "GET", "fields": {"x": "1"}}, f"dispatch GET: {answer}")
        answer = c.result(
            c.apply("tasks.http_dispatch", [], {"url": url + "/ok", "method": "POST", "kwargs": {"y": "z"}}),
            timeout=20,
        )
        check(answer["result"] == {"method": "POST", "fields": {"y": "z"}}, f"dispatch POST: {answer}")
        answer = c.result(c.apply("tasks.http_dispatch", [url + "/fail"]), timeout=20)
        check(answer["state"] == "FAILURE" and answer["exc_type"] == "RemoteExecuteError", f"{answer}")
        check(answer["exc_message"] == "Invalid moon alignment.", f"dispatch failure: {answer}")
        answer = c.result(c.apply("tasks.http_dispatch", ["http://192.0.2.1/"]), timeout=20)
        check(answer["exc_type"] == "ForbiddenHostError", f"dispatch elsewhere: {answer}")
    finally:
        server.shutdown()
        server.server_close()


def kill_worker_running(c):
    """kill -9 of the worker running a task; its id, checked by redelivered() at the end."""
    task_id = c.apply("tasks.sleep", [2])
    started = c.await_state(task_id, "STARTED", 20)
    victim = started["result"]["hostname"].split("@", 1)[0]
    log(f"kill -9 {victim} ({c.pids[victim]}) running {task_id}")
    os.kill(c.pids[victim], signal.SIGKILL)
    return task_id, victim


def redelivered(c, task_id, victim):
    # Redelivered once the visibility timeout has passed, when a live worker next restores
    # unacked messages: kombu checks every 10 s, but on a loaded machine (CI runs this
    # beside the C++ Gateway's own cluster) that has taken over a minute.
    answer = c.result(task_id, timeout=VISIBILITY_TIMEOUT + 150)
    check(answer["state"] == "SUCCESS" and answer["result"] == 2, f"after the kill -9: {answer}")
    # The other worker ran it (result_extended stores the worker), not an orphaned pool
    # process of the killed one.
    import redis

    meta = json.loads(redis.Redis(port=c.port + 1, db=1).get("celery-task-meta-" + task_id))
    check(not meta["worker"].startswith(victim + "@"), f"{victim} was killed but ran it: {meta}")


def await_outcome(c, task_id, timeout):
    """The task's ready state, read through 503s (Redis reconnecting)."""
    deadline = time.monotonic() + timeout
    while True:
        status, answer = call("GET", f"{c.base}api/task/result/{task_id}?timeout=5", timeout=40)
        check(status in (200, 503), f"{task_id}: {status} {answer}")
        if status == 200 and answer["state"] in ("SUCCESS", "FAILURE", "REVOKED"):
            return answer
        check(time.monotonic() < deadline, f"{task_id} not ready within {timeout} s: {status} {answer}")
        time.sleep(0.2)


def test_restart_redis(c, earlier):
    # A task running, one queued behind it (one worker left, two pool processes: both busy).
    running = c.apply("tasks.sleep", [2])
    c.await_state(running, "STARTED", 20)
    blocker = c.apply("tasks.sleep", [2])
    queued = c.apply("tasks.multiply", [6, 7])
    c.process.send_signal(signal.SIGUSR1)
    c.expect("restarted redis", 30)
    # Each ends with its value or a clear error (the worker's result write failed while Redis
    # was down: a ConnectionError stored as the task's FAILURE), none stays pending.
    for task_id, value in ((running, 2), (blocker, 2), (queued, 42)):
        answer = await_outcome(c, task_id, VISIBILITY_TIMEOUT + 30)
        log(f"after the Redis restart: {answer['state']} {answer.get('exc_type', answer['result'])}")
        check(answer["result"] == value or answer.get("exc_type") == "ConnectionError",
              f"after the Redis restart: {answer}")
    check(c.result(earlier)["result"] == 5, "a result from before the Redis restart is lost")
    check(c.result(c.apply("tasks.add", [1, 1]), timeout=20)["result"] == 2, "apply after the Redis restart")


def test_restart_gateway(c, earlier):
    old = c.pids["gateway"]
    c.process.send_signal(signal.SIGUSR2)
    c.expect("restarted gateway", 60)
    check(c.pids["gateway"] != old and not alive(old), "the old gateway still runs")
    check(c.result(earlier)["result"] == 5, "result after the gateway restart")
    check(c.result(c.apply("tasks.add", [2, 2]), timeout=20)["result"] == 4, "apply after the gateway restart")


def main():
    started = time.monotonic()
    cluster = Cluster()
    status = 1
    try:
        cluster.expect(f"ready {cluster.base}", 90)
        check(set(cluster.pids) == {"redis", "w1", "w2", "gateway"}, f"pid lines: {cluster.pids}")
        earlier = test_add(cluster)
        for test in (test_fail, test_revoke_terminate, test_countdown_and_revoke_before_start,
                     test_unknown_and_bad_requests, test_idempotent_apply,
                     test_batch_wait, test_djcelery, test_http_dispatch):
            log(test.__name__)
            test(cluster)
        # The redelivery takes the visibility timeout and up to 10 s more: the restarts are
        # tested meanwhile, on the worker left.
        killed, victim = kill_worker_running(cluster)
        log("test_restart_gateway")
        test_restart_gateway(cluster, earlier)
        log("test_restart_redis")
        test_restart_redis(cluster, earlier)
        log("redelivered")
        redelivered(cluster, killed, victim)
        status = 0
    except Failed as exc:
        print(f"smoke_gateway.py: FAILED: {exc}", file=sys.stderr)
    finally:
        code = cluster.stop()
        left = [f"{role} {pid}" for role, pid in cluster.pids.items() if alive(pid)]
        # Killed pool processes take a moment to be reaped by the kernel: a bounded grace.
        for _ in range(100):
            orphans = cluster_processes(cluster)
            if not orphans:
                break
            time.sleep(0.1)
        left += [f"orphan {pid}" for pid in orphans]
        if code != 0 or left:
            print(f"smoke_gateway.py: FAILED: cluster.sh exited {code}; still running: {left}", file=sys.stderr)
            status = 1
    print(f"smoke_gateway.py: {'passed' if status == 0 else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
