#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""http_task's own webhook test server: correct answers and deliberate faults.

Python standard library only. HTTP/1.1 is parsed and written by hand over asyncio
streams so that a route can misbehave byte by byte. Run it with /usr/bin/python3.

Command line:
    webhook_server.py [--host 127.0.0.1] [--port 0] [--port-file PATH] [--parent-pid N]

    --port 0        pick a free port.
    --port-file     once listening, the port is written to PATH.tmp, then renamed to PATH
                    (readers never see a half-written file). Without it, the port is
                    printed on stdout.
    --parent-pid    exit by itself (within 0.5 s) once that process is gone.
    --tls-cert F --tls-key F
                    serve HTTPS with that certificate chain and key (PEM).
    --tls-client-ca F
                    with TLS: require a client certificate signed by that CA (mTLS).
    SIGTERM/SIGINT  exit promptly.

Connections: keep-alive by default (HTTP/1.1; HTTP/1.0 only with "Connection:
keep-alive"; "Connection: close" honoured), no idle timeout (a server-side close of an
idle connection would race with a client reusing it and make tests flaky). Request
bodies by Content-Length or chunked; "Expect: 100-continue" is answered. Listen backlog
4096; RLIMIT_NOFILE is raised to its hard limit so 10,000 connections fit.

Arguments: query arguments are form-decoded (parse_qsl, blank values kept). The body
is form-decoded too, but only when Content-Type is application/x-www-form-urlencoded,
exactly as Django does (so a client sending the wrong Content-Type, Celery issue #515,
is caught). When a name occurs several times the last one wins (body after query).

Every answer is "Content-Type: application/json" unless stated. "failure" below means
{"status": "failure", "reason": "<text>"}. Bad arguments of the routes other than
/multiply get HTTP 400 with a failure body; unknown paths get 404 with a failure body.

Routes:
    /multiply           GET or POST (others: 405). x, y integers (optional sign, digits
                        only) -> {"status": "success", "retval": x*y}; missing or not an
                        integer -> HTTP 200 failure (what the Celery docs' view means).
    /echo               any method -> {"status": "success", "retval": {"method", "path"
                        (raw, still percent-encoded), "query" (raw query string), "args"
                        ([[k, v], ...]: query args then form body args), "query_args",
                        "form_args", "body" (raw body as text, invalid UTF-8 replaced by
                        U+FFFD), "headers" ({lowercased name: value}, repeats joined by
                        ", ")}}. HEAD gets the headers only.
    /answer             answers exactly `body` (form-decoded text sent as UTF-8, may be
                        empty) or `body_hex` (raw bytes, for invalid UTF-8) with HTTP
                        `status` (200..599, default 200) and `content_type` (default
                        application/json; given but empty -> no Content-Type header).
                        `chunked=1`: chunked transfer encoding, chunks of `chunk_size`
                        bytes (default 8). `header=Name: value` (repeatable) adds headers.
                        204 and 304 are sent without a body.
    /slow?ms=N          sleeps N ms (default 1000; asyncio.sleep, so 10,000 sleepers are
                        cheap), then {"status": "success", "retval": "slow"}.
    /redirect?to=URL&code=302
                        answers `code` (300..399, default 302) with "Location: URL" and a
                        failure body saying it was not followed.
    /redirect-chain?n=N[&code=302]
                        N hops (relative Location: /redirect-chain?n=N&left=K), then
                        {"status": "success", "retval": N}.
    /stats              {"status": "success", "retval": {"connections": accepted since
                        start or reset, "open": open right now, "max_open": the most
                        open at once since start or reset, "requests": requests since
                        start or reset}} (this request counts).
    /stats/reset        zeroes "connections" and "requests", sets "max_open" to "open",
                        then answers like /stats.
    /flaky?key=K&fail=N[&status=503][&retry_after=S][&mode=status|close]
                        the first N requests with that key fail: `mode=status` (default)
                        answers HTTP `status` with a failure body (and "Retry-After: S"
                        when given), `mode=close` closes the connection without an
                        answer. Later requests succeed with retval {"attempt": n,
                        "seen": [{"webhook-timestamp", "webhook-signature"}, ...]}: what
                        every attempt of that key carried, for retry and signing tests.
    /gate?key=K&n=N[&timeout_ms=60000]
                        waits until N requests with that key wait at once, then answers
                        them all {"status": "success", "retval": "open"} (later ones
                        too: it stays open); one still waiting after timeout_ms gets a
                        failure ("gate K: M of N came").
                        Proves calls ran at once without timing them: a client that
                        sends fewer than N together never gets "open".
    /json[?secret=whsec_...]
                        a JSON receiver as Express's express.json() is: POST, PUT or
                        PATCH (others: 405), "Content-Type: application/json" (else 415
                        failure), a body json.loads accepts (else 400 failure). With
                        `secret`, the Standard Webhooks headers must verify against the
                        raw body's exact bytes (else 401 failure). -> {"status":
                        "success", "retval": {"method", "json": the parsed body,
                        "verified": whether a signature was checked}}.

