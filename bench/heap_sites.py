#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the heap held at bench_clients' --heap-at snapshot, and who allocated it.

usage: heap_sites.py TRACE RESULT_LINE_FILE KIND

TRACE is glibc's malloc trace of the run (MALLOC_TRACE, with libc_malloc_debug.so.0
preloaded), in which bench_clients marked the snapshot with one allocation of MARK_BYTES;
RESULT_LINE_FILE holds bench_clients' JSON line.
Prints that line as a JSON line of kind KIND with the bytes still allocated per call, by
the library that asked for them, and the five largest (size, count) groups.

Each trace line names one caller frame. libcurl's own allocations name libcurl; its
copies of option strings and header lines go through strdup, which names libc and is
counted with libcurl (neither http_task nor the bench client calls strdup); operator
new names libstdc++: http_task's state per call, and the bench client's own containers.
"""
import collections
import json
import sys


MARK_BYTES = 0x1eaf5ee  # bench_clients.cpp: HeapSnapshot::kMarkBytes


def owner(caller):
    if "libcurl" in caller or "strdup" in caller:
        return "libcurl"
    if "libstdc++" in caller:
        return "operator new"
    return "other"


def main():
    trace, line_file, kind = sys.argv[1:4]
    result = json.loads(open(line_file).read().strip().splitlines()[-1])
    live = {}
    with open(trace, errors="replace") as f:
        for line in f:
            p = line.split()
            if len(p) < 4 or p[0] != "@":
                continue
            op, address = p[2], p[3]
            if op == "+" and len(p) >= 5 and int(p[4], 16) == MARK_BYTES:
                break
            if op in ("+", ">") and len(p) >= 5:
                live[address] = (owner(p[1]), int(p[4], 16))
            elif op in ("-", "<"):
                live.pop(address, None)
        else:
            sys.exit(f"heap_sites.py: no snapshot mark in {trace}")
    calls = max(1, result.get("ok", 0) + result.get("failed", 0))
    by_owner = collections.Counter()
    groups = collections.Counter()
    for who, size in live.values():
        by_owner[who] += size
        groups[(who, size)] += 1
    largest = sorted(groups.items(), key=lambda kv: -kv[0][1] * kv[1])[:5]
    result.update({
        "kind": kind,
        "calls": calls,
        "allocations_per_call": round(len(live) / calls, 1),
        "bytes_per_call": {who: round(b / calls) for who, b in by_owner.items()},
        "largest": [{"owner": who, "size": size, "count": n} for (who, size), n in largest],
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
