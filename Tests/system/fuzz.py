"""A WebSocket fuzzer for a running Rill server.

    python Tests/system/fuzz.py --frames 10000 --port 8000 [--seed N] [--pid PID]

Sends hostile frames over many connections (reconnecting whenever the server closes one):
random bytes on the wire, mutated event messages, huge names, 10,000-level nesting, numbers
JSON cannot carry losslessly, fragmented messages (in and out of order), pings (valid and not),
bad close codes, RSV bits, unmasked frames, binary frames and reserved opcodes, lying length
headers, frames pipelined behind the handshake, and odd handshake queries.

Meanwhile a witness tab makes exactly K changes of a known event and checks that the state it
ends with is the one those K changes make, and that nothing else touched it. At the end it
checks that the server process is alive, that its RSS grew less than the allowed amount, and
that a new tab connects, hydrates and gets a delta for an event.

The witness understands the two example apps: BackgroundTask (it sets `max_counter` through
`my_task_state.set_max_counter`) and BenchServer (it sends `bench_state.increment`).

The random generator is seeded; the seed is printed so a failing run can be repeated.
"""

import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time
import uuid
from collections import Counter, deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rawws  # noqa: E402
from rawws import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, encode_frame, event_json  # noqa: E402

MB = 1 << 20

SEED_EVENTS = [
    ("my_task_state.toggle_running", {}),
    ("my_task_state.clear_counter", {}),
    ("my_task_state.set_max_counter", {"value": 5}),
    ("my_task_state.set_max_counter", {"value": 2}),
    ("my_task_state.my_task", {}),
    ("my_task_state.set_counter", {"value": 3}),
    ("my_task_state.set_running", {"value": True}),
]
BENCH_EVENTS = [
    ("bench_state.increment", {}),
    ("bench_state.bg_count", {"n": 3}),
    ("bench_state.set_counter", {"value": 7}),
    ("bench_state.join", {}),
    ("bench_room.increment", {}),
    ("bench_room.set_total", {"value": 9}),
]
LOSSY_NUMBERS = [
    "-9223372036854775809", "9223372036854775808", "9007199254740993.0", "9007199254740993",
    "1e-400", "1e400", "-1e400", "1.5", "-0.0", "0.1e1", "1E+2", "123456789012345678901234567890",
    "4.9e-324", "1.7976931348623157e308", "-9223372036854775808", "9223372036854775807",
    "00012", "-", "1e", ".5", "NaN", "Infinity", "0x10", "+1",
]
BAD_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
GOOD_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4000, 4999]
ODD_QUERIES = [
    "?=", "?&&=&=x", "?%zz=1", "?token=%zz", "?token=", "?token=%00%00%00%00%00%00%00%00",
    "?==&==", "?path=%", "?resume", "?resume=1", "?token=" + "a" * 5000, "?" + "&" * 500,
    "?token=aaaaaaaa&token=bbbbbbbb", "?path=" + "%2F" * 300, "?%=%", "?a=%C3%28",
]


# -- the server process ----------------------------------------------------------------------

def rss_bytes(pid):
    """The process's resident memory (VmRSS) in bytes, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def process_alive(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        return False
    return False


def pid_listening_on(port):
    """The pid of the process with a listening TCP socket on `port` (from /proc), or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            continue
    if not inodes:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


# -- frame generation ------------------------------------------------------------------------