Faults (/fault/<kind>; the connection is never reused afterwards):
    stall               reads the request, never answers, keeps the socket open until
                        the client closes it.
    headers-then-stall  200 status line and headers with Content-Length: 100, then
                        nothing until the client closes.
    drip?interval_ms=1500
                        valid headers at once, then the valid body
                        {"status": "success", "retval": "drip"} one byte per interval.
    truncate            Content-Length: 100, sends 10 bytes of the body, closes (FIN).
    reset               headers (Content-Length: 100) and 10 bytes of the body, then a
                        close with SO_LINGER 0, which sends an RST.
    close               closes (FIN) right after reading the request; no answer at all.
    garbage?bytes=512&seed=1
                        sends that many pseudo-random bytes (never starting with "H"),
                        then closes.
    huge-headers?kib=256
                        a success answer with one header "X-Huge: aaa..." of N KiB.
    huge-body?mib=64    {"status": "success", "retval": "xxx..."} whose retval is N MiB,
                        with Content-Length, produced lazily; stops when the client goes.
    huge-chunked?mib=64 the same, chunked (64 KiB chunks), no Content-Length.
    chunked-noend       chunked; one chunk holding {"status": "success", "retval":
                        "noend"}, never the last (zero) chunk; then stalls.
    deep?n=100000       {"status": "success", "retval": [[[...]]]} nested N deep.
    invalid-utf8        success JSON whose retval string holds invalid UTF-8 (a lone
                        0xff, a lone continuation byte, an overlong "/", a truncated
                        3-byte sequence). `tail=1`: additionally a lone UTF-8 lead byte
                        0xc3 as the very last byte of the body (after the closing brace).
    crafted-number      {"status":"success","retval":1.000000000000000000001e-2147483639}
    gzip                {"status": "success", "retval": "gzip"} gzip-compressed with
                        Content-Encoding: gzip, whatever the request's Accept-Encoding.
    gzip-bomb?mib=100   Content-Encoding: gzip body (about 1 KiB per MiB) that inflates
                        to {"status": "success", "retval": "aaa..."} of N MiB.
