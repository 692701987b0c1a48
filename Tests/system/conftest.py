"""Fixtures for multi-process tests: a real redis-server, Rill processes, nginx, and a socket client."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from fuzz import rss_bytes

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("RILL_BIN", ROOT / ".build" / "debug"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Redis:
    """A redis-server on a loopback port that persists every write, so a restart loses nothing committed."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="rill-redis-")
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)


class Process:
    """What Rill and LoggedRill share: a started process (`self.process`) serving on `self.port`."""

    def socket(self, token, resume=False):
        return Tab(connect(f"ws://127.0.0.1:{self.port}/_rill/socket?token={token}&path=/"
                           + ("&resume=1" if resume else ""), open_timeout=10))

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass


class Rill(Process):
    """One Rill process (an example binary) on a free port."""

    def __init__(self, name, *args):
        self.process = subprocess.Popen([str(BIN / name), "--port", "0", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.port = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.port is None:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode}")
            match = re.search(r"url=http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
        assert self.port, f"{name} did not report its port"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


class Tab:
    """A tab's socket speaking docs/protocol.md."""

    def __init__(self, ws):
        self.ws = ws

    def next(self, timeout=10):
        return json.loads(self.ws.recv(timeout=timeout))

    def hydrate(self):
        message = self.next()
        assert message["type"] == "hydrate", message
        return message

    def event(self, name, **payload):
        self.ws.send(json.dumps({"type": "event", "name": name, "payload": payload}))

    def wait_for(self, state, var, predicate, timeout=20):
        """Reads messages until `state.var` satisfies `predicate`; returns that value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.next(timeout=max(0.1, deadline - time.monotonic()))
            values = message.get("delta") or message.get("state") or {}
            value = values.get(state, {}).get(var)
            if value is not None and predicate(value):
                return value
        raise AssertionError(f"{state}.{var} never satisfied the condition")

    def close(self):
        self.ws.close()


@pytest.fixture
def redis():
    server = Redis()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


def started(kind):
    """Yields a function that starts processes of `kind`; every one started is killed afterwards."""
    processes = []

    def start(name, *args):
        process = kind(name, *args)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()


@pytest.fixture
def processes():
    yield from started(Rill)


@pytest.fixture
def pair(redis, processes):  # redis first: torn down last, after the processes that use it
    """Starts two processes of one example that share the `redis` server: `a, b = pair("BenchServer")`."""
    return lambda name: (processes(name, "--redis", redis.url), processes(name, "--redis", redis.url))


class LoggedRill(Process):
    """A Rill process whose whole output (stdout and stderr, as bytes) is read by a thread and
    kept, so tests can inspect its log and the pipe never fills up and stalls the server."""

    def __init__(self, name, *args, start_timeout=60):
        import threading
        self.name = name
        self.args = args
        self.output = bytearray()
        self.lock = threading.Lock()
        self.port = None
        path = BIN / name
        # The binaries are rebuilt now and then; wait for one to be there rather than fail.
        deadline = time.monotonic() + 180
        while not os.access(path, os.X_OK) and time.monotonic() < deadline:
            time.sleep(1)
        for attempt in range(5):
            try:
                self.process = subprocess.Popen([str(path), "--port", "0", *args],
                                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                break
            except OSError:  # ETXTBSY while the linker writes the file
                if attempt == 4:
                    raise
                time.sleep(5)
        self.pid = self.process.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            match = re.search(rb"url=http://127\.0\.0\.1:(\d+)", self.log())
            if match:
                self.port = int(match.group(1))
                return
            if self.process.poll() is not None:
                self.reader.join(timeout=5)
                break
            time.sleep(0.02)
        output = self.log().decode("utf-8", "replace")[-2000:]
        self.kill()
        raise RuntimeError(f"{name} {' '.join(args)} did not start (exit {self.process.returncode}):\n{output}")

    def _read(self):
        fd = self.process.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.output += chunk

    def log(self):
        with self.lock:
            return bytes(self.output)

    def log_size(self):
        with self.lock:
            return len(self.output)

    def alive(self):
        return self.process.poll() is None

    def rss(self):
        """Resident memory in bytes (VmRSS); None once the process is gone."""
        return rss_bytes(self.pid)


@pytest.fixture
def rill():
    """Starts Rill example binaries with their output kept (`rill("BackgroundTask", "--flag", "v")`);
    every process started is killed when the test ends."""
    yield from started(LoggedRill)


@pytest.fixture
def fault_proxy():
    """Starts loopback FaultProxy instances in front of Rill processes
    (`fault_proxy(rill_process.port)`, see faultproxy.py); every one is stopped when the test ends."""
    from faultproxy import FaultProxy
    started = []

    def start(target_port, mode="pass"):
        proxy = FaultProxy(target_port, mode=mode)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def nginx_over():
    """Starts nginx with deploy/nginx.conf in front of two processes: `url = nginx_over(a, b)`;
    it is stopped when the test ends."""
    started = []

    def start(a, b):
        port = free_port()
        config = (ROOT / "deploy" / "nginx.conf").read_text()
        config = config.replace("server 127.0.0.1:8001", f"server 127.0.0.1:{a.port}")
        config = config.replace("server 127.0.0.1:8002", f"server 127.0.0.1:{b.port}")
        config = config.replace("listen 127.0.0.1:8000", f"listen 127.0.0.1:{port}")
        workdir = Path(tempfile.mkdtemp(prefix="rill-nginx-"))
        config = config.replace("events {}", f"pid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\nevents {{}}")
        config = config.replace("http {", f"http {{\n    access_log off;\n    client_body_temp_path {workdir};\n"
                                f"    proxy_temp_path {workdir};\n    fastcgi_temp_path {workdir};\n"
                                f"    uwsgi_temp_path {workdir};\n    scgi_temp_path {workdir};")
        (workdir / "nginx.conf").write_text(config)
        process = subprocess.Popen(["nginx", "-c", str(workdir / "nginx.conf"), "-p", str(workdir), "-g", "daemon off;"])
        started.append((process, workdir))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert process.poll() is None, (workdir / "error.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}/"
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    yield start
    for process, workdir in started:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def browser():
    """A headless Chromium (Selenium), its DevTools network domain on for tests that cut it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,700"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    yield driver
    driver.quit()
