"""Turns the JSON lines of Benchmarks/run into docs/benchmarks.md: medians, ratios, the machine, the targets."""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
from collections import defaultdict

TARGETS = ("rill", "echo", "reflex")
KEEP_HEADING = "## Where the time goes"
BASELINE_HEADING = "## Against the previous version"
FANOUT_HEADING = "## fanout: one writer, N linked idle tabs"
DURABLE_HEADING = "## durable: background tasks that outlive their process (Redis)"
FANOUT_TARGETS = ("rill", "rill-redis", "reflex", "reflex-redis")


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cores} cores ({cpu}), {mem_kb / 1048576:.1f} GiB memory, Linux {platform.release()}"


def medians(path):
    """Median of every figure over the runs of one (scenario, target, tabs)."""
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                row = json.loads(line)
                runs[(row["scenario"], row["target"], row["tabs"])].append(row)
    out = {}
    for key, rows in runs.items():
        out[key] = {
            name: statistics.median(r[name] for r in rows)
            for name, value in rows[0].items()
            if isinstance(value, (int, float))
        }
        out[key]["runs"] = len(rows)
    return out


def fmt(value, digits=1):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if digits else f"{value:.0f}"


def ratio(a, b):
    if a is None or not b:
        return "–"
    return f"{a / b:.2f}×" if a / b >= 0.1 else f"{a / b:.2g}×"


def table(results, scenario, figure, title, digits=1, tabs_label="K"):
    """One row per tab count: the figure for each server, then Rill/Reflex and Rill/echo."""
    if scenario == "tabs":
        # Each server may hold a different N (Reflex fewer), so the row compares per-tab figures.
        rows = [("per tab", {t: next((v.get(figure) for k, v in results.items() if k[:2] == (scenario, t)), None) for t in TARGETS})]
    else:
        counts = sorted({k[2] for k in results if k[0] == scenario})
        rows = [(count, {t: results.get((scenario, t, count), {}).get(figure) for t in TARGETS}) for count in counts]
    lines = [f"| {tabs_label} | Rill | echo | Reflex | Rill/Reflex | Rill/echo |", "|---|---|---|---|---|---|"]
    for count, values in rows:
        lines.append(
            f"| {count} | {fmt(values['rill'], digits)} | {fmt(values['echo'], digits)} | {fmt(values['reflex'], digits)} "
            f"| {ratio(values['rill'], values['reflex'])} | {ratio(values['rill'], values['echo'])} |"
        )
    return [f"**{title}**", ""] + lines + [""]


def redis_table(results, scenario, figure, title, digits=1):
    """Rill and Reflex both keeping their states in Redis: one row per tab count."""
    counts = sorted({k[2] for k in results if k[0] == scenario and k[1] == "rill-redis"})
    lines = [f"**{title}**", "", "| K | Rill (Redis) | Reflex (Redis) | Rill/Reflex |", "|---|---|---|---|"]
    for count in counts:
        r, x = (get(results, scenario, t, count, figure) for t in ("rill-redis", "reflex-redis"))
        lines.append(f"| {count} | {fmt(r, digits)} | {fmt(x, digits)} | {ratio(r, x)} |")
    return lines + [""]


def tables(make, results, scenario, figures):
    """A table by `make` (table or redis_table) for each (figure, title, digits) of one scenario."""
    lines = []
    for figure, title, digits in figures:
        lines += make(results, scenario, figure, title, digits=digits)
    return lines


def get(results, scenario, target, tabs, figure):
    return results.get((scenario, target, tabs), {}).get(figure)


