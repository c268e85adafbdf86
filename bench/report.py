#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns bench/run.sh's results.jsonl into results.md, throughput.png (gnuplot) and the
results section of bench/README.md (between the results:begin/end markers)."""
import argparse
import json
import os
import statistics
import subprocess

CLIENTS = ["http_task", "raw_epoll", "raw_poll", "threads", "sequential", "http_task_then",
           "http_task_inline", "http_task_pool", "cpr_model", "cpr_defaults"]
CONCURRENCY = [1, 16, 128, 1024]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def median(values):
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def throughput_tables(rows):
    tp = {}
    for r in rows:
        if r["kind"] == "throughput" and r.get("failed", 1) == 0:
            tp.setdefault((r["method"], r["concurrency"], r["client"]), []).append(r)
    rps = {k: median([r["req_per_s"] for r in v]) for k, v in tp.items()}
    cpu = {k: median([r["cpu_us_per_call"] for r in v]) for k, v in tp.items()}
    lines = [
        "| method | in flight | " + " | ".join(CLIENTS) +
        " | http_task / raw_epoll | http_task / best raw | http_task / threads"
        " | http_task / cpr_model | http_task / cpr_defaults | http_task_inline / raw_epoll |",
        "|---|---:|" + "---:|" * (len(CLIENTS) + 6),
    ]
    checks = []
    for method in ["GET", "POST"]:
        for c in CONCURRENCY:
            vals = [rps.get((method, c, cl)) for cl in CLIENTS]
            h, re, rp, th, hi, cm, cd = (vals[0], vals[1], vals[2], vals[3], vals[6], vals[8],
                                         vals[9])
            best_raw = max([v for v in (re, rp) if v is not None], default=None)
            lines.append(f"| {method} | {c} | " + " | ".join(fmt(v) for v in vals) +
                         f" | {fmt(ratio(h, re), 2)} | {fmt(ratio(h, best_raw), 2)} |"
                         f" {fmt(ratio(h, th), 2)} | {fmt(ratio(h, cm), 2)} |"
                         f" {fmt(ratio(h, cd), 2)} | {fmt(ratio(hi, re), 2)} |")
            checks.append((method, c, ratio(h, re), ratio(h, best_raw), ratio(h, th),
                           ratio(hi, re), ratio(h, cm), ratio(h, cd)))
    cpu_lines = [
        "| method | in flight | " + " | ".join(CLIENTS) + " | http_task / raw_epoll |",
        "|---|---:|" + "---:|" * (len(CLIENTS) + 1),
    ]
    for method in ["GET", "POST"]:
        for c in CONCURRENCY:
            vals = [cpu.get((method, c, cl)) for cl in CLIENTS]
            cpu_lines.append(f"| {method} | {c} | " + " | ".join(fmt(v, 1) for v in vals) +
                             f" | {fmt(ratio(vals[0], vals[1]), 2)} |")
    return rps, lines, cpu_lines, checks


def plot(rps, out):
    data = os.path.join(out, "throughput.dat")
    with open(data, "w") as f:
        for method in ["GET", "POST"]:
            f.write(f"# {method}\n# concurrency " + " ".join(CLIENTS) + "\n")
            for c in CONCURRENCY:
                vals = [rps.get((method, c, cl)) for cl in CLIENTS]
                f.write(f"{c} " + " ".join("NaN" if v is None else f"{v:.1f}" for v in vals) + "\n")
            f.write("\n\n")
    png = os.path.join(out, "throughput.png")
    plots = []
    for block, method in enumerate(["GET", "POST"]):
        series = ", ".join(
            f"'{data}' index {block} using 1:{i + 2} with linespoints lw 2 title '{cl}'"
            for i, cl in enumerate(CLIENTS))
        plots.append(f"set title 'req/s, {method} (same run, median)'; plot {series}")
    # Plain text (client names have underscores, which enhanced text reads as
    # subscripts), and a colour of its own for each client: gnuplot's default cycle has 8.
    colours = ["#000000", "#e41a1c", "#ff7f00", "#377eb8", "#999999", "#4daf4a", "#984ea3",
               "#a65628", "#f781bf", "#17becf"]
    script = "\n".join([
        "set terminal pngcairo size 1400,520 font 'Sans,10' noenhanced",
        f"set output '{png}'",
        *(f"set linetype {i + 1} lc rgb '{c}'" for i, c in enumerate(colours)),
        "set multiplot layout 1,2",
        "set logscale x 2", "set xtics (1, 16, 128, 1024)", "set xrange [0.8:1300]",
        "set xlabel 'calls in flight'", "set ylabel 'requests per second'",
        "set yrange [0:*]", "set key outside right top", "set grid",
        plots[0], plots[1], "unset multiplot",
    ])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return png


def slow_table(rows):
    lines = ["| calls (all in flight) | client | ok | failed | wall s | peak RSS MiB | threads |"
             " wall / raw_epoll | RSS / raw_epoll |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    by = {(r["concurrency"], r["client"]): r for r in rows if r["kind"] == "slow"}
    checks = []
    for n in sorted({k[0] for k in by}):
        raw = by.get((n, "raw_epoll"))
        for cl in ["http_task", "raw_epoll", "raw_poll", "threads", "cpr_defaults"]:
            r = by.get((n, cl))
            if not r:
                continue
            wall_ratio = ratio(r.get("wall_s"), raw and raw.get("wall_s"))
            rss_ratio = ratio(r.get("peak_rss_kib"), raw and raw.get("peak_rss_kib"))
            lines.append(f"| {n:,} | {cl} | {r.get('ok', 0):,} | {r.get('failed')} | "
                         f"{fmt(r.get('wall_s'), 2)} | {fmt(r.get('peak_rss_kib', 0) / 1024, 1)} | "
                         f"{r.get('max_threads', '–')} | {fmt(wall_ratio, 2)} | {fmt(rss_ratio, 2)} |")
            if cl == "http_task":
                checks.append((n, r, wall_ratio, rss_ratio))
    return lines, checks


def heap_table(rows):
    """Bytes still allocated per call with every call in flight (heap_sites.py)."""
    heap = {r["client"]: r for r in rows if r["kind"] == "heap"}
    if not heap:
        return []
    lines = ["| client | calls in flight | libcurl B/call | operator new B/call | allocations per call |"
             " heap in use MiB | RSS MiB | largest groups (bytes × count) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for cl in ["http_task", "raw_epoll"]:
        r = heap.get(cl)
        if not r:
            continue
        b = r.get("bytes_per_call", {})
        largest = ", ".join(f"{g['size']:,} × {g['count']:,}" for g in r.get("largest", [])[:4])
        ended = r.get("calls_ended_at_heap", 0)
        note = f" ({ended:,} had ended)" if ended else ""
        lines.append(f"| {cl} | {r.get('calls', 0):,}{note} | {b.get('libcurl', 0):,} | "
                     f"{b.get('operator new', 0):,} | {r.get('allocations_per_call', '–')} | "
                     f"{fmt(r.get('heap_in_use_kib', 0) / 1024, 1)} | "
                     f"{fmt(r.get('rss_at_heap_kib', 0) / 1024, 1)} | {largest} |")
    return lines


def instruction_table(rows):
    """Median over the repetitions of each client's per-call count, with the spread."""
    runs = {}
    for r in rows:
        if r["kind"] == "instructions":
            per_call = (r["ir_large"] - r["ir_small"]) / (r["calls_large"] - r["calls_small"])
            runs.setdefault(r["client"], []).append(per_call)
    per = {cl: median(v) for cl, v in runs.items()}
    lines = ["| client | instructions per call (median) | lowest – highest | / raw_epoll |",
             "|---|---:|---:|---:|"]
    for cl in CLIENTS:
        if cl in per:
            lines.append(f"| {cl} | {fmt(per[cl])} | {fmt(min(runs[cl]))} – {fmt(max(runs[cl]))} |"
                         f" {fmt(ratio(per[cl], per.get('raw_epoll')), 2)} |")
    note = ""
    ins = [r for r in rows if r["kind"] == "instructions"]
    if ins:
        r = ins[0]
        reps = max(len(v) for v in runs.values())
        note = (f"callgrind, GET, 16 in flight, ({r['calls_large']:,} calls − {r['calls_small']:,} calls)"
                f" / {r['calls_large'] - r['calls_small']:,}, {reps} runs per client, one at a time;"
                " whole process, all threads, user space.")
    return per, lines, note