"""

import argparse
import ssl
import base64
import hashlib
import hmac
import asyncio
import gzip
import json
import random
import re
import resource
import signal
import socket
import struct
import sys
import zlib
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl

from server_lifecycle import watch_parent, write_port_file  # tests/servers/, beside this script

MIB = 1 << 20
STREAM_CHUNK = 64 * 1024
# Limits on what a client may send us; they only guard the test machine.
MAX_HEADER_BYTES = 1 * MIB
MAX_BODY_BYTES = 256 * MIB
# StreamReader line limit: request lines with long query strings must fit.
READER_LIMIT = 4 * MIB


class BadRequest(Exception):
    """The client sent something that is not HTTP/1.x; answer 400 and close."""


class BadArgument(Exception):
    """A route argument is missing or malformed; answer 400 with a failure body."""


# Returned by a route that has written to (or closed) the socket itself.
HANDLED = object()


@dataclass
class Stats:
    connections: int = 0
    open: int = 0
    max_open: int = 0  # the most open at once since the last reset
    requests: int = 0


STATS = Stats()


@dataclass
class Request:
    method: str
    target: str
    path: str
    query: str
    version: str
    headers: list  # [(lowercased name, value)] in arrival order
    body: bytes = b""
    query_args: list = field(default_factory=list)
    form_args: list = field(default_factory=list)

    def header(self, name, default=None):
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else default

    @property
    def args(self):
        return self.query_args + self.form_args

    def arg(self, name, default=None):
        value = default
        for k, v in self.args:
            if k == name:
                value = v
        return value

    def int_arg(self, name, default, minimum, maximum):
        raw = self.arg(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[+-]?[0-9]+", raw):
            raise BadArgument(f"{name} must be an integer, got {raw!r}")
        value = int(raw)
        if not minimum <= value <= maximum:
            raise BadArgument(f"{name} must be in [{minimum}, {maximum}], got {value}")
        return value

    @property
    def keep_alive(self):
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if "close" in tokens:
            return False
        return self.version == "HTTP/1.1" or "keep-alive" in tokens


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list = field(default_factory=list)  # extra [(name, value)]
    chunked: bool = False
    chunk_size: int = 8
    close: bool = False


def to_json(value):
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def success(retval):
    return Response(body=to_json({"status": "success", "retval": retval}))


def failure(reason, status=200):
    return Response(status=status, body=to_json({"status": "failure", "reason": reason}))


def status_line(status):
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"HTTP/1.1 {status} {phrase}\r\n"


def head_bytes(status, headers):
    lines = [status_line(status)]
    lines += [f"{name}: {value}\r\n" for name, value in headers]
    lines.append("\r\n")
    # latin-1: header bytes go out exactly as given (HTTP headers are not UTF-8).
    return "".join(lines).encode("latin-1")


def json_head(status=200, length=None, extra=(), chunked=False):
    headers = [("Server", "http_task-webhook-server"), ("Content-Type", "application/json")]
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    elif length is not None:
        headers.append(("Content-Length", str(length)))
    headers += list(extra)
    return head_bytes(status, headers)


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)




async def read_line(reader):
    try:
        return await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as e:
        raise BadRequest("line too long") from e


async def read_request(reader, writer):
    """Reads one request; None on a clean EOF between requests."""
    line = b"\r\n"
    # Tolerate stray empty lines between requests (RFC 9112 section 2.2).
    while line in (b"\r\n", b"\n"):
        try:
            line = await read_line(reader)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                raise
            return None
    parts = line.decode("latin-1").strip().split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"bad request line {line[:100]!r}")
    method, target, version = parts

    headers, total = [], 0
    while True:
        raw = await read_line(reader)
        total += len(raw)
        if total > MAX_HEADER_BYTES:
            raise BadRequest("request headers too large")
        if raw in (b"\r\n", b"\n"):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(f"bad header line {raw[:100]!r}")
        headers.append((name.lower(), value.strip()))

    if target.startswith(("http://", "https://")):  # absolute-form
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    path, _, query = target.partition("?")
    req = Request(method, target, path, query, version, headers)

    if (req.header("expect") or "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    req.body = await read_body(reader, req)

    req.query_args = parse_qsl(query, keep_blank_values=True, errors="replace")
    content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        req.form_args = parse_qsl(
            req.body.decode("utf-8", "replace"), keep_blank_values=True, errors="replace"
        )
    return req


async def read_body(reader, req):
    if "chunked" in (req.header("transfer-encoding") or "").lower():
        body = bytearray()
        while True:
            size_line = (await read_line(reader)).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as e:
                raise BadRequest(f"bad chunk size {size_line[:40]!r}") from e
            if size == 0:
                break
            if len(body) + size > MAX_BODY_BYTES:
                raise BadRequest("request body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        while (await read_line(reader)) not in (b"\r\n", b"\n"):  # trailers
            pass
        return bytes(body)
    length = req.header("content-length")
    if length is None:
        return b""
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise BadRequest(f"bad Content-Length {length!r}")
    return await reader.readexactly(int(length))




async def write_response(writer, req, resp, keep_alive):
    headers = [("Server", "http_task-webhook-server")]
    if resp.content_type:
        headers.append(("Content-Type", resp.content_type))
    no_body = resp.status in (204, 304)
    if resp.chunked and not no_body:
        headers.append(("Transfer-Encoding", "chunked"))
    elif not no_body:
        headers.append(("Content-Length", str(len(resp.body))))
    headers.append(("Connection", "keep-alive" if keep_alive else "close"))
    headers += resp.headers
    out = bytearray(head_bytes(resp.status, headers))
    if req.method != "HEAD" and not no_body:
        if resp.chunked:
            for i in range(0, len(resp.body), resp.chunk_size):
                out += chunk(resp.body[i : i + resp.chunk_size])
            out += b"0\r\n\r\n"
        else:
            out += resp.body
    writer.write(out)
    await writer.drain()


async def stream(writer, head, pieces):
    """Writes head then each piece, at the client's pace; stops once it is gone."""
    writer.write(head)
    await writer.drain()
    for piece in pieces:
        if writer.is_closing():
            return
        writer.write(piece)
        await writer.drain()