def check(results):
    """The issue's targets, each with the figures it compares."""
    rows = []

    def add(name, ok, detail):
        rows.append(f"| {name} | {'met' if ok else ('not met' if ok is not None else 'not measured')} | {detail} |")

    for k in (10, 50):
        r, e, x = (get(results, "events", t, k, "events_per_s") for t in TARGETS)
        add(f"events K={k}: ≥ 80% of echo", r / e >= 0.8 if r and e else None, f"{fmt(r)} vs {fmt(e)} events/s")
        add(f"events K={k}: ≥ 10× Reflex", r / x >= 10 if r and x else None, f"{fmt(r)} vs {fmt(x)} events/s")
        r, x = (get(results, "events", t, k, "server_cpu_us_per_event") for t in ("rill", "reflex"))
        add(f"events K={k}: server CPU ≤ 1/12 of Reflex", r * 12 <= x if r and x else None, f"{fmt(r)} vs {fmt(x)} µs/event")
    r, e = (get(results, "events", t, 50, "p99_ms") for t in ("rill", "echo"))
    add("p99 at K=50 ≤ 1.5× echo", r <= 1.5 * e if r and e else None, f"{fmt(r, 2)} vs {fmt(e, 2)} ms")
    for k in (1, 10):
        r, x = (get(results, "background", t, k, "seconds_all") for t in ("rill", "reflex"))
        add(f"background K={k}: ≤ 1/20 of Reflex", r * 20 <= x if r and x else None, f"{fmt(r, 3)} vs {fmt(x, 3)} s")
    r, x = (get(results, "events", t, 10, "events_per_s") for t in ("rill-redis", "reflex-redis"))
    add("Redis mode, events K=10: ≥ 10× Reflex in Redis mode", r / x >= 10 if r and x else None, f"{fmt(r)} vs {fmt(x)} events/s")
    idle = [k for k in results if k[0] == "tabs" and k[1] == "rill"]
    if idle:
        n = idle[0][2]
        kb = get(results, "tabs", "rill", n, "kb_per_tab")
        add(f"{n} idle tabs: ≤ 16 KB per tab", kb <= 16 if n >= 10000 else None, f"{fmt(kb)} KB/tab")
    return ["| target | status | figures |", "|---|---|---|"] + rows + [""]