def paired_table(rows):
    """http_task / raw_epoll from back-to-back pairs (run.sh's pair section): per cell, the
    median of the pair ratios and their range. Records come in pairs, in run order."""
    runs = {}
    for r in rows:
        if r["kind"] == "pair":
            runs.setdefault((r["method"], r["concurrency"]), []).append(r)
    lines = ["| method | in flight | pairs | http_task / raw_epoll, req/s (median) | lowest – highest |"
             " CPU per call (median) |", "|---|---:|---:|---:|---:|---:|"]
    medians = {}
    for (method, c), recs in sorted(runs.items(), key=lambda kv: (kv[0][0] != "GET", kv[0][1])):
        rps_ratios, cpu_ratios = [], []
        for a, b in zip(recs[0::2], recs[1::2]):
            pair = {a["client"]: a, b["client"]: b}
            h, w = pair.get("http_task"), pair.get("raw_epoll")
            if not h or not w or h.get("failed", 1) != 0 or w.get("failed", 1) != 0:
                continue
            rps_ratios.append(ratio(h["req_per_s"], w["req_per_s"]))
            cpu_ratios.append(ratio(h["cpu_us_per_call"], w["cpu_us_per_call"]))
        if not rps_ratios:
            continue
        medians[(method, c)] = median(rps_ratios)
        lines.append(f"| {method} | {c} | {len(rps_ratios)} | {fmt(median(rps_ratios), 2)} | "
                     f"{fmt(min(rps_ratios), 2)} – {fmt(max(rps_ratios), 2)} | "
                     f"{fmt(median(cpu_ratios), 2)} |")
    return medians, (lines if medians else [])