async def wait_for_eof(reader):
    """Keeps a connection open, discarding input, until the client closes it."""
    while await reader.read(STREAM_CHUNK):
        pass


def close_with_rst(writer):
    sock = writer.get_extra_info("socket")
    # SO_LINGER on with a zero timeout: close() discards the socket and sends RST.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()




async def route_multiply(req, reader, writer):
    if req.method not in ("GET", "POST"):
        resp = failure(f"method {req.method} not allowed", status=405)
        resp.headers.append(("Allow", "GET, POST"))
        return resp
    values = []
    for name in ("x", "y"):
        raw = req.arg(name)
        if raw is None:
            return failure(f"missing argument {name}")
        if not re.fullmatch(r"[+-]?[0-9]+", raw.strip()):
            return failure(f"argument {name} is not an integer: {raw!r}")
        values.append(int(raw))
    return success(values[0] * values[1])


async def route_echo(req, reader, writer):
    headers = {}
    for name, value in req.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return success(
        {
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "args": [list(kv) for kv in req.args],
            "query_args": [list(kv) for kv in req.query_args],
            "form_args": [list(kv) for kv in req.form_args],
            "body": req.body.decode("utf-8", "replace"),
            "headers": headers,
        }
    )


async def route_answer(req, reader, writer):
    body_hex = req.arg("body_hex")
    if body_hex is not None:
        try:
            body = bytes.fromhex(body_hex)
        except ValueError as e:
            raise BadArgument(f"body_hex is not hex: {e}") from e
    else:
        body = req.arg("body", "").encode("utf-8")
    extra = []
    for name, value in req.args:
        if name == "header":
            key, sep, val = value.partition(":")
            if not sep or not key.strip():
                raise BadArgument(f"header must be 'Name: value', got {value!r}")
            extra.append((key.strip(), val.strip()))
    return Response(
        status=req.int_arg("status", 200, 200, 599),
        body=body,
        content_type=req.arg("content_type", "application/json"),
        headers=extra,
        chunked=req.arg("chunked") == "1",
        chunk_size=req.int_arg("chunk_size", 8, 1, MIB),
    )


async def route_slow(req, reader, writer):
    await asyncio.sleep(req.int_arg("ms", 1000, 0, 3_600_000) / 1000)
    return success("slow")


def redirect(location, code):
    resp = failure(f"redirect to {location} not followed", status=code)
    resp.headers.append(("Location", location))
    return resp


async def route_redirect(req, reader, writer):
    to = req.arg("to")
    if not to:
        raise BadArgument("missing argument to")
    return redirect(to, req.int_arg("code", 302, 300, 399))


async def route_redirect_chain(req, reader, writer):
    n = req.int_arg("n", 1, 0, 1000)
    left = req.int_arg("left", n, 0, n)
    code = req.int_arg("code", 302, 300, 399)
    if left == 0:
        return success(n)
    suffix = f"&code={code}" if req.arg("code") is not None else ""
    return redirect(f"/redirect-chain?n={n}&left={left - 1}{suffix}", code)