def baseline(results, revision):
    """Rill against the version `--baseline` named, in the same run: the cost of what changed."""
    lines = [
        BASELINE_HEADING,
        "",
        f"The same bench, client and machine drive this version's BenchServer (Rill) and the one built",
        f"from `{revision}` (before), alternately in one run. This version numbers its deltas and",
        "records each event's id with the tab's state in the commit; the client sends ids either way.",
        "",
        "| K | events/s before | events/s now | change | p99 before (ms) | p99 now (ms) | change |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = []
    for k in (1, 10, 50):
        r, b = (get(results, "events", t, k, "events_per_s") for t in ("rill", "rill-before"))
        rp, bp = (get(results, "events", t, k, "p99_ms") for t in ("rill", "rill-before"))
        if r is None or b is None:
            continue
        lines.append(f"| {k} | {fmt(b)} | {fmt(r)} | {(r / b - 1) * 100:+.1f}% | {fmt(bp, 2)} | {fmt(rp, 2)} | {(rp / bp - 1) * 100:+.1f}% |")
        if k in (10, 50):
            ok = r >= 0.95 * b
            rows.append(f"| events K={k}: within 5% of before | {'met' if ok else 'not met'} | {fmt(r)} vs {fmt(b)} events/s |")
    return lines + ["", "| target | status | figures |", "|---|---|---|"] + rows + [""]


def fanout(results):
    """One shared room, N idle tabs linked to it, one more tab changing it: each framework's figures."""
    counts = sorted({k[2] for k in results if k[0] == "fanout"})
    shown = [t for t in FANOUT_TARGETS if any(k[:2] == ("fanout", t) for k in results)]
    lines = [
        FANOUT_HEADING,
        "",
        "N idle tabs and one writer tab link to one shared room (Rill: a `SharedState` key; Reflex: an",
        "`rx.SharedState` linked with `_link_to`). The writer changes the room M times, each change",
        "after it saw the last reach it (Rill: M = 1000, 200 at N = 1000; Reflex: M = 300, 100 at",
        "N = 100). Delivered deltas are the messages carrying the room's value that reached the tabs,",
        "per second; latency is, for each change, the time from the writer sending it until the last",
        "tab saw it. Server CPU is per change, for all N tabs. The Redis targets keep every state in a",
        "redis-server, as in Redis mode above. Reflex is not run at N = 1000: it updates every linked",
        "tab on each join, so the run would spend its time joining.",
        "",
    ]
    figures = [
        ("changes_per_s", "changes/s", 1), ("deltas_per_s", "delivered deltas/s", 0),
        ("p50_ms", "p50 until all saw it (ms)", 2), ("p99_ms", "p99 until all saw it (ms)", 2),
        ("server_cpu_us_per_change", "server CPU per change (µs)", 0),
    ]
    for figure, title, digits in figures:
        lines += [f"**{title}**", "", "| N | " + " | ".join(shown) + " | Rill/Reflex | Rill/Reflex (Redis) |",
                  "|---|" + "---|" * (len(shown) + 2)]
        for n in counts:
            values = {t: get(results, "fanout", t, n, figure) for t in shown}
            lines.append(f"| {n} | " + " | ".join(fmt(values[t], digits) for t in shown)
                         + f" | {ratio(values.get('rill'), values.get('reflex'))} | {ratio(values.get('rill-redis'), values.get('reflex-redis'))} |")
        lines.append("")
    rows = []
    r, x = (get(results, "fanout", t, 100, "deltas_per_s") for t in ("rill", "reflex"))
    ok = r / x >= 10 if r and x else None
    rows.append(f"| fanout N=100: ≥ 10× Reflex's delivered deltas/s | {'met' if ok else ('not met' if ok is not None else 'not measured')} | {fmt(r)} vs {fmt(x)} deltas/s |")
    lo, hi = (get(results, "fanout", "rill", n, "server_cpu_us_per_change") for n in (min(counts, default=0), max(counts, default=0)))
    frame = get(results, "events", "echo", 10, "server_cpu_us_per_event")
    if lo is not None and hi is not None and frame and max(counts) > min(counts):
        per_tab = (hi - lo) / (max(counts) - min(counts))
        ok = per_tab <= frame
        rows.append(f"| fanout: server CPU per added tab ≤ the echo server's per frame | {'met' if ok else 'not met'} | "
                    f"{fmt(per_tab, 2)} µs per tab per change (N {min(counts)} → {max(counts)}) vs {fmt(frame, 2)} µs per echoed frame |")
    return lines + ["| target | status | figures |", "|---|---|---|"] + rows + [""]


def durable(results):
    """The background scenario in Redis mode with normal and with durable tasks, from the same runs."""
    counts = sorted({k[2] for k in results if k[0] == "background_durable"})
    lines = [
        DURABLE_HEADING,
        "",
        "K tabs each start a task of 1000 lock blocks on one Rill process keeping its states in Redis,",
        "once as a normal task and once as a durable one whose every block also commits its step as the",
        "task's checkpoint; both on the same server in each run. The checkpoint rides in the block's",
        "own commit script, so a block costs the same round trips either way; the durable task also",
        "records itself with the commit that starts it and forgets itself when it ends.",
        "",
        "| K | normal (s) | durable (s) | durable/normal | server CPU normal (ms) | server CPU durable (ms) |",
        "|---|---|---|---|---|---|",
    ]
    rows = []
    for k in counts:
        n, d = (get(results, s, "rill-redis", k, "seconds_all") for s in ("background", "background_durable"))
        nc, dc = (get(results, s, "rill-redis", k, "server_cpu_ms") for s in ("background", "background_durable"))
        lines.append(f"| {k} | {fmt(n, 3)} | {fmt(d, 3)} | {fmt(d / n, 2) + '×' if n and d else '-'} | {fmt(nc)} | {fmt(dc)} |")
    return lines + [""]


def section_of(text, heading):
    """The section under `heading` (up to the next `## `) as lines to keep, or none."""
    if heading not in text:
        return []
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return [text[start:end if end >= 0 else len(text)].rstrip(), ""]


def replace_section(text, heading, section):
    """`text` with the section under `heading` (up to the next `## `) replaced by `section`, or it appended."""
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + ("" if end < 0 else text[end + 1:])
    return text.rstrip() + "\n\n" + "\n".join(section).rstrip() + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("out")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--command")
    parser.add_argument("--baseline", help="the revision the rill-before target was built from")
    parser.add_argument("--fanout-only", action="store_true", help="update only the fanout section")
    parser.add_argument("--durable-only", action="store_true", help="update only the durable section")
    args = parser.parse_args()
    results = medians(args.results)
    for only, heading, make in ((args.durable_only, DURABLE_HEADING, durable), (args.fanout_only, FANOUT_HEADING, fanout)):
        if only:
            text = open(args.out).read() if os.path.exists(args.out) else "# Benchmarks\n"
            section = make(results) + [f"Written by `{args.command}` on "
                                       f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.", ""]
            with open(args.out, "w") as f:
                f.write(replace_section(text, heading, section))
            return
    compared = baseline(results, args.baseline) if args.baseline else []
    if compared and not any(k[1] == "echo" for k in results):
        # A run of Rill against its previous version only: the rest of the page stays as it was.
        text = open(args.out).read() if os.path.exists(args.out) else "# Benchmarks\n"
        with open(args.out, "w") as f:
            f.write(replace_section(text, BASELINE_HEADING, compared))
        return

    kept = []
    kept_fanout = []
    kept_durable = []
    if os.path.exists(args.out):
        with open(args.out) as f:
            text = f.read()
        if KEEP_HEADING in text:
            kept = [text[text.index(KEEP_HEADING):].rstrip(), ""]
        kept_fanout, kept_durable = section_of(text, FANOUT_HEADING), section_of(text, DURABLE_HEADING)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = [
        "# Benchmarks",
        "",
        f"Written by `{args.command}` on {now}. Machine: {machine()}.",
        "",
        "Servers run pinned to core 1 (`taskset -c 1`), the load generator `rill-bench` (release build,",
        "one NIO event-loop thread, HdrHistogram latencies) on core 0. Each server is driven in turn by",
        "the same client: **Rill** is `Benchmarks/BenchServer` (memory state), **echo** is",
        "`Benchmarks/EchoServer`, a Hummingbird 2 WebSocket server that echoes each message and does no",
        "work (the ceiling of this machine), **Reflex** is Reflex 0.10.1's backend (one granian worker)",
        "serving `Benchmarks/peers/reflex/`. Figures are medians of "
        f"{args.runs} runs; tabs use one run on a fresh server. The machine is shared and noisy.",
        "",
        "Server CPU is utime+stime of the server's process tree from `/proc` over the measured phase,",
        "divided by the events. Ratios are Rill's figure over the other's: above 1 is better for",
        "throughput, below 1 is better for CPU, latency, time and memory.",
        "",
        "## events: K tabs each send events one after another, each waiting for its delta",
        "",
        "The echo server replies to Rill's event message with itself; Reflex gets its Socket.IO event.",
        "",
    ]
    events = [
        ("events_per_s", "Throughput (events/s)", 1),
        ("server_cpu_us_per_event", "Server CPU per event (µs)", 1),
        ("p50_ms", "p50 latency (ms)", 2),
        ("p99_ms", "p99 latency (ms)", 2),
        ("p999_ms", "p99.9 latency (ms)", 2),
        ("client_cpu_us_per_event", "Load generator CPU per event (µs), for scale", 1),
    ]
    doc += tables(table, results, "events", events)
    doc += [
        "## background: K tabs each start a task of 1000 locked increments",
        "",
        "Time from the start until every tab has seen its counter at 1000. The echo server has no",
        "task: each tab sends it 1000 Rill-shaped deltas at once and waits for the last one back.",
        "",
    ]
    doc += tables(table, results, "background", [
        ("seconds_all", "Time until every tab saw 1000 (s)", 3),
        ("messages_max", "Messages received per tab (most)", 0),
        ("server_cpu_ms", "Server CPU for the whole run (ms)", 1),
    ])
    doc += [
        "## tabs: N idle tabs held open",
        "",
        "Server resident memory (VmRSS of its process tree) after the tabs are open, minus before,",
        "over N. Reflex is given fewer tabs (see N in its run below) to keep the run short.",
        "",
    ]
    doc += table(results, "tabs", "kb_per_tab", "Server memory per idle tab (KB)", tabs_label="N")
    for t in TARGETS:
        for key, row in results.items():
            if key[0] == "tabs" and key[1] == t:
                doc.append(f"- {t}: N={key[2]}, {fmt(row['kb_per_tab'])} KB/tab, {row['rss_before_mb']:.1f} → "
                           f"{row['rss_after_mb']:.1f} MB, opened in {row['open_seconds']:.1f} s")
    if any(k[1] == "rill-redis" for k in results):
        doc += [
            "",
            "## Redis mode: states in a redis-server",
            "",
            "The same scenarios with both frameworks keeping every tab's state in one redis-server",
            "(started by the bench on core 1, beside the server, emptied before each): Rill's",
            "BenchServer with `--redis`, Reflex with `REFLEX_REDIS_URL` (one granian worker). Server CPU",
            "counts the framework's process only, not redis-server's.",
            "",
        ]
        doc += tables(redis_table, results, "events",
                      [f for f in events if f[0] in ("events_per_s", "server_cpu_us_per_event", "p99_ms")])
        doc += redis_table(results, "background", "seconds_all", "background: time until every tab saw 1000 (s)", digits=3)
    doc += [""] + (fanout(results) if any(k[0] == "fanout" for k in results) else kept_fanout)
    doc += [""] + (durable(results) if any(k[0] == "background_durable" for k in results) else kept_durable)
    doc += ["", "## The issue's targets", ""]
    doc += check(results)
    doc += compared
    doc += kept
    with open(args.out, "w") as f:
        f.write("\n".join(doc).rstrip() + "\n")


if __name__ == "__main__":
    main()
