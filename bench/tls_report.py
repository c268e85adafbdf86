#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The https / h2 stage's table (bench/run.sh --only tls): tls.jsonl -> markdown on stdout.

    tls_report.py tls.jsonl "machine line"
"""
import json
import sys


def main(path, machine):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by = {(r["proto"], r["concurrency"], r["client"]): r for r in rows}
    out = [
        "Command: `bench/run.sh --only tls`. Machine: " + machine + ".",
        "",
        "| protocol | in flight | client | req/s | x raw_epoll | CPU µs/call | connections "
        "| full / resumed handshakes | peak RSS MiB | threads | failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        raw = by.get((r["proto"], r["concurrency"], "raw_epoll"))
        ratio = ""
        if raw and raw.get("req_per_s") and r["client"] != "raw_epoll":
            ratio = "%.2f" % (r["req_per_s"] / raw["req_per_s"])
        out.append(
            "| %s | %s | %s | %.0f | %s | %.1f | %d | %d / %d | %.0f | %d | %d |"
            % (
                "HTTP/1.1" if r["proto"] == "http1" else "h2",
                "{:,}".format(r["concurrency"]),
                r["client"],
                r.get("req_per_s", 0),
                ratio,
                r.get("cpu_us_per_call", 0),
                r.get("connections", 0),
                r.get("full_handshakes", 0),
                r.get("resumed", 0),
                r.get("peak_rss_kib", 0) / 1024,
                r.get("max_threads", 0),
                r.get("failed", 0),
            )
        )
    h1 = by.get(("http1", 1024, "http_task"))
    h2 = by.get(("h2", 1024, "http_task"))
    if h1 and h2 and h1.get("req_per_s"):
        out += ["", "h2 / HTTP/1.1 req/s of http_task at 1,024 in flight: %.2f (target 1.3)."
                % (h2["req_per_s"] / h1["req_per_s"])]
    h2_10k = by.get(("h2", 10000, "http_task"))
    raw_10k = by.get(("http1", 10000, "raw_epoll"))
    if h2_10k and raw_10k and raw_10k.get("peak_rss_kib"):
        out.append(
            "Peak RSS of http_task over h2 at 10,000 in flight / raw_epoll's over HTTP/1.1: "
            "%.2f (target 0.6); its connections: %d (target at most 100)."
            % (h2_10k["peak_rss_kib"] / raw_10k["peak_rss_kib"], h2_10k.get("connections", 0))
        )
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
