#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Serves the Django webhook over a threading wsgiref server, for tests and demos.

    serve.py [--host 127.0.0.1] [--port 0] [--port-file PATH] [--parent-pid N]

--port 0 picks a free port; --port-file gets it written atomically (PATH.tmp, then
renamed), otherwise it is printed on stdout. --parent-pid N: exit once process N is
gone (polled every 0.5 s). SIGTERM/SIGINT exit promptly. Requests are not logged.
"""
import argparse
import os
import signal
import socketserver
import sys
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webhook.settings")


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck request must not keep the process alive
    # Room for a burst of concurrent test calls without SYN retries.
    request_queue_size = 1024


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


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
    parser = argparse.ArgumentParser(description="Serve the Django multiply webhook.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args()

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    server = ThreadingWSGIServer((args.host, args.port), QuietHandler)
    server.set_app(application)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    else:
        print(port, flush=True)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid, server), daemon=True).start()
    try:
        # A short poll interval makes shutdown() from the parent watcher quick.
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
