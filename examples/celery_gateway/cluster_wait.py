#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cluster.sh's readiness check: waits until the gateway answers GET /api/ping (with Redis
reachable) and, with --workers, until every named worker answers a Celery ping.

    cluster_wait.py --gateway URL [--workers w1,w2] [--pid ROLE=PID ...] [--timeout S]

Exits 0 once all serve; 1 (with the reason on stderr) when one of the --pid processes has
exited or the timeout passed.
"""
import argparse
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def alive(pid):
    """Running and not a zombie (cluster.sh has not reaped its exited children yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def gateway_serves(url):
    try:
        with urllib.request.urlopen(url + "api/ping", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--workers", default="")
    parser.add_argument("--pid", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=90)
    options = parser.parse_args()
    pids = dict(item.split("=", 1) for item in options.pid)
    wanted = {name for name in options.workers.split(",") if name}
    app = None
    if wanted:
        from gateway.celery import app
    deadline = time.monotonic() + options.timeout
    gateway_ok = False
    answered = set()
    while time.monotonic() < deadline:
        for role, pid in pids.items():
            if not alive(int(pid)):
                print(f"cluster_wait.py: {role} (pid {pid}) exited", file=sys.stderr)
                return 1
        gateway_ok = gateway_ok or gateway_serves(options.gateway)
        if wanted - answered:
            try:
                for reply in app.control.ping(timeout=0.5):
                    answered.update(name.split("@", 1)[0] for name in reply)
            except Exception:  # the broker not reachable yet
                time.sleep(0.2)
        if gateway_ok and wanted <= answered:
            return 0
        time.sleep(0.1)
    missing = sorted(wanted - answered) + ([] if gateway_ok else ["gateway"])
    print(f"cluster_wait.py: not serving after {options.timeout:g} s: {', '.join(missing)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
