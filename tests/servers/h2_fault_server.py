#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An https server speaking h2 (and HTTP/1.1) that misbehaves on purpose, for http_task's tests.

    h2_fault_server.py --tls-cert F --tls-key F [--alpn h2,http/1.1] [--max-streams N]
                       [--goaway-at N [--goaway-close]] [--port-file PATH] [--parent-pid N]

Runs under /usr/bin/python3 (Debian's python3-h2). TLS with ALPN; TLS 1.3 session
tickets, so a client can resume a session on a new connection.

Paths (the query's `id` names a call; answers are Celery's {"status": "success", "retval": id}):
    /ok?id=N        answers at once
    /rst?id=N       sends the headers and half a body, then RST_STREAM (INTERNAL_ERROR)
    /never?id=N     never answers (a client may cancel it: the reset is counted)
    /slow?id=N&ms=M over HTTP/1.1: answers after M milliseconds (status line included)
    /stats          JSON: connections, resumed sessions, ALPN per connection, requests
                    received and answered per id, streams reset by the client, the most
                    streams open at once on one connection, the GOAWAY sent, the most
                    HTTP/1.1 requests received and not yet answered at once
--max-streams N  SETTINGS_MAX_CONCURRENT_STREAMS; a stream past it is refused (REFUSED_STREAM,
                 counted in "refused", not in "received")
--goaway-at N    on the first connection: once N requests have arrived, send GOAWAY whose
                 last_stream_id is the (N/2)-th stream, answer the streams up to it, and
                 close. The streams above it were not processed: a client may send them
                 again on a new connection.
--goaway-close   with --goaway-at: close the connection right after the GOAWAY, answering
                 none of the streams (those up to last_stream_id were processed, and
                 their answers are lost with the connection).
HTTP/1.1 connections answer one request and close (Connection: close).
"""
import argparse
import collections
import asyncio
import json
import signal
import ssl
import sys
from urllib.parse import parse_qs, urlsplit

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame

from server_lifecycle import watch_parent, write_port_file  # tests/servers/, beside this script

STATS = {
    "connections": 0,
    "resumed": 0,
    "alpn": [],
    "received": {},
    "answered": {},
    "reset_by_client": [],
    "max_open_streams": 0,
    "goaway": None,
    "refused": 0,
    "max_open_http1": 0,
}
OPEN_HTTP1 = 0
ARGS = None


def count(table, key):
    table[key] = table.get(key, 0) + 1


def call_id(path):
    q = parse_qs(urlsplit(path).query)
    return q.get("id", ["0"])[0]


def answer_body(path):
    if urlsplit(path).path == "/stats":
        return json.dumps({"status": "success", "retval": STATS}).encode()
    return json.dumps({"status": "success", "retval": int(call_id(path))}).encode()


class H2Connection:
    def __init__(self, reader, writer, first):
        self.reader = reader
        self.writer = writer
        self.first = first
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.paths = {}  # stream id -> path, once its request is complete
        self.open = set()
        self.pending = {}  # stream id -> path, before END_STREAM
        self.held = []  # complete requests held for --goaway-at
        self.closing = False

    async def run(self):
        code = h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS
        if ARGS.max_streams:
            self.conn.local_settings = h2.settings.Settings(
                client=False, initial_values={code: ARGS.max_streams})
        self.conn.initiate_connection()
        await self.flush()
        if ARGS.max_streams:
            # A client may open more streams before it has read the limit: those are
            # refused one by one (REFUSED_STREAM, on_event), where h2 itself would end
            # the whole connection. So h2 is told no limit once it has sent this one.
            self.conn.local_settings._settings[code] = collections.deque([2**31 - 1])
        while not self.closing:
            data = await self.reader.read(65536)
            if not data:
                break
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                print("protocol error:", repr(e), file=sys.stderr)
                await self.flush()
                break
            for event in events:
                await self.on_event(event)
            await self.flush()
        self.writer.close()

    async def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.writer.write(out)
            await self.writer.drain()

    async def on_event(self, event):
        if isinstance(event, h2.events.RequestReceived):
            if ARGS.max_streams and len(self.open) >= ARGS.max_streams:
                STATS["refused"] += 1
                self.conn.reset_stream(event.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
                return
            headers = dict(event.headers)
            self.pending[event.stream_id] = headers.get(":path", "/")
            self.open.add(event.stream_id)
            STATS["max_open_streams"] = max(STATS["max_open_streams"], len(self.open))
            if event.stream_ended:
                await self.on_request(event.stream_id)
        elif isinstance(event, h2.events.DataReceived):
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            await self.on_request(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            path = self.paths.get(event.stream_id, self.pending.get(event.stream_id))
            if path is not None:
                STATS["reset_by_client"].append(path)
            self.open.discard(event.stream_id)

    async def on_request(self, stream_id):
        path = self.pending.pop(stream_id, None)
        if path is None:
            return
        self.paths[stream_id] = path
        count(STATS["received"], call_id(path))
        if self.first and ARGS.goaway_at:
            self.held.append(stream_id)
            if len(self.held) >= ARGS.goaway_at:
                last = sorted(self.held)[ARGS.goaway_at // 2 - 1]
                STATS["goaway"] = {
                    "last_stream_id": last,
                    "processed": [call_id(self.paths[s]) for s in self.held if s <= last],
                    "unprocessed": [call_id(self.paths[s]) for s in self.held if s > last],
                }
                # GOAWAY first, then the answers of the streams it keeps: h2 sends nothing
                # after its own GOAWAY, so this one is written by hand.
                await self.flush()
                goaway = hyperframe.frame.GoAwayFrame(0)
                goaway.last_stream_id = last
                goaway.error_code = 0
                self.writer.write(goaway.serialize())
                if not ARGS.goaway_close:
                    for s in sorted(self.held):
                        if s <= last:
                            self.answer(s, self.paths[s])
                await self.flush()
                # Read what the client still sends before closing: a close with unread
                # bytes is a TCP reset, which may destroy the GOAWAY before it is read.
                try:
                    while await asyncio.wait_for(self.reader.read(65536), 0.3):
                        pass
                except (asyncio.TimeoutError, ConnectionError, ssl.SSLError):
                    pass
                self.closing = True
            return
        route = urlsplit(path).path
        if route == "/never":
            return
        if route == "/rst":
            body = answer_body(path)
            self.conn.send_headers(
                stream_id,
                [(":status", "200"), ("content-type", "application/json"),
                 ("content-length", str(len(body)))],
            )
            self.conn.send_data(stream_id, body[: len(body) // 2])
            await self.flush()
            self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
        else:
            self.answer(stream_id, path)
        self.open.discard(stream_id)

    def answer(self, stream_id, path):
        body = answer_body(path)
        self.conn.send_headers(
            stream_id,
            [(":status", "200"), ("content-type", "application/json"),
             ("content-length", str(len(body)))],
        )
        self.conn.send_data(stream_id, body, end_stream=True)
        count(STATS["answered"], call_id(path))


async def serve_http1(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    if length:
        await reader.readexactly(length)
    count(STATS["received"], call_id(path))
    global OPEN_HTTP1
    OPEN_HTTP1 += 1
    STATS["max_open_http1"] = max(STATS["max_open_http1"], OPEN_HTTP1)
    try:
        if urlsplit(path).path == "/slow":
            await asyncio.sleep(int(parse_qs(urlsplit(path).query).get("ms", ["0"])[0]) / 1000)
    finally:
        OPEN_HTTP1 -= 1
    body = answer_body(path)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    count(STATS["answered"], call_id(path))
    await writer.drain()
    writer.close()


async def handle_connection(reader, writer):
    tls = writer.get_extra_info("ssl_object")
    first = STATS["connections"] == 0
    STATS["connections"] += 1
    if tls.session_reused:
        STATS["resumed"] += 1
    alpn = tls.selected_alpn_protocol()
    STATS["alpn"].append(alpn)
    try:
        if alpn == "h2":
            await H2Connection(reader, writer, first).run()
        else:
            await serve_http1(reader, writer)
    except (ConnectionError, ssl.SSLError):
        pass


async def main(args):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.tls_cert, args.tls_key)
    tls.set_alpn_protocols(args.alpn.split(","))
    server = await asyncio.start_server(handle_connection, args.host, args.port, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    else:
        print(port, flush=True)
    if args.parent_pid:
        asyncio.create_task(watch_parent(args.parent_pid, stop))
    await stop.wait()
    server.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--tls-cert", required=True)
    parser.add_argument("--tls-key", required=True)
    parser.add_argument("--alpn", default="h2,http/1.1")
    parser.add_argument("--max-streams", type=int, default=0)
    parser.add_argument("--goaway-at", type=int, default=0)
    parser.add_argument("--goaway-close", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    ARGS = parse_args(sys.argv[1:])
    asyncio.run(main(ARGS))
