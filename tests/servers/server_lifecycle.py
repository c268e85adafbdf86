# SPDX-License-Identifier: MIT
"""What every test server of the project shares: its port told through a file written at
once (tests/support/server_process.hpp waits for it), and its end when the test process
that started it is gone, so that no server outlives a killed test run."""
import asyncio
import os


def write_port_file(path, port):
    # Written aside, then renamed: the reader never sees a half-written port.
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def parent_alive(parent_pid, original_ppid):
    # Our parent's death reparents us; checking getppid() as well also covers a dead
    # parent that is still an unreaped zombie (kill(pid, 0) succeeds on zombies).
    if parent_pid == original_ppid and os.getppid() != original_ppid:
        return False
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    return True


async def watch_parent(parent_pid, stop):
    """For asyncio servers: sets `stop` once parent_pid is gone."""
    original_ppid = os.getppid()
    while parent_alive(parent_pid, original_ppid):
        await asyncio.sleep(0.5)
    stop.set()
