"""A seconds-long run of every rill-bench scenario against BenchServer and the echo server, so the bench cannot rot."""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("RILL_BIN", ROOT / ".build" / "debug"))
SERVERS = {"rill": "BenchServer", "echo": "EchoServer"}


@pytest.fixture(params=sorted(SERVERS))
def server(request, tmp_path):
    """A fresh server of one kind on a free port: (target, port, pid)."""
    log = open(tmp_path / "server.log", "w+")
    # One event-loop thread, as Benchmarks/run starts them.
    process = subprocess.Popen([str(BIN / SERVERS[request.param]), "--port", "0", "--threads", "1"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            log.seek(0)
            found = re.search(r"url=http://127\.0\.0\.1:(\d+)", log.read())
            if found:
                break
            assert process.poll() is None, "server exited before listening"
            assert time.monotonic() < deadline, "server did not log its url"
            time.sleep(0.05)
        yield request.param, int(found.group(1)), process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def bench(server, *args):
    target, port, pid = server
    out = subprocess.run(
        [str(BIN / "rill-bench"), *args, "--target", target, "--label", f"{target}-smoke", "--port", str(port), "--server-pid", str(pid)],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_events(server):
    figures = bench(server, "events", "--tabs", "3", "--events", "50", "--warmup", "5")
    assert figures["target"] == f"{server[0]}-smoke"
    assert figures["events"] == 150
    assert figures["events_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["p999_ms"]
    assert figures["server_cpu_us_per_event"] >= 0


def test_background(server):
    figures = bench(server, "background", "--tabs", "3", "--count", "1000")
    # A tab is done only once a message put its counter at 1000.
    assert figures["tabs_done"] == 3
    assert figures["seconds_all"] > 0
    assert figures["messages_min"] >= 1


def test_background_durable(server):
    if server[0] != "rill":
        pytest.skip("the echo server has no durable task")
    # With memory state the durable task runs as a normal one, checkpoints and all.
    figures = bench(server, "background", "--tabs", "2", "--count", "500", "--durable")
    assert figures["scenario"] == "background_durable"
    assert figures["tabs_done"] == 2


def test_tabs(server):
    figures = bench(server, "tabs", "--tabs", "20", "--settle", "0.2")
    assert figures["tabs"] == 20
    assert figures["rss_after_mb"] > 0


def test_report_compares_every_target_and_checks_the_issue_targets(tmp_path):
    """Benchmarks/report.py on one row per scenario and target: the tables, ratios and checks it writes."""
    rows = []
    for target, rate, cpu in [("rill", 20000, 30), ("echo", 20000, 40), ("reflex", 1000, 500),
                              ("rill-redis", 9000, 60), ("reflex-redis", 500, 1500)]:
        for tabs in (10, 50):
            rows.append({"scenario": "events", "target": target, "tabs": tabs, "events_per_s": rate,
                         "server_cpu_us_per_event": cpu, "p50_ms": 1.0, "p99_ms": 2.0, "p999_ms": 3.0,
                         "client_cpu_us_per_event": 20})
        for tabs in (1, 10):
            rows.append({"scenario": "background", "target": target, "tabs": tabs, "seconds_all": 0.01 * tabs,
                         "messages_max": 1000, "server_cpu_ms": 10})
    for tabs in (1, 10):
        rows.append({"scenario": "background_durable", "target": "rill-redis", "tabs": tabs, "seconds_all": 0.0125 * tabs,
                     "messages_max": 1000, "server_cpu_ms": 12})
    rows.append({"scenario": "tabs", "target": "rill", "tabs": 10000, "kb_per_tab": 12.0,
                 "rss_before_mb": 30.0, "rss_after_mb": 150.0, "open_seconds": 3.0})
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "benchmarks.md"
    subprocess.run(["python3", str(ROOT / "Benchmarks" / "report.py"), str(results), str(out), "--runs", "1",
                    "--command", "Benchmarks/run"], check=True, timeout=60)
    text = out.read_text()
    assert "| 10 | 20,000 | 20,000 | 1,000 | 20.00× | 1.00× |" in text
    assert "## Redis mode: states in a redis-server" in text
    assert "| 10 | 9,000 | 500.0 | 18.00× |" in text
    assert "| Redis mode, events K=10: ≥ 10× Reflex in Redis mode | met | 9,000 vs 500.0 events/s |" in text
    assert "| events K=10: server CPU ≤ 1/12 of Reflex | met | 30.0 vs 500.0 µs/event |" in text
    assert "| 10000 idle tabs: ≤ 16 KB per tab | met | 12.0 KB/tab |" in text
    assert "## durable: background tasks that outlive their process (Redis)" in text
    assert "| 10 | 0.100 | 0.125 | 1.25× | 10.0 | 12.0 |" in text