FLAKY = {}


async def route_flaky(req, reader, writer):
    key = req.arg("key")
    if not key:
        raise BadArgument("missing argument key")
    seen = FLAKY.setdefault(key, [])
    seen.append({name: value for name, value in req.headers
                 if name in ("webhook-timestamp", "webhook-signature")})
    if len(seen) <= req.int_arg("fail", 1, 0, 1000):
        if req.arg("mode", "status") == "close":
            writer.close()
            return HANDLED
        resp = failure(f"flaky failure {len(seen)}", status=req.int_arg("status", 503, 200, 599))
        if req.arg("retry_after") is not None:
            resp.headers.append(("Retry-After", req.arg("retry_after")))
        return resp
    return success({"attempt": len(seen), "seen": seen})


GATES = {}


async def route_gate(req, reader, writer):
    key = req.arg("key")
    if not key:
        raise BadArgument("missing argument key")
    n = req.int_arg("n", 2, 1, 1_000_000)
    timeout = req.int_arg("timeout_ms", 60_000, 0, 3_600_000) / 1000
    gate = GATES.setdefault(key, {"waiting": 0, "open": asyncio.Event()})
    gate["waiting"] += 1
    if gate["waiting"] >= n:
        gate["open"].set()
    try:
        await asyncio.wait_for(gate["open"].wait(), timeout)
    except asyncio.TimeoutError:
        return failure(f"gate {key}: {gate['waiting']} of {n} came")
    finally:
        gate["waiting"] -= 1
    return success("open")


async def route_stats(req, reader, writer):
    return success(
        {
            "connections": STATS.connections,
            "open": STATS.open,
            "max_open": STATS.max_open,
            "requests": STATS.requests,
        }
    )


async def route_stats_reset(req, reader, writer):
    STATS.connections = 0
    STATS.max_open = STATS.open
    STATS.requests = 0
    return await route_stats(req, reader, writer)



DRIP_BODY = b'{"status": "success", "retval": "drip"}'


async def fault_stall(req, reader, writer):
    await wait_for_eof(reader)
    return HANDLED


async def fault_headers_then_stall(req, reader, writer):
    writer.write(json_head(length=100))
    await writer.drain()
    await wait_for_eof(reader)
    return HANDLED


async def fault_drip(req, reader, writer):
    interval = req.int_arg("interval_ms", 1500, 0, 3_600_000) / 1000
    writer.write(json_head(length=len(DRIP_BODY)))
    for i in range(len(DRIP_BODY)):
        await writer.drain()
        await asyncio.sleep(interval)
        if writer.is_closing():
            break
        writer.write(DRIP_BODY[i : i + 1])
    await writer.drain()
    return HANDLED


async def fault_truncate(req, reader, writer):
    writer.write(json_head(length=100) + b'{"status":')
    await writer.drain()
    writer.close()
    return HANDLED


async def fault_reset(req, reader, writer):
    writer.write(json_head(length=100) + b'{"status":')
    await writer.drain()
    # Give the client a moment to read the headers, so the RST lands mid-body
    # rather than before the client has seen anything.
    await asyncio.sleep(0.05)
    close_with_rst(writer)
    return HANDLED


async def fault_close(req, reader, writer):
    writer.close()
    return HANDLED


async def fault_garbage(req, reader, writer):
    size = req.int_arg("bytes", 512, 1, 64 * MIB)
    data = bytearray(random.Random(req.int_arg("seed", 1, 0, 2**31)).randbytes(size))
    # A first byte of "H" could start something that looks like "HTTP/".
    if data[0] == ord("H"):
        data[0] = 0
    writer.write(bytes(data))
    await writer.drain()
    writer.close()
    return HANDLED


async def fault_huge_headers(req, reader, writer):
    kib = req.int_arg("kib", 256, 0, 64 * 1024)
    resp = success("huge-headers")
    resp.headers.append(("X-Huge", "a" * (kib * 1024)))
    resp.close = True
    return resp


HUGE_PREFIX = b'{"status": "success", "retval": "'
HUGE_SUFFIX = b'"}'


