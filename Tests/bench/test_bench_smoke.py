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
    process = subprocess.Popen([str(BIN / SERVERS[request.param]), "--port", "0"], stdout=log, stderr=log)
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
        [str(BIN / "rill-bench"), *args, "--target", target, "--port", str(port), "--server-pid", str(pid)],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_events(server):
    figures = bench(server, "events", "--tabs", "3", "--events", "50", "--warmup", "5")
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


def test_tabs(server):
    figures = bench(server, "tabs", "--tabs", "20", "--settle", "0.2")
    assert figures["tabs"] == 20
    assert figures["rss_after_mb"] > 0
