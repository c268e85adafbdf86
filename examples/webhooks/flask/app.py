#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The multiply webhook in Flask (Debian's python3-flask), served by Werkzeug's threaded
server for tests and demos.

    app.py [--host 127.0.0.1] [--port 0] [--port-file PATH] [--parent-pid N]

--port 0 picks a free port; --port-file gets it written atomically (PATH.tmp, then
renamed), otherwise it is printed on stdout. --parent-pid N: exit once process N is
gone (polled every 0.5 s). SIGTERM/SIGINT exit promptly. Requests are not logged.
"""
import argparse
import logging
import os
import re
import signal
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

MOON_REASON = "Invalid moon alignment: \u263e \u2260 \u2600 (\U0001f319)"
MAX_LARGE = 64 * 1024 * 1024
INTEGER = re.compile(r"[+-]?[0-9]+")

app = Flask(__name__)


def call_args():
    """The call's arguments as http_task sends them: the query for GET, the form body for
    POST. A repeated name keeps its last value."""
    params = request.args if request.method == "GET" else request.form
    return {name: value for name, value in params.items(multi=True)}


def integer_argument(args, name):
    """Returns (value, None) or (None, reason): bad input is a failure, not a 500."""
    raw = args.get(name)
    if raw is None:
        return None, f"missing argument {name}"
    if not INTEGER.fullmatch(raw):
        return None, f"argument {name} is not an integer"
    return int(raw), None


def success(retval):
    return jsonify(status="success", retval=retval)


def failure(reason):
    return jsonify(status="failure", reason=reason)


# strict_slashes=False: "/multiply/" is served too. Flask's default would answer it with
# 404 (and a rule written "/multiply/" would redirect "/multiply" with a 308).
def route(path):
    return app.route(path, methods=["GET", "POST"], strict_slashes=False)


@route("/multiply")
def multiply():
    args = call_args()
    x, reason = integer_argument(args, "x")
    if reason is None:
        y, reason = integer_argument(args, "y")
    if reason is not None:
        return failure(reason)
    return success(x * y)


@route("/echo_args")
def echo_args():
    return success(call_args())


@route("/fail")
def fail():
    return failure(MOON_REASON)


@route("/large")
def large():
    n, reason = integer_argument(call_args(), "n")
    if reason is None and not 0 <= n <= MAX_LARGE:
        reason = "argument n is out of range"
    if reason is not None:
        return failure(reason)
    return success(("0123456789" * (n // 10 + 1))[:n])


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def watch_parent(parent_pid, server):
    original_ppid = os.getppid()
    while True:
        time.sleep(0.5)
        # Reparenting also means the parent died (it may linger as a zombie that
        # kill(pid, 0) still finds).
        if parent_pid == original_ppid and os.getppid() != original_ppid:
            break
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            pass
    server.shutdown()


def on_signal(signum, frame):
    # Raised in the main thread, this leaves serve_forever at once.
    raise SystemExit(0)


def main():
    parser = argparse.ArgumentParser(description="Serve the Flask multiply webhook.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args()

    # Werkzeug logs every request at INFO; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(args.host, args.port, app, threaded=True)
    server.daemon_threads = True  # a stuck request must not keep the process alive
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.port_file:
        write_port_file(args.port_file, server.port)
    else:
        print(server.port, flush=True)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid, server), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