class Generator:
    """Produces hostile frames. `next()` returns (kind, list of frame bytes, ends_connection)."""

    def __init__(self, rng, events, huge_budget=48 * MB):
        self.rng = rng
        self.events = events
        self.huge_budget = huge_budget
        kinds = {
            "valid": 12, "mutated": 20, "random_wire": 3, "random_text": 5, "huge_name": 0.3,
            "deep": 1.0, "lossy_number": 6, "fragmented": 8, "bad_fragments": 2, "ping": 10,
            "bad_ping": 2, "pong": 2, "bad_close": 3, "good_close": 1, "rsv": 3, "unmasked": 3,
            "binary": 1.5, "bad_opcode": 1.5, "lying_length": 1, "odd_payload": 4, "odd_types": 4,
        }
        self.shown = []
        self.kinds = list(kinds)
        self.weights = list(kinds.values())

    def valid_text(self):
        name, payload = self.rng.choice(self.events)
        return event_json(name, payload)

    def mutate(self, text):
        data = bytearray(text.encode())
        rng = self.rng
        for _ in range(rng.randint(1, 6)):
            choice = rng.randrange(8)
            if not data:
                data += b"{"
            position = rng.randrange(len(data))
            if choice == 0:
                data[position] = rng.randrange(256)
            elif choice == 1:
                data.insert(position, rng.randrange(256))
            elif choice == 2:
                del data[position: position + rng.randint(1, 8)]
            elif choice == 3:
                end = min(len(data), position + rng.randint(1, 16))
                data[position:position] = data[position:end] * rng.randint(1, 4)
            elif choice == 4:
                del data[position:]
            elif choice == 5:
                token = rng.choice([b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u0000", b"\\ud800", b"1e999", b"null",
                                    b"-", b",", b":", b"\x00", b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])
                data[position:position] = token
            elif choice == 6:
                data[position:position] = str(rng.choice(LOSSY_NUMBERS)).encode()
            else:
                data = bytearray(data.decode("utf-8", "replace").upper().encode())
        return bytes(data)

    def frame(self, opcode, payload, **options):
        data = payload.encode() if isinstance(payload, str) else payload
        self.shown.append(f"op={opcode:#x} {' '.join(f'{k}={v}' for k, v in options.items())} {data[:100]!r}"
                          + (f"...({len(data)} bytes)" if len(data) > 100 else ""))
        return encode_frame(opcode, payload, **options)

    def next(self):
        """(kind, frames, ends_connection); `self.shown` then describes the frames unmasked."""
        self.shown = []
        rng = self.rng
        kind = rng.choices(self.kinds, self.weights)[0]
        if kind == "huge_name" and self.huge_budget <= 0:
            kind = "mutated"
        if kind == "valid":
            return kind, [self.frame(TEXT, self.valid_text())], False
        if kind == "mutated":
            return kind, [self.frame(TEXT, self.mutate(self.valid_text()))], False
        if kind == "random_wire":
            noise = os.urandom(rng.randint(1, 300))
            self.shown.append(f"raw {noise[:60]!r}")
            return kind, [noise], True
        if kind == "random_text":
            return kind, [self.frame(TEXT, bytes(rng.randrange(256) for _ in range(rng.randint(0, 400))))], False
        if kind == "huge_name":
            size = rng.randint(100_000, 1_000_000)
            self.huge_budget -= size
            name = rng.choice(["my_task_state.", "", "x" * 3]) + rng.choice("ab\n\x1b[31m") * size
            return kind, [self.frame(TEXT, event_json(name))], False
        if kind == "deep":
            return kind, [self.frame(TEXT, self.deep())], False
        if kind == "lossy_number":
            name = rng.choice(["my_task_state.set_max_counter", "bench_state.bg_count", "bench_state.set_counter"])
            field = "n" if name.endswith("bg_count") else "value"
            return kind, [self.frame(TEXT, event_json(name, raw_payload='{"%s":%s}' % (field, rng.choice(LOSSY_NUMBERS))))], False
        if kind == "fragmented":
            text = self.valid_text().encode() if rng.random() < 0.6 else self.mutate(self.valid_text())
            return kind, self.fragments(text), False
        if kind == "bad_fragments":
            text = self.valid_text().encode()
            cut = max(1, len(text) // 2)
            shape = rng.randrange(3)
            if shape == 0:  # a continuation with no message started
                return kind, [self.frame(CONTINUATION, text)], True
            if shape == 1:  # a new text frame while a fragmented one is unfinished
                return kind, [self.frame(TEXT, text[:cut], fin=False), self.frame(TEXT, text)], True
            return kind, [self.frame(TEXT, text[:cut], fin=False), self.frame(BINARY, text[cut:])], True
        if kind == "ping":
            return kind, [self.frame(PING, os.urandom(rng.randint(0, 125)))], False
        if kind == "bad_ping":
            if rng.random() < 0.5:
                return kind, [self.frame(PING, os.urandom(rng.randint(126, 300)))], True
            return kind, [self.frame(PING, b"x", fin=False)], True
        if kind == "pong":
            return kind, [self.frame(PONG, os.urandom(rng.randint(0, 125)))], False
        if kind == "bad_close":
            if rng.random() < 0.2:
                return kind, [self.frame(CLOSE, b"\x03")], True
            if rng.random() < 0.2:
                return kind, [self.frame(CLOSE, struct.pack("!H", 1000) + b"\xff\xfe")], True
            return kind, [self.frame(CLOSE, rawws.close_payload(rng.choice(BAD_CLOSE_CODES), "bye"))], True
        if kind == "good_close":
            return kind, [self.frame(CLOSE, rawws.close_payload(rng.choice(GOOD_CLOSE_CODES)))], True
        if kind == "rsv":
            opcode = rng.choice([TEXT, PING, CLOSE, CONTINUATION])
            return kind, [self.frame(opcode, self.valid_text(), rsv=rng.randint(1, 7))], True
        if kind == "unmasked":
            opcode = rng.choice([TEXT, PING, PONG, CLOSE])
            payload = self.valid_text() if opcode == TEXT else b""
            return kind, [self.frame(opcode, payload, mask=False)], True
        if kind == "binary":
            return kind, [self.frame(BINARY, os.urandom(rng.randint(0, 200)))], True
        if kind == "bad_opcode":
            return kind, [self.frame(rng.choice([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]), os.urandom(rng.randint(0, 50)))], True
        if kind == "lying_length":
            claimed = rng.choice([2 * MB, 1 << 40, (1 << 63) - 1, (1 << 64) - 1, 70_000])
            self.shown.append(f"text frame claiming {claimed} bytes")
            return kind, [encode_frame(TEXT, b"{\"type\":\"event\"", length=claimed)], True
        if kind == "odd_payload":
            name, _ = rng.choice(self.events)
            payload = rng.choice(['5', '"x"', '[]', 'true', '{"value":"5"}', '{"value":null}', '{"value":[1]}',
                                  '{"value":{"value":5}}', '{"value":1,"value":2}', '{"":1}', '{"value":true}'])
            return kind, [self.frame(TEXT, event_json(name, raw_payload=payload))], False
        # odd_types
        text = rng.choice([
            '{"type":"hydrate","token":"x","state":{}}', '{"type":"delta","delta":{}}', '{"type":"error"}',
            '{"type":"event"}', '{"type":"event","name":""}', '{"type":"event","name":5}', '{"type":null}',
            '{"type":"event","name":"my_task_state.toggle_running","payload":null,"extra":[1,2,3]}',
            '[]', '"event"', '1', 'null', '', ' ', '{}', '{"type":"EVENT","name":"my_task_state.clear_counter"}',
            '{"type":"event","name":"my_task_state..toggle_running"}', '{"type":"event","name":".."}',
            '{"type":"event","name":"__proto__.constructor"}', '{"type":"event","name":"my_task_state.toggle_running\\u0000"}',
            '{"type":"resync"}', '{"type":"resync","v":-1}',
            '{"type":"event","name":"my_task_state.clear_counter","id":-1}',
            '{"type":"event","name":"my_task_state.clear_counter","id":9007199254740993}',
            '{"type":"event","name":"my_task_state.clear_counter","id":1.5}',
            '{"type":"event","name":"my_task_state.clear_counter","id":"7"}',
            '{"type":"event","name":"my_task_state.clear_counter","id":' + str(self.rng.randrange(1 << 53)) + '}',
        ])
        return "odd_types", [self.frame(TEXT, text)], False

    def deep(self):
        depth = 10_000
        shape = self.rng.randrange(5)
        if shape == 0:
            return '{"type":"event","name":"my_task_state.set_max_counter","payload":{"value":' + "[" * depth + "]" * depth + "}}"
        if shape == 1:
            return '{"type":"event","name":"x.y","payload":' + '{"a":' * depth + "1" + "}" * depth + "}"
        if shape == 2:
            return "[" * depth
        if shape == 3:
            return '{"a":' * depth
        return '{"type":"event","name":"x.y","payload":{"v":' + "[{" * (depth // 2) + '"k":1' + "}]" * (depth // 2) + "}}"

    def fragments(self, text):
        rng = self.rng
        pieces = rng.randint(2, 6)
        cuts = sorted(rng.sample(range(1, max(2, len(text))), min(pieces - 1, max(1, len(text) - 1))))
        parts = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
        frames = []
        for index, part in enumerate(parts):
            opcode = TEXT if index == 0 else CONTINUATION
            frames.append(self.frame(opcode, part, fin=index == len(parts) - 1))
            if index < len(parts) - 1 and rng.random() < 0.3:
                frames.append(self.frame(PING, b"mid"))
        return frames


# -- connections -----------------------------------------------------------------------------

class Slot:
    """One fuzzing connection, replaced whenever it ends."""

    def __init__(self):
        self.ws = None


def drain(ws, stats):
    """Reads whatever the server has sent, without blocking; False if the connection ended."""
    sock = ws.sock
    sock.setblocking(False)
    try:
        for _ in range(64):
            chunk = sock.recv(1 << 16)
            if not chunk:
                return False
            stats["bytes_in"] += len(chunk)
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        return False
    finally:
        try:
            sock.settimeout(5)
        except OSError:
            pass
    return True


class Witness(threading.Thread):
    """A well-behaved tab: makes exactly `count` changes, one at a time, each confirmed by its
    delta, while the fuzzer runs; then reads its state back on a fresh socket."""

    def __init__(self, port, count, interval, deadline):
        super().__init__(daemon=True)
        self.port, self.count, self.interval, self.deadline = port, count, interval, deadline
        self.token = "witness" + uuid.uuid4().hex
        self.failures = []
        self.done = 0
        self.final = None

    def run(self):
        try:
            self._run()
        except Exception as error:  # reported, not raised: the main thread checks failures
            self.failures.append(f"witness stopped after {self.done} changes: {type(error).__name__}: {error}")

    def _run(self):
        ws = rawws.RawWS.connect(self.port, token=self.token, timeout=15)
        hydrate = ws.hydrate(timeout=15)
        state = hydrate["state"]
        if "my_task_state" in state:
            self.state, self.var = "my_task_state", "max_counter"
            self.values = [1000 + i for i in range(1, self.count + 1)]
            self.send = lambda value: ws.event("my_task_state.set_max_counter", value=value)
            self.expected_final = 1000 + self.count
        elif "bench_state" in state:
            self.state, self.var = "bench_state", "counter"
            start = state["bench_state"]["counter"]
            self.values = [start + i for i in range(1, self.count + 1)]
            self.send = lambda value: ws.event("bench_state.increment")
            self.expected_final = start + self.count
        else:
            raise AssertionError(f"unknown app: {sorted(state)}")
        for value in self.values:
            if time.monotonic() > self.deadline:
                raise AssertionError("ran out of time")
            self.send(value)
            self._await(ws, value)
            self.done += 1
            time.sleep(self.interval)
        ws.close()
        check = rawws.RawWS.connect(self.port, token=self.token, resume=True, timeout=15)
        self.final = check.hydrate(timeout=15)["state"][self.state][self.var]
        check.close()
        if self.final != self.expected_final:
            self.failures.append(f"witness state is {self.final}, expected {self.expected_final}")

    def _await(self, ws, value):
        limit = min(self.deadline, time.monotonic() + 30)
        while True:
            message = ws.recv_message(timeout=max(0.01, limit - time.monotonic()), answer_pings=True)
            if isinstance(message, rawws.Frame):
                raise AssertionError(f"witness socket closed with {message.close_code} {message.close_reason!r}")
            message = json.loads(message)
            if message.get("type") == "error":
                self.failures.append(f"witness got an error: {message}")
                continue
            delta = message.get("delta", {})
            for state, values in delta.items():
                for var, got in values.items():
                    if (state, var) != (self.state, self.var):
                        self.failures.append(f"witness state changed by someone else: {state}.{var} = {got!r}")
                    elif got != value:
                        self.failures.append(f"witness expected {self.var} {value}, got {got!r}")
            if delta.get(self.state, {}).get(self.var) == value:
                return


def clean_tab(port, timeout=15):
    """Connects a new tab, checks its hydrate, sends one harmless event and waits for its delta.
    Returns None on success, else what went wrong."""
    try:
        with rawws.RawWS.connect(port, token=uuid.uuid4().hex, timeout=timeout) as ws:
            state = ws.hydrate(timeout=timeout)["state"]
            if "my_task_state" in state:
                ws.event("my_task_state.set_max_counter", value=4242)
                key, var, want = "my_task_state", "max_counter", 4242
            else:
                ws.event("bench_state.increment")
                key, var, want = "bench_state", "counter", state["bench_state"]["counter"] + 1
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                message = ws.recv_json(timeout=max(0.01, deadline - time.monotonic()))
                if message.get("delta", {}).get(key, {}).get(var) == want:
                    return None
            return "no delta for the clean tab's event"
    except Exception as error:
        return f"clean tab failed: {type(error).__name__}: {error}"


def open_connection(port, rng, generator, stats, witness_token, recent, odd_handshakes=True):
    """A new fuzzing socket: usually a normal upgrade, sometimes with an odd query, sometimes
    with the first frames pipelined behind the request."""
    roll = rng.random()
    if odd_handshakes and roll < 0.08:
        target = "/_rill/socket" + rng.choice(ODD_QUERIES)
        stats["odd_handshakes"] += 1
    else:
        choice = rng.random()
        token = None if choice < 0.1 else ("bad token!" if choice < 0.15 else uuid.uuid4().hex)
        assert token != witness_token
        target = rawws.socket_target(token, resume=rng.random() < 0.2)
    pipelined = b""
    frames_sent = 0
    if rng.random() < 0.15:
        pieces = []
        for _ in range(rng.randint(1, 20)):
            kind, frames, ends = generator.next()
            pieces.extend(frames)
            stats["kind:" + kind] += 1
            recent.append(f"(pipelined) {kind}: {' | '.join(generator.shown)}")
            if ends:
                break
        pipelined = b"".join(pieces)
        frames_sent = len(pieces)
        stats["pipelined_connections"] += 1
    recent.append(f"connect {target[:200]}")
    try:
        ws = rawws.RawWS.connect(port, target, pipelined=pipelined, timeout=10)
    except rawws.HandshakeRefused as refused:
        stats[f"handshake_{refused.status}"] += 1
        return None, frames_sent
    except (rawws.Closed, TimeoutError, OSError, AssertionError) as error:
        stats["handshake_failed:" + type(error).__name__] += 1
        return None, frames_sent
    stats["connections"] += 1
    return ws, frames_sent


def run(port, frames=10_000, seed=None, pid=None, connections=6, witness=100, witness_interval=0.1,
        time_limit=100.0, max_rss_growth=200 * MB, odd_handshakes=True, log=print):
    """Fuzzes the server on 127.0.0.1:`port`. Returns a dict with `ok`, `failures`, `frames`,
    `seed`, `stats` and memory figures."""
    seed = random.randrange(1 << 32) if seed is None else seed
    log(f"fuzz seed={seed} port={port} frames={frames}")
    rng = random.Random(seed)
    started = time.monotonic()
    deadline = started + time_limit
    pid = pid or pid_listening_on(port)
    failures = []

    problem = clean_tab(port)
    if problem:
        return {"ok": False, "failures": [f"before fuzzing: {problem}"], "seed": seed, "frames": 0, "stats": {}}
    baseline = rss_bytes(pid) if pid else None
    peak = baseline

    probe = rawws.RawWS.connect(port, token=uuid.uuid4().hex, timeout=15)
    state = probe.hydrate()["state"]
    probe.close()
    events = SEED_EVENTS if "my_task_state" in state else BENCH_EVENTS
    generator = Generator(rng, events)

    witness_thread = Witness(port, witness, witness_interval, deadline + 60)
    witness_thread.start()

    stats = Counter()
    recent = deque(maxlen=25)
    slots = [Slot() for _ in range(connections)]
    sent = 0
    server_gone = False
    while sent < frames and time.monotonic() < deadline:
        slot = rng.choice(slots)
        if slot.ws is None:
            slot.ws, pipelined = open_connection(port, rng, generator, stats, witness_thread.token, recent, odd_handshakes)
            sent += pipelined
            if slot.ws is None:
                if pid and not process_alive(pid):
                    server_gone = True
                    break
                continue
        kind, pieces, ends = generator.next()
        stats["kind:" + kind] += 1
        recent.append(f"{kind}: {' | '.join(generator.shown)}")
        try:
            slot.ws.send_raw(b"".join(pieces), timeout=5)
            sent += len(pieces)
        except (OSError, socket.timeout):
            stats["send_failed"] += 1
            slot.ws.close()
            slot.ws = None
            continue
        alive = drain(slot.ws, stats)
        # Mostly drop a connection we broke; sometimes keep sending on it until the server ends it.
        if (ends and rng.random() < 0.7) or not alive:
            stats["ended_by_us" if ends else "ended_by_server"] += 1
            slot.ws.close()
            slot.ws = None
        if sent % 500 < len(pieces) and pid:
            rss = rss_bytes(pid)
            if rss is None or not process_alive(pid):
                server_gone = True
                break
            peak = max(peak or 0, rss)
    for slot in slots:
        if slot.ws:
            slot.ws.close()
    elapsed = time.monotonic() - started
    log(f"sent {sent} frames over {stats['connections']} connections in {elapsed:.1f} s")

    # A dead server cannot finish the witness's changes: do not wait out the whole deadline.
    if pid and not process_alive(pid):
        server_gone = True
    witness_thread.join(timeout=5.0 if server_gone else max(5.0, deadline + 60 - time.monotonic()))
    if witness_thread.is_alive():
        failures.append(f"witness did not finish ({witness_thread.done} of {witness} changes)")
    failures.extend(witness_thread.failures)

    if pid and not process_alive(pid):
        server_gone = True
    if server_gone:
        failures.append("the server process died; last inputs:\n  " + "\n  ".join(list(recent)[-10:]))
    else:
        time.sleep(1)
        final = rss_bytes(pid) if pid else None
        if final is not None and baseline is not None:
            peak = max(peak or 0, final)
            growth = peak - baseline
            log(f"RSS {baseline / MB:.0f} MB -> peak {peak / MB:.0f} MB, now {final / MB:.0f} MB")
            if growth >= max_rss_growth:
                failures.append(f"RSS grew {growth / MB:.0f} MB (limit {max_rss_growth / MB:.0f} MB)")
        problem = clean_tab(port)
        if problem:
            failures.append(f"after fuzzing: {problem}")
    if sent < frames and not server_gone:
        failures.append(f"only {sent} of {frames} frames were sent within {time_limit} s")
    result = {
        "ok": not failures, "failures": failures, "seed": seed, "frames": sent, "elapsed": elapsed,
        "stats": dict(stats), "rss_baseline": baseline, "rss_peak": peak,
        "witness_changes": witness_thread.done, "witness_final": witness_thread.final,
    }
    log("stats: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.items())))
    log(("fuzz passed" if result["ok"] else "fuzz FAILED: " + " | ".join(failures)) + f" (seed={seed})")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="the Rill server's port on 127.0.0.1")
    parser.add_argument("--frames", type=int, default=10_000, help="frames to send")
    parser.add_argument("--seed", type=int, help="random seed (printed when not given)")
    parser.add_argument("--pid", type=int, help="the server's pid (found from the port when left out)")
    parser.add_argument("--connections", type=int, default=6, help="fuzzing connections kept open at once")
    parser.add_argument("--witness", type=int, default=100, help="changes the witness tab makes")
    parser.add_argument("--time-limit", type=float, default=100.0, help="seconds to spend sending")
    parser.add_argument("--max-rss-growth-mb", type=float, default=200.0)
    parser.add_argument("--no-odd-handshakes", action="store_true", help="only well-formed upgrade requests")
    options = parser.parse_args(argv)
    result = run(options.port, frames=options.frames, seed=options.seed, pid=options.pid,
                 connections=options.connections, witness=options.witness, time_limit=options.time_limit,
                 max_rss_growth=options.max_rss_growth_mb * MB, odd_handshakes=not options.no_odd_handshakes)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
