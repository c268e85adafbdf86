#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A SOCKS5 proxy (RFC 1928, CONNECT only) with username/password authentication (RFC 1929).

    socks5_server.py [--host 127.0.0.1] [--port 0] [--user U --password P]
                     [--port-file PATH] [--parent-pid N]

Runs under /usr/bin/python3 with the standard library only. It exists because dante's
username method checks system users, which a test must not create.

--port 0        pick a free port.
--user/--password
                require method 0x02 (RFC 1929) with exactly these credentials; a client
                offering only 0x00 (no authentication) is refused with 0xFF. Without
                them, only 0x00 is accepted.
--port-file     once listening, the port is written to PATH.tmp, then renamed to PATH
                (readers never see a half-written file). Without it, the port is printed
                on stdout.
--parent-pid    exit once that process is gone.

Address types: IPv4 (0x01), domain name (0x03, resolved here: socks5h) and IPv6 (0x04).
Commands other than CONNECT are answered 0x07 (command not supported).

One line per event on stderr, for the tests to count:
    socks5_server: CONNECT <ipv4|domain|ipv6> <host> <port> user=<name>   (relayed)
    socks5_server: REFUSED <reason>                                        (not relayed)
"""
import argparse
import asyncio
import hmac
import ipaddress
import signal
import socket
import sys

from server_lifecycle import watch_parent, write_port_file  # tests/servers/, beside this script

ARGS = None

ATYP_NAMES = {1: "ipv4", 3: "domain", 4: "ipv6"}


# Each line is written before the reply it describes: a test that reads the log as soon
# as its call has ended then finds the line there.
def log(line):
    print(f"socks5_server: {line}", file=sys.stderr, flush=True)


def reply(code, bound=None):
    """An RFC 1928 reply; `bound` is the (host, port) of the relay's outgoing socket."""
    if bound is None:
        return bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0])
    addr = ipaddress.ip_address(bound[0].split("%")[0])
    atyp = 1 if addr.version == 4 else 4
    return bytes([5, code, 0, atyp]) + addr.packed + bound[1].to_bytes(2, "big")


def same(given, expected):
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


async def negotiate(reader, writer):
    """Method selection and, with credentials, RFC 1929. Returns the user name or None."""
    version, count = await reader.readexactly(2)
    if version != 5:
        log(f"REFUSED version {version}")
        return None
    methods = await reader.readexactly(count)
    wanted = 2 if ARGS.user is not None else 0
    if wanted not in methods:
        log(f"REFUSED no acceptable method (offered {list(methods)}, wanted {wanted})")
        writer.write(bytes([5, 0xFF]))
        await writer.drain()
        return None
    writer.write(bytes([5, wanted]))
    await writer.drain()
    if wanted == 0:
        return ""
    sub_version, user_len = await reader.readexactly(2)
    user = (await reader.readexactly(user_len)).decode("utf-8", "surrogateescape")
    (password_len,) = await reader.readexactly(1)
    password = (await reader.readexactly(password_len)).decode("utf-8", "surrogateescape")
    # Both compared, whatever the first gives: no early exit.
    ok = sub_version == 1
    ok = same(user, ARGS.user) & same(password, ARGS.password) & ok
    if not ok:
        log(f"REFUSED bad credentials user={user}")
    writer.write(bytes([1, 0 if ok else 1]))
    await writer.drain()
    if not ok:
        return None
    return user


async def read_target(reader):
    """The CONNECT request's address: (command, atyp, host, port)."""
    version, command, _reserved, atyp = await reader.readexactly(4)
    if version != 5:
        raise ValueError(f"request version {version}")
    if atyp == 1:
        host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
    elif atyp == 4:
        host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
    elif atyp == 3:
        (length,) = await reader.readexactly(1)
        host = (await reader.readexactly(length)).decode("idna")
    else:
        raise ValueError(f"address type {atyp}")
    port = int.from_bytes(await reader.readexactly(2), "big")
    return command, atyp, host, port


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass


async def handle_client(reader, writer):
    upstream_writer = None
    try:
        user = await negotiate(reader, writer)
        if user is None:
            return
        try:
            command, atyp, host, port = await read_target(reader)
        except ValueError as e:
            log(f"REFUSED {e}")
            writer.write(reply(8))  # address type not supported
            await writer.drain()
            return
        if command != 1:
            log(f"REFUSED command {command} to {host} {port}")
            writer.write(reply(7))  # command not supported
            await writer.drain()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError as e:
            log(f"REFUSED cannot reach {host} {port}: {e}")
            writer.write(reply(5 if isinstance(e, ConnectionRefusedError) else 4))
            await writer.drain()
            return
        bound = upstream_writer.get_extra_info("sockname")
        log(f"CONNECT {ATYP_NAMES[atyp]} {host} {port} user={user}")
        writer.write(reply(0, bound[:2]))
        await writer.drain()
        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
    except (asyncio.IncompleteReadError, ConnectionError, OSError):
        pass
    finally:
        for w in (upstream_writer, writer):
            if w is not None:
                w.close()


async def main():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await asyncio.start_server(
        handle_client, ARGS.host, ARGS.port, family=socket.AF_UNSPEC
    )
    port = server.sockets[0].getsockname()[1]
    if ARGS.port_file:
        write_port_file(ARGS.port_file, port)
    else:
        print(port, flush=True)
    if ARGS.parent_pid:
        asyncio.create_task(watch_parent(ARGS.parent_pid, stop))
    await stop.wait()
    server.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--port-file")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    return args


if __name__ == "__main__":
    ARGS = parse_args(sys.argv[1:])
    asyncio.run(main())