def huge_pieces(mib):
    """The huge success body, lazily: it is never held in memory as a whole."""
    yield HUGE_PREFIX
    block = b"x" * STREAM_CHUNK
    for _ in range(mib * MIB // STREAM_CHUNK):
        yield block
    yield HUGE_SUFFIX


async def fault_huge_body(req, reader, writer):
    mib = req.int_arg("mib", 64, 0, 1024 * 1024)
    length = len(HUGE_PREFIX) + mib * MIB + len(HUGE_SUFFIX)
    await stream(writer, json_head(length=length), huge_pieces(mib))
    return HANDLED


async def fault_huge_chunked(req, reader, writer):
    mib = req.int_arg("mib", 64, 0, 1024 * 1024)
    chunks = (chunk(piece) for piece in huge_pieces(mib))
    await stream(writer, json_head(chunked=True), chunks)
    if not writer.is_closing():
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    return HANDLED


async def fault_chunked_noend(req, reader, writer):
    writer.write(json_head(chunked=True) + chunk(b'{"status": "success", "retval": "noend"}'))
    await writer.drain()
    await wait_for_eof(reader)
    return HANDLED


async def fault_deep(req, reader, writer):
    n = req.int_arg("n", 100_000, 0, 64 * MIB)
    body = b'{"status":"success","retval":' + b"[" * n + b"]" * n + b"}"
    return Response(body=body, close=True)


async def fault_invalid_utf8(req, reader, writer):
    body = b'{"status":"success","retval":"bad\xff bytes\x80 here\xc0\xaf and\xe2\x82"}'
    if req.arg("tail") == "1":
        body += b"\xc3"
    return Response(body=body, close=True)


async def fault_crafted_number(req, reader, writer):
    return Response(
        body=b'{"status":"success","retval":1.000000000000000000001e-2147483639}', close=True
    )


async def fault_gzip(req, reader, writer):
    body = gzip.compress(b'{"status": "success", "retval": "gzip"}', mtime=0)
    return Response(body=body, headers=[("Content-Encoding", "gzip")], close=True)


GZIP_BOMBS = {}  # mib -> compressed bytes


def build_gzip_bomb(mib):
    """Gzip of a success JSON whose retval is ~mib MiB of "a", in O(compressed size).

    After a full flush the deflate dictionary is empty, so compressing the same 1 MiB
    block again yields the same bytes: compress it once and repeat it. Only the CRC has
    to see every inflated byte (about 0.5 s per GiB).
    """
    prefix = b'{"status": "success", "retval": "'
    suffix = b'"}'
    block = b"a" * MIB
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; gzip framing by hand
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    packed_block = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.compress(suffix) + deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + mib * MIB + len(suffix)
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return gzip_header + head + packed_block * mib + tail + trailer


async def fault_gzip_bomb(req, reader, writer):
    mib = req.int_arg("mib", 100, 0, 64 * 1024)
    if mib not in GZIP_BOMBS:
        GZIP_BOMBS[mib] = await asyncio.get_running_loop().run_in_executor(
            None, build_gzip_bomb, mib
        )
    return Response(body=GZIP_BOMBS[mib], headers=[("Content-Encoding", "gzip")], close=True)


def standard_webhooks_valid(secret, req):
    """The Standard Webhooks check of the raw body, as a receiver does it."""
    msg_id = req.header("webhook-id")
    timestamp = req.header("webhook-timestamp")
    signatures = req.header("webhook-signature")
    if not (secret.startswith("whsec_") and msg_id and timestamp and signatures):
        return False
    key = base64.b64decode(secret[len("whsec_"):])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + req.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", s) for s in signatures.split(" "))


async def route_json(req, reader, writer):
    if req.method not in ("POST", "PUT", "PATCH"):
        return failure(f"method {req.method} not allowed", status=405)
    content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return failure(f"expected Content-Type application/json, got {content_type!r}", 415)
    secret = dict(req.query_args).get("secret")
    if secret is not None and not standard_webhooks_valid(secret, req):
        return failure("webhook signature does not verify", status=401)
    try:
        body = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return failure(f"invalid JSON body: {e}", status=400)
    return success({"method": req.method, "json": body, "verified": secret is not None})


ROUTES = {
    "/json": route_json,
    "/multiply": route_multiply,
    "/echo": route_echo,
    "/answer": route_answer,
    "/slow": route_slow,
    "/redirect": route_redirect,
    "/redirect-chain": route_redirect_chain,
    "/stats": route_stats,
    "/stats/reset": route_stats_reset,
    "/flaky": route_flaky,
    "/gate": route_gate,
    "/fault/stall": fault_stall,
    "/fault/headers-then-stall": fault_headers_then_stall,
    "/fault/drip": fault_drip,
    "/fault/truncate": fault_truncate,
    "/fault/reset": fault_reset,
    "/fault/close": fault_close,
    "/fault/garbage": fault_garbage,
    "/fault/huge-headers": fault_huge_headers,
    "/fault/huge-body": fault_huge_body,
    "/fault/huge-chunked": fault_huge_chunked,
    "/fault/chunked-noend": fault_chunked_noend,
    "/fault/deep": fault_deep,
    "/fault/invalid-utf8": fault_invalid_utf8,
    "/fault/crafted-number": fault_crafted_number,
    "/fault/gzip": fault_gzip,
    "/fault/gzip-bomb": fault_gzip_bomb,
}


async def dispatch(req, reader, writer):
    # Trailing slashes are ignored so "/multiply/" works like "/multiply".
    route = ROUTES.get(req.path.rstrip("/") or "/")
    if route is None:
        return failure(f"no route for {req.path}", status=404)
    try:
        resp = await route(req, reader, writer)
    except BadArgument as e:
        return failure(str(e), status=400)
    # After a fault the connection is never reused, so each fault test starts clean.
    if req.path.startswith("/fault/") and resp is not HANDLED:
        resp.close = True
    return resp




async def handle_connection(reader, writer):
    STATS.connections += 1
    STATS.open += 1
    STATS.max_open = max(STATS.max_open, STATS.open)
    try:
        while True:
            try:
                req = await read_request(reader, writer)
            except BadRequest as e:
                resp = failure(str(e), status=400)
                req = Request("GET", "/", "/", "", "HTTP/1.1", [])
                await write_response(writer, req, resp, keep_alive=False)
                break
            if req is None:
                break
            STATS.requests += 1
            try:
                resp = await dispatch(req, reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                raise
            except Exception as e:  # a bug here must show up as an answer, not a hang
                print(f"webhook_server: {req.method} {req.target}: {e!r}", file=sys.stderr)
                resp = failure(f"server error: {e!r}", status=500)
                resp.close = True
            if resp is HANDLED:
                break
            keep_alive = req.keep_alive and not resp.close
            await write_response(writer, req, resp, keep_alive)
            if not keep_alive:
                break
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        pass  # the client went away: normal for timeouts and cancellations
    finally:
        STATS.open -= 1
        writer.close()




def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main(args):
    raise_fd_limit()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            tls.verify_mode = ssl.CERT_REQUIRED
            tls.load_verify_locations(args.tls_client_ca)
    server = await asyncio.start_server(
        handle_connection, args.host, args.port, backlog=4096, limit=READER_LIMIT, ssl=tls
    )
    unix_server = None
    if args.unix:
        # The same handlers on a Unix domain socket as well, for the Unix socket tests;
        # the TCP port is still written, as it tells the test the server is ready.
        unix_server = await asyncio.start_unix_server(
            handle_connection, path=args.unix, limit=READER_LIMIT
        )
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    else:
        print(port, flush=True)

    if args.parent_pid:
        asyncio.create_task(watch_parent(args.parent_pid, stop))
    await stop.wait()
    server.close()
    if unix_server:
        unix_server.close()
    # Exiting does not wait for open connections (stalled ones would never finish);
    # asyncio.run cancels every remaining handler.


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--tls-client-ca")
    parser.add_argument("--unix", help="also listen on this Unix domain socket path")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args(sys.argv[1:])))