def spread_table(rows):
    """N calls in flight finishing a few at a time: what each loop design costs."""
    by = {(r["concurrency"], r["client"]): r for r in rows if r["kind"] == "spread"}
    lines = ["| calls (all in flight) | client | ok | failed | CPU µs per call | of which system |"
             " / raw_epoll |", "|---:|---|---:|---:|---:|---:|---:|"]
    for n, cl in sorted(by, key=lambda k: (k[0], ["raw_epoll", "raw_poll", "http_task"].index(k[1]))):
        r, raw = by[(n, cl)], by.get((n, "raw_epoll"))
        lines.append(f"| {n:,} | {cl} | {r.get('ok', 0):,} | {r.get('failed')} | "
                     f"{fmt(r.get('cpu_us_per_call'), 1)} | {fmt(r.get('sys_us_per_call'), 1)} | "
                     f"{fmt(ratio(r.get('cpu_us_per_call'), raw and raw.get('cpu_us_per_call')), 2)} |")
    return lines if len(lines) > 2 else []


def decoder_table(rows):
    lines = ["| answer | bytes | ns per answer | MB/s |", "|---|---:|---:|---:|"]
    for r in rows:
        if r["kind"] == "decoder":
            lines.append(f"| {r['answer']} | {r['bytes']} | {fmt(r['ns_per_answer'])} | "
                         f"{fmt(r['mb_per_s'], 1)} |")
    return lines


def buffer_table(rows):
    """http_task with its 1 KiB receive buffer against libcurl's 16 KiB, same run."""
    def med(kind, key):
        return median([r[key] for r in rows if r["kind"] == kind and r.get("failed", 1) == 0])
    lines = ["| case | http_task, default (1 KiB, following the last answer) | http_task, 16 KiB | default / 16 KiB | raw_epoll (16 KiB) |",
             "|---|---:|---:|---:|---:|"]
    for key, label, digits in (("req_per_s", "64 KiB answers, 16 in flight: req/s", 0),
                               ("cpu_us_per_call", "64 KiB answers, 16 in flight: CPU µs per call", 1)):
        small, large, raw = med("buffer_1k", key), med("buffer_16k", key), med("buffer_raw", key)
        if small is not None or large is not None:
            lines.append(f"| {label} | {fmt(small, digits)} | {fmt(large, digits)} | "
                         f"{fmt(ratio(small, large), 2)} | {fmt(raw, digits)} |")
    big = [r for r in rows if r["kind"] == "slow_buffer_16k"]
    if big:
        n = big[0]["concurrency"]
        small = next((r for r in rows if r["kind"] == "slow" and r["client"] == "http_task"
                      and r["concurrency"] == n), None)
        raw = next((r for r in rows if r["kind"] == "slow" and r["client"] == "raw_epoll"
                    and r["concurrency"] == n), None)
        s = small and small.get("peak_rss_kib") / 1024
        g = big[0].get("peak_rss_kib") / 1024
        w = raw and raw.get("peak_rss_kib") / 1024
        lines.append(f"| {n:,} calls to the 1-second server: peak RSS MiB | {fmt(s, 1)} | {fmt(g, 1)} | "
                     f"{fmt(ratio(s, g), 2)} | {fmt(w, 1)} |")
    return lines if len(lines) > 2 else []


def verdict(ok):
    return "met" if ok else "**missed**"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--machine", default="")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--elapsed", default="")
    ap.add_argument("--readme")
    a = ap.parse_args()
    rows = load(a.results)
    rps, tp_lines, cpu_lines, tp_checks = throughput_tables(rows)
    png = plot(rps, a.out)
    slow_lines, slow_checks = slow_table(rows)
    per, ins_lines, ins_note = instruction_table(rows)
    dec_lines = decoder_table(rows)
    spread_lines = spread_table(rows)
    buf_lines = buffer_table(rows)
    heap_lines = heap_table(rows)
    pair_medians, pair_lines = paired_table(rows)

    targets = ["| target | result | |", "|---|---|---|"]
    worst = min((c[2] for c in tp_checks if c[2] is not None), default=None)
    worst_best = min((c[3] for c in tp_checks if c[3] is not None), default=None)
    targets.append(f"| req/s ≥ 0.95 × raw multi, every concurrency, GET and POST | worst "
                   f"{fmt(worst, 2)} × raw_epoll, {fmt(worst_best, 2)} × best raw | "
                   f"{verdict(worst is not None and worst >= 0.95)} |")
    if pair_medians:
        worst_pair = min(pair_medians.values())
        where = min(pair_medians, key=pair_medians.get)
        targets.append(f"| the same, median of back-to-back pairs (below) | worst {fmt(worst_pair, 2)} ×"
                       f" raw_epoll ({where[0]}, {where[1]} in flight) | "
                       f"{verdict(worst_pair >= 0.95)} |")
    worst_inline = min((c[5] for c in tp_checks if c[5] is not None), default=None)
    targets.append(f"| the same, continuations on the loop (http_task_inline) | worst "
                   f"{fmt(worst_inline, 2)} × raw_epoll | "
                   f"{verdict(worst_inline is not None and worst_inline >= 0.95)} |")
    ir = ratio(per.get("http_task"), per.get("raw_epoll"))
    targets.append(f"| instructions per call ≤ 1.10 × raw | {fmt(ir, 2)} × | "
                   f"{verdict(ir is not None and ir <= 1.10)} |")
    for n, r, wr, rr in slow_checks:
        if n < 10000:
            continue
        targets.append(f"| 10,000 in flight, all succeed | {r.get('ok', 0):,} ok, {r.get('failed')} failed |"
                       f" {verdict(r.get('failed') == 0)} |")
        targets.append(f"| 10,000 in flight, wall ≤ 1.1 × raw | {fmt(wr, 2)} × | "
                       f"{verdict(wr is not None and wr <= 1.1)} |")
        targets.append(f"| 10,000 in flight, ≤ 3 threads | {r.get('max_threads')} | "
                       f"{verdict(r.get('max_threads', 99) <= 3)} |")
        targets.append(f"| 10,000 in flight, peak RSS ≤ 0.6 × raw | {fmt(rr, 2)} × | "
                       f"{verdict(rr is not None and rr <= 0.6)} |")
    # Three readings of the thread-per-call model: cpr's (cpr_defaults: a new handle per
    # call with cpr's default options and per-answer work), the same threads with the
    # options every client here sets (cpr_model), and threads reusing a handle each
    # (threads, as fast as raw libcurl here).
    for index, model in ((7, "cpr_defaults"), (6, "cpr_model"), (4, "threads")):
        for c in (16, 1024):
            vs = [x[index] for x in tp_checks if x[1] == c and x[index] is not None]
            w = min(vs, default=None)
            targets.append(f"| req/s ≥ 2.5 × thread-per-call ({model}) at {c} in flight | worst "
                           f"{fmt(w, 2)} × | {verdict(w is not None and w >= 2.5)} |")

    md = [
        f"Command: `{a.command}` (took {a.elapsed} s).  ",
        f"Machine: {a.machine}; client and server share the cores.",
        "",
        "![req/s against calls in flight](results/throughput.png)",
        "",
        "### Targets (ratios taken in this run)",
        "", *targets, "",
        "### Requests per second (median of the repetitions; nginx answering the success JSON)",
        "", *tp_lines, "",
        *(["### http_task / raw_epoll in back-to-back pairs (A B B A, after a discarded warm-up)",
           "", *pair_lines, ""] if pair_lines else []),
        "### Client CPU µs per call (user + system, the client process only)",
        "", *cpu_lines, "",
        "### User-space instructions per call",
        "", *ins_lines, "", ins_note, "",
        "### N calls all in flight to a server answering after 1 s (nginx echo_sleep 1.0)",
        "", *slow_lines, "",
        "### N calls all in flight, answered a few at a time over 10 s (nginx echo_sleep 0.00-9.99)",
        "", *spread_lines, "",
        "### Answer decoder alone",
        "", *dec_lines, "",
    ]
    if heap_lines:
        md += ["### Heap per call with every call in flight, by who allocated it (glibc's malloc trace)",
               "", *heap_lines, "",
               "libcurl: allocations by libcurl, and its copies of option strings (strdup); operator new: "
               "http_task's state per call, and the bench client's own containers. Heap in use counts "
               "every byte allocated; RSS only the pages touched.", ""]
    if buf_lines:
        md += ["### Receive buffer: http_task's default (1 KiB, grown after a larger answer) against libcurl's 16 KiB",
               "", *buf_lines, ""]
    text = "\n".join(md)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(text)
    if a.readme:
        begin, end = "<!-- results:begin -->", "<!-- results:end -->"
        with open(a.readme) as f:
            readme = f.read()
        if begin in readme and end in readme:
            head, rest = readme.split(begin, 1)
            _, tail = rest.split(end, 1)
            readme = head + begin + "\n" + text + "\n" + end + tail
            with open(a.readme, "w") as f:
                f.write(readme)
    print(text)
    print(f"plot: {png}")


if __name__ == "__main__":
    main()
