"""Hostile-client tests of a Rill server: inputs that must not trap, memory a socket may not
grow without bound, HTTP timeouts and limits, RFC 6455 rules, the event allow-list, the host
allow-list, lossless numbers, safe logs, and a fuzzer run.

Every test starts its own server process(es) (the `rill` fixture kills them afterwards) and
talks to 127.0.0.1 only, through `rawws` (a raw-socket client that sends exactly the bytes it is
told to) or plain sockets. Waits are bounded; time limits are generous on purpose, so a slow,
busy machine passes: only upper bounds (and one lower bound that a slow machine can only make
easier) are checked.
"""

import json
import re
import select
import signal
import socket
import time
import uuid

import pytest

import fuzz
import rawws
from rawws import CLOSE, PING, TEXT, RawWS, encode_frame, event_json

MB = 1 << 20
SEED = "my_task_state"


def new_token():
    return uuid.uuid4().hex


def assert_clean_tab(server):
    """A brand-new tab connects, hydrates, and gets the delta of an event it sends."""
    assert server.alive(), "the server process is gone:\n" + tail(server)
    problem = fuzz.clean_tab(server.port)
    assert problem is None, problem


def tail(server, size=3000):
    return server.log()[-size:].decode("utf-8", "replace")


def expect_close(ws, code, timeout=10):
    """Reads (skipping data frames) until the server's close frame; checks its code."""
    try:
        frame = ws.wait_close(timeout)
    except TimeoutError:
        raise AssertionError(f"no close frame within {timeout} s (expected {code}); the socket stayed open") from None
    assert frame is not None, f"the connection ended without a close frame (expected code {code})"
    assert frame.close_code == code, f"closed with {frame.close_code} {frame.close_reason!r}, expected {code}"
    return frame


def read_messages(ws, duration, limit=10_000):
    """JSON messages arriving within `duration` seconds (stops early at a close frame or EOF)."""
    messages = []
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline and len(messages) < limit:
        try:
            message = ws.recv_message(timeout=max(0.01, deadline - time.monotonic()), answer_pings=True)
        except (TimeoutError, rawws.Closed):
            break
        if isinstance(message, rawws.Frame):
            break
        messages.append(json.loads(message))
    return messages


def read_until(ws, predicate, timeout=15):
    """Messages up to and including the first one `predicate` accepts."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the expected message never came; got {seen[-5:]}")
        message = ws.recv_json(timeout=remaining)
        seen.append(message)
        if predicate(message):
            return seen


def delta_value(message, var, state=SEED):
    return message.get("delta", {}).get(state, {}).get(var)


def set_max(ws, value):
    ws.event(f"{SEED}.set_max_counter", value=value)
    read_until(ws, lambda m: delta_value(m, "max_counter") == value)


def hydrated_state(server, token):
    """The tab's state as a socket taking its token over (`resume=1`) is given it."""
    with RawWS.connect(server.port, token=token, resume=True) as ws:
        hydrate = ws.hydrate()
        assert hydrate["token"] == token, hydrate
        return hydrate["state"][SEED]


def wait_closed(sock, timeout):
    """Seconds until the server ends this connection (data it sends is read and dropped), or
    None if it is still open after `timeout`."""
    start = time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], min(0.5, max(0.0, deadline - time.monotonic())))
        if ready:
            try:
                if not sock.recv(1 << 16):
                    return time.monotonic() - start
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - start
    return None


# -- 1. No input traps ------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/anything?=", "/_rill/socket?=", "/_rill/socket?&&=&=x", "/_rill/socket?%zz=1",
                                    "/?=", "/_rill/socket?token=%zz&path=%&resume=%"])
def test_odd_query_in_an_upgrade_request_does_not_stop_the_process(rill, target):
    """An upgrade request (valid WebSocket headers) whose query has an empty key, empty pairs or
    a broken percent escape is answered somehow (101, 400, 404: any) but the process keeps
    running, and a clean tab connects, hydrates and gets a delta afterwards. (Before hardening,
    `?=` trapped the whole process.)"""
    server = rill("BackgroundTask")
    request, _ = rawws.upgrade_request(server.port, target)
    result = rawws.http_exchange(server.port, request, timeout=3)
    time.sleep(0.5)
    assert server.alive(), f"{target!r} stopped the process ({result!r}):\n" + tail(server)
    assert_clean_tab(server)


# -- 2. Per-socket memory is bounded ---------------------------------------------------------------

def send_until_pushed_back(sock, batch, count, deadline, on_batch=lambda: None):
    """Sends `batch` `count` times; stops early if the server stops reading (a send times out),
    closes the connection, or time runs out. Returns how many batches went out."""
    sent = 0
    sock.settimeout(10)
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            sock.sendall(batch)
        except socket.timeout:
            break
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += 1
        on_batch()
    return sent


def flood(server, data, count, settle):
    """A new tab sends `data` `count` times (see send_until_pushed_back) and never reads. The
    server's RSS is sampled after each send and every 0.5 s for `settle` more samples, since
    what the tab is owed may still pile up after the sends stop. Returns the tab's open socket,
    the sends that went out, and the RSS's peak growth."""
    baseline = server.rss()
    peak = baseline

    def sample():
        nonlocal peak
        peak = max(peak, server.rss() or 0)

    ws = RawWS.connect(server.port, token=new_token())
    ws.hydrate()
    sent = send_until_pushed_back(ws.sock, data, count, time.monotonic() + 120, sample)
    for _ in range(settle):
        time.sleep(0.5)
        sample()
    return ws, sent, peak - baseline


def test_a_flood_of_pings_from_a_client_that_never_reads_costs_bounded_memory(rill):
    """A tab sends 200,000 pings (125-byte payloads) and never reads the pongs. The server must
    not queue one pong per ping: its RSS (VmRSS, sampled throughout) grows by less than 64 MB,
    and a clean tab still connects and works while the flooding socket stays open. The server
    may stop reading from the flooder (the sends then time out) or close it; both are fine."""
    server = rill("BackgroundTask")
    assert_clean_tab(server)
    batch = b"".join(encode_frame(PING, bytes([i % 251]) * 125) for i in range(1000))
    flooder, sent, growth = flood(server, batch, 200, settle=6)
    try:
        assert server.alive(), tail(server)
        assert growth < 64 * MB, f"RSS grew {growth / MB:.0f} MB after {sent * 1000} unread pings"
        assert_clean_tab(server)
    finally:
        flooder.close()


def test_navigations_and_stored_values_from_a_client_that_never_reads_cost_bounded_memory(rill):
    """A tab sends 10,000 navigations to 4 KB paths and 10,000 messages of 256 stored values for
    vars the app does not keep, and never reads. Each is queued like an event or refused with
    an error, so the tab's queue and its unread errors stay within their bounds: RSS grows by
    less than 64 MB, and a clean tab still works."""
    server = rill("BackgroundTask")
    assert_clean_tab(server)
    navigate = json.dumps({"type": "navigate", "path": "/" + "x" * 4000}).encode()
    stored = json.dumps({"type": "storage", "values": {f"{SEED}.v{i}": "y" * 100 for i in range(256)}}).encode()
    batch = b"".join(encode_frame(TEXT, navigate) + encode_frame(TEXT, stored) for _ in range(100))
    flooder, sent, growth = flood(server, batch, 100, settle=6)
    try:
        assert server.alive(), tail(server)
        assert growth < 64 * MB, f"RSS grew {growth / MB:.0f} MB after {sent * 100} navigations and stores"
        assert_clean_tab(server)
    finally:
        flooder.close()


def test_resyncs_and_scattered_event_ids_from_a_client_that_never_reads_cost_bounded_memory(rill):
    """A tab asks for its whole state 20,000 times and sends 20,000 events whose ids are scattered
    at random (so its window of applied ids cannot stay a few runs), and never reads. Waiting
    requests for the state fold into one, hydrates for a tab that does not read fold into one,
    and the window keeps at most 64 runs: RSS grows by less than 64 MB, and a clean tab works."""
    server = rill("BackgroundTask")
    assert_clean_tab(server)
    resync = json.dumps({"type": "resync"}).encode()
    events = [json.dumps({"type": "event", "name": f"{SEED}.clear_counter", "payload": {},
                          "id": (i * 2_654_435_761) % (1 << 40)}).encode() for i in range(100)]
    batch = b"".join(encode_frame(TEXT, resync) + encode_frame(TEXT, event) for event in events)
    flooder, sent, growth = flood(server, batch, 200, settle=6)
    try:
        assert server.alive(), tail(server)
        assert growth < 64 * MB, f"RSS grew {growth / MB:.0f} MB after {sent * 100} resyncs and events"
        assert_clean_tab(server)
    finally:
        flooder.close()


def test_events_with_megabyte_names_from_a_client_that_never_reads_cost_bounded_memory(rill):
    """A tab sends 80 events, each with a 1,000,000-character unknown name, and does not read.
    Each is refused with an `error`; the errors that wait for the tab must not each carry the
    name: RSS grows by less than 128 MB. Then the tab reads: every `error` it gets quotes at
    most ~200 characters of the name (no run of more than 256 name characters in `message` or
    in `event`), and a clean tab works."""
    server = rill("BackgroundTask")
    assert_clean_tab(server)
    frame = encode_frame(TEXT, event_json(SEED + "." + "q" * 1_000_000))
    ws, sent, growth = flood(server, frame, 80, settle=10)
    assert server.alive(), tail(server)
    assert growth < 128 * MB, f"RSS grew {growth / MB:.0f} MB after {sent} unread 1 MB events"
    errors = [m for m in read_messages(ws, 10) if m.get("type") == "error"]
    ws.close()
    assert errors, "the tab was told nothing about its refused events"
    for error in errors:
        for field in ("message", "event"):
            longest = max((len(run) for run in re.findall("q+", error.get(field) or "")), default=0)
            assert longest <= 256, f"an error's {field!r} quotes {longest} characters of the name"
    assert_clean_tab(server)


def test_frames_before_the_tab_is_connected_are_capped_at_one_mebibyte(rill, redis):
    """While the tab's state is still loading (its Redis is paused with SIGSTOP, so the
    connection cannot finish), the tab sends three 400 KB messages (each under the 1 MiB
    message limit, 1.2 MB together; only three, far below the 1000-message count limit). The
    server must not keep more than 1 MiB of early frames: it closes the socket with 1008."""
    server = rill("BackgroundTask", "--redis", redis.url)
    assert_clean_tab(server)
    padding = "p" * 400_000
    message = '{"type":"event","name":"%s.clear_counter","payload":{},"pad":"%s"}' % (SEED, padding)
    redis.process.send_signal(signal.SIGSTOP)
    try:
        ws = RawWS.connect(server.port, token=new_token())
        for _ in range(3):
            try:
                ws.send_text(message)
            except (BrokenPipeError, ConnectionResetError):
                break
        expect_close(ws, 1008, timeout=15)
        ws.close()
    finally:
        redis.process.send_signal(signal.SIGCONT)
    assert server.alive()


def test_small_frames_before_the_tab_is_connected_still_run_after_its_hydrate(rill, redis):
    """The byte cap must not break the early queue: with Redis paused for a second, a tab sends
    set_max_counter 44 and then 45 right after the upgrade; once Redis is back it gets its
    hydrate first and then the deltas 44 and 45, in that order."""
    server = rill("BackgroundTask", "--redis", redis.url)
    assert_clean_tab(server)
    redis.process.send_signal(signal.SIGSTOP)
    try:
        ws = RawWS.connect(server.port, token=new_token())
        ws.event(f"{SEED}.set_max_counter", value=44)
        ws.event(f"{SEED}.set_max_counter", value=45)
        time.sleep(1)
    finally:
        redis.process.send_signal(signal.SIGCONT)
    with ws:
        ws.hydrate(timeout=20)
        messages = read_until(ws, lambda m: delta_value(m, "max_counter") == 45, timeout=20)
    values = [delta_value(m, "max_counter") for m in messages if delta_value(m, "max_counter") is not None]
    assert values == [44, 45], messages


# -- 3. HTTP timeouts, malformed requests, connection limit ---------------------------------------

def test_slowloris_request_head_is_cut_off_after_the_header_timeout(rill):
    """With `--header-timeout 2`, a client that sends a request line and Host, then one more
    header byte per second (never finishing the head) is disconnected within the header
    timeout plus slack (15 s in all): trickling bytes must not keep the connection alive."""
    server = rill("BackgroundTask", "--header-timeout", "2")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        closed_after = None
        for byte in b"X-Slow: " + b"a" * 40:
            try:
                sock.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - start
                break
            waited = wait_closed(sock, 1.0)
            if waited is not None:
                closed_after = time.monotonic() - start
                break
            if time.monotonic() - start > 20:
                break
        assert closed_after is not None, "a slowloris client kept its connection for 20 s"
        assert closed_after < 15, f"closed only after {closed_after:.1f} s"
    finally:
        sock.close()
    assert_clean_tab(server)


def test_silent_connection_is_closed_after_the_header_timeout(rill):
    """With `--header-timeout 2`, a connection that sends nothing is closed within 15 s."""
    server = rill("BackgroundTask", "--header-timeout", "2")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        waited = wait_closed(sock, 15)
    assert waited is not None, "a silent connection was still open after 15 s"


def test_silent_connection_is_closed_after_the_default_header_timeout(rill):
    """Without options the header timeout is 10 s: a connection that sends nothing is closed
    within 10 s plus slack (25 s in all)."""
    server = rill("BackgroundTask")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        waited = wait_closed(sock, 25)
    assert waited is not None, "a silent connection was still open after 25 s"


def test_keep_alive_connection_idles_for_the_idle_timeout_not_the_header_timeout(rill):
    """With `--header-timeout 2 --idle-timeout 6`: after a complete `GET /ping` and its
    response on a keep-alive connection, the idle connection is still open 4 s later (the
    header timeout must not apply between requests) and is closed within 6 s plus slack
    (20 s in all)."""
    server = rill("BackgroundTask", "--header-timeout", "2", "--idle-timeout", "6")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        raw = b""
        deadline = time.monotonic() + 10
        while not rawws._complete(raw) and time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            raw += chunk
        assert raw.startswith(b"HTTP/1.1 200"), raw[:200]
        early = wait_closed(sock, 4)
        assert early is None, f"the idle keep-alive connection was closed after {early:.1f} s, before the 6 s idle timeout"
        late = wait_closed(sock, 16)
        assert late is not None, "an idle keep-alive connection was still open 20 s after its last response"


def test_http_timeouts_do_not_cut_off_a_quiet_websocket(rill):
    """With `--header-timeout 1 --idle-timeout 2`, a connected tab that sends nothing for 5 s
    (the server's 30 s pings have not started) is still connected and its events still work:
    the HTTP timeouts end at the upgrade."""
    server = rill("BackgroundTask", "--header-timeout", "1", "--idle-timeout", "2")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        time.sleep(5)
        set_max(ws, 57)


MALFORMED = {
    "garbage request line": b"THIS IS NOT HTTP AT ALL\r\nHost: 127.0.0.1\r\n\r\n",
    "header line without colon": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonInThisLine\r\n\r\n",
    "non-ASCII in the target": b"GET /caf\xc3\xa9\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "non-ASCII in a header name": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-\xff\xfe: 1\r\n\r\n",
}
# Bytes past ASCII in a header *value* are obs-text, which HTTP/1.1 lets servers accept for old
# clients (RFC 9110 5.5); Rill does, so they are not in the table above.


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_request_gets_400_and_the_connection_closes(rill, case):
    """A malformed request head gets a response starting `HTTP/1.1 400`, then the server ends
    the connection (within 5 s, well before any header timeout); the process keeps serving."""
    server = rill("BackgroundTask")
    result = rawws.http_exchange(server.port, MALFORMED[case], timeout=5)
    assert result.raw.startswith(b"HTTP/1.1 400"), result
    assert result.closed, f"the connection stayed open after the 400: {result!r}"
    assert_clean_tab(server)


def test_connection_limit_closes_extra_connections_logs_it_and_recovers(rill):
    """With `--max-connections 50 --header-timeout 10`, 80 silent connections are opened. The
    30 over the limit are closed at once (checked: at least 30 are closed within 8 s, before
    any header timeout), the log has a line containing "connection limit", and once the 50
    admitted ones have timed out (all 80 closed within 40 s) a new tab connects and works."""
    server = rill("BackgroundTask", "--max-connections", "50", "--header-timeout", "10")
    socks = []
    try:
        for _ in range(80):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        start = time.monotonic()
        closed = set()

        def poll(until, goal):
            while time.monotonic() < until and len(closed) < goal:
                open_ones = [s for s in socks if s not in closed]
                ready, _, _ = select.select(open_ones, [], [], 0.2)
                for sock in ready:
                    try:
                        if not sock.recv(4096):
                            closed.add(sock)
                    except OSError:
                        closed.add(sock)

        poll(start + 8, 30)
        assert len(closed) >= 30, f"only {len(closed)} of 80 connections were closed within 8 s (limit 50)"
        assert b"connection limit" in server.log(), "no log line mentions the connection limit:\n" + tail(server)
        poll(start + 40, 80)
        assert len(closed) == 80, f"{80 - len(closed)} silent connections were still open after 40 s"
    finally:
        for sock in socks:
            sock.close()
    assert_clean_tab(server)


# -- 4. Two processes sharing Redis ------------------------------------------------------------------

def test_token_connected_on_another_process_is_not_shared_without_resume_and_is_taken_over_with_it(rill, redis):
    """Two BackgroundTask processes share Redis. Tab A connects to process 1 with token T. A
    socket to process 2 with T and no `resume` is a duplicate: its hydrate carries a different
    token. A socket to process 2 with T and `resume=1` gets T, and A's socket (on process 1) is
    closed with code 4001."""
    one = rill("BackgroundTask", "--redis", redis.url)
    two = rill("BackgroundTask", "--redis", redis.url)
    token = new_token()
    a = RawWS.connect(one.port, token=token)
    assert a.hydrate()["token"] == token
    with RawWS.connect(two.port, token=token) as duplicate:
        other = duplicate.hydrate()["token"]
    assert other != token, "process 2 gave a duplicate tab the token connected on process 1"
    with RawWS.connect(two.port, token=token, resume=True) as resumed:
        assert resumed.hydrate()["token"] == token
        expect_close(a, 4001, timeout=15)
    a.close()


# -- 5. A connected tab's state never expires ------------------------------------------------------

@pytest.mark.parametrize("mode", ["memory", "redis"])
def test_a_connected_tabs_state_outlives_the_token_expiry(rill, request, mode):
    """With `--token-expiry 2`: a tab sets max_counter to 33 and runs the counter so counter is
    at least 1, then stops it and stays connected, silent, for 5 s. Another socket connects (so
    expired states are swept), then the first tab sends clear_counter: it must get the delta
    counter=0 (a state recreated from scratch would have nothing to clear), and its state, read
    back, still has max_counter 33."""
    args = ["--token-expiry", "2"]
    if mode == "redis":
        args += ["--redis", request.getfixturevalue("redis").url]
    server = rill("BackgroundTask", *args)
    token = new_token()
    ws = RawWS.connect(server.port, token=token)
    ws.hydrate()
    set_max(ws, 33)
    ws.event(f"{SEED}.toggle_running")
    read_until(ws, lambda m: (delta_value(m, "counter") or 0) >= 1)
    ws.event(f"{SEED}.toggle_running")
    read_until(ws, lambda m: delta_value(m, "running") is False)
    read_messages(ws, 5)  # connected and silent past the expiry (pings, if any, are answered)
    with RawWS.connect(server.port, token=new_token()) as other:
        other.hydrate()
        ws.event(f"{SEED}.clear_counter")
        try:
            read_until(ws, lambda m: delta_value(m, "counter") == 0, timeout=10)
        except AssertionError:
            raise AssertionError("clear_counter changed nothing: the connected tab's state had expired") from None
    assert hydrated_state(server, token)["max_counter"] == 33
    ws.close()


# -- 6. Event allow-list and the task cap -------------------------------------------------------------

@pytest.mark.parametrize("name,payload", [(f"{SEED}.my_task", {}), (f"{SEED}.set_counter", {"value": 5})])
def test_events_no_page_binds_are_refused(rill, name, payload):
    """`my_task` (a background task only chained by toggle_running) and `set_counter` (a setter
    no component binds) sent from a socket get an `error` whose message starts with "no event"
    and whose `event` names them; no delta follows and the state read back is unchanged."""
    server = rill("BackgroundTask")
    token = new_token()
    with RawWS.connect(server.port, token=token) as ws:
        before = ws.hydrate()["state"][SEED]
        ws.event(name, **payload)
        messages = read_messages(ws, 3)
    errors = [m for m in messages if m.get("type") == "error"]
    deltas = [m for m in messages if m.get("type") == "delta"]
    assert errors, f"{name} was not refused; got {messages}"
    assert errors[0]["message"].startswith("no event"), errors[0]
    assert errors[0].get("event") == name, errors[0]
    assert not deltas, f"{name} changed the state: {deltas}"
    assert hydrated_state(server, token) == before


def test_bound_events_still_work(rill):
    """The events the page binds — set_max_counter (the number input) and toggle_running (the
    button), which chains my_task — work: their deltas arrive and the counter starts."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        set_max(ws, 3)
        ws.event(f"{SEED}.toggle_running")
        read_until(ws, lambda m: delta_value(m, "running") is True)
        read_until(ws, lambda m: (delta_value(m, "counter") or 0) >= 1)


def test_background_task_cap_refuses_more_tasks_with_an_error_naming_the_limit(rill):
    """With `--max-tasks 1`: toggle_running starts my_task, which keeps running (max_counter
    1000, a step every 500 ms). Then toggle_running twice: the second chains my_task again
    while the first is still alive (it only looks at `running` between steps, and sees it true
    again). That second task must be refused with an `error` whose message mentions the limit
    (the word "limit" or "max", and the number 1); the first keeps counting."""
    server = rill("BackgroundTask", "--max-tasks", "1")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        set_max(ws, 1000)
        ws.event(f"{SEED}.toggle_running")
        read_until(ws, lambda m: (delta_value(m, "counter") or 0) >= 1)
        ws.event(f"{SEED}.toggle_running")
        ws.event(f"{SEED}.toggle_running")
        messages = read_until(ws, lambda m: m.get("type") == "error", timeout=10)
        error = messages[-1]
        text = error["message"].lower()
        assert ("limit" in text or "max" in text) and re.search(r"\b1\b", text), error
        read_until(ws, lambda m: (delta_value(m, "counter") or 0) >= 3)


# -- 7. A FIN is a disconnect ---------------------------------------------------------------------

def test_fin_without_close_frame_frees_the_token_at_once(rill):
    """A tab with token T gets its hydrate, then half-closes (shutdown SHUT_WR: a FIN, no close
    frame). A socket connecting right after with T and no `resume` must get T back (tried for
    up to 4 s, as the FIN and the new connection may be handled on different threads; before
    hardening a fresh token came back for up to a minute), and the server ends the half-closed
    connection."""
    server = rill("BackgroundTask")
    token = new_token()
    first = RawWS.connect(server.port, token=token)
    first.hydrate()
    first.shutdown_write()
    got = []
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        with RawWS.connect(server.port, token=token) as again:
            got.append(again.hydrate()["token"])
        if got[-1] == token:
            break
        time.sleep(0.2)
    try:
        assert got[-1] == token, f"after a FIN the token was still taken ({len(got)} tries)"
        assert first.wait_eof(10), "the server kept the half-closed connection open"
    finally:
        first.close()


# -- 8. Logs ------------------------------------------------------------------------------------

INJECTION = "x\nINJECTED-LF 2026-01-01T00:00:00+0000 critical fake\rINJECTED-CR fake\x1b[31mINJECTED-ESC\x1b[0m"


def test_client_text_cannot_forge_log_lines_or_send_terminal_escapes(rill):
    """Event names, message types, payload values, a token, a page path and an Origin header
    carrying "\\n", "\\r" and "\\x1b[31m" are all refused or answered; afterwards no line of
    the process output (split at both LF and CR) starts with the injected text, and the output
    holds no ESC byte (0x1b) at all."""
    server = rill("BackgroundTask")
    name = SEED + "." + INJECTION
    with RawWS.connect(server.port, rawws.socket_target(INJECTION + "tokentoken", path="/" + INJECTION)) as ws:
        ws.hydrate()
        ws.send_text(event_json(name))
        ws.send_text('{"type":"event","name":%s,"payload":5}' % json.dumps(name))
        ws.send_text('{"type":%s}' % json.dumps(INJECTION))
        ws.send_text(event_json(f"{SEED}.set_max_counter", {"value": INJECTION}))
        ws.send_text(event_json(INJECTION))
        messages = read_messages(ws, 4)
    assert any(m.get("type") == "error" for m in messages), messages
    request, _ = rawws.upgrade_request(server.port, rawws.socket_target(new_token()), origin="http://evil\x1b[31m.example")
    rawws.http_exchange(server.port, request, timeout=3)
    time.sleep(1)
    log = server.log()
    for line in re.split(rb"[\r\n]", log):
        assert not line.lstrip().startswith(b"INJECTED"), f"forged log line: {line[:200]!r}"
    assert b"\x1b" not in log, "raw ESC in the log: " + repr(log[max(0, log.index(b"\x1b") - 100):][:200])


def test_a_megabyte_name_makes_no_log_line_longer_than_4_kb(rill):
    """An event with a 1,000,000-character unknown name is refused; no line of the process
    output is longer than 4096 bytes."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.send_text(event_json(SEED + "." + "z" * 1_000_000))
        read_until(ws, lambda m: m.get("type") == "error", timeout=20)
    time.sleep(1)
    longest = max(len(line) for line in server.log().split(b"\n"))
    assert longest <= 4096, f"a log line of {longest} bytes"


def test_a_thousand_bad_events_make_about_a_hundred_log_lines_at_most(rill):
    """One tab sends 1,000 events with unknown names in one burst and reads what comes back.
    The process output grows by at most 150 lines (the budget is about 100; the rest is slack
    for a summary or a rate that refills while the burst is handled)."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        time.sleep(0.5)
        before = server.log().count(b"\n")
        burst = b"".join(encode_frame(TEXT, event_json(f"{SEED}.no_such_event_{i}")) for i in range(1000))
        ws.send_raw(burst, timeout=30)
        quiet_deadline = time.monotonic() + 60
        while time.monotonic() < quiet_deadline:
            if not read_messages(ws, 2, limit=2000):
                break
    time.sleep(1)
    added = server.log().count(b"\n") - before
    assert added <= 150, f"1,000 bad events produced {added} log lines"


# -- 9. RFC 6455 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rsv", [4, 2, 1], ids=["RSV1", "RSV2", "RSV3"])
def test_frame_with_reserved_bit_is_closed_with_1002(rill, rsv):
    """A text frame (a valid event) with a reserved bit set, and no extension negotiated, gets
    a close frame with code 1002 (protocol error)."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.send_frame(TEXT, event_json(f"{SEED}.clear_counter"), rsv=rsv)
        expect_close(ws, 1002)


@pytest.mark.parametrize("opcode", [TEXT, PING], ids=["text", "ping"])
def test_unmasked_client_frame_is_closed_with_1002(rill, opcode):
    """A client frame without a mask (here a valid event, or a ping) gets a close frame with
    code 1002: RFC 6455 requires every client frame to be masked."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        payload = event_json(f"{SEED}.clear_counter") if opcode == TEXT else b"hi"
        ws.send_frame(opcode, payload, mask=False)
        expect_close(ws, 1002)


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2999, 5000])
def test_close_frame_with_invalid_code_is_answered_with_1002(rill, code):
    """A close frame carrying a code a peer may not send (below 1000, reserved, or above 4999)
    is answered with a close frame with code 1002, not echoed."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.send_close(code, "bye")
        expect_close(ws, 1002)


def test_close_frame_with_a_one_byte_payload_is_answered_with_1002(rill):
    """A close frame whose payload is a single byte (half a status code) is a protocol error:
    the server answers with 1002."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.send_frame(CLOSE, b"\x03")
        expect_close(ws, 1002)


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
def test_close_frame_with_valid_code_is_echoed(rill, code):
    """A close frame with a valid code is answered with the same code (the normal closing
    handshake), and the server then ends the connection."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.send_close(code)
        expect_close(ws, code)
        assert ws.wait_eof(10)


def test_single_frame_over_the_message_size_gets_1009_before_the_connection_ends(rill):
    """With `--max-message-size 4096`, one 10,000-byte text frame: a close frame with code 1009
    arrives before the connection ends (the connection must not just be dropped)."""
    server = rill("BackgroundTask", "--max-message-size", "4096")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.send_text('{"type":"event","name":"%s.clear_counter","pad":"%s"}' % (SEED, "x" * 9940))
        expect_close(ws, 1009)
    assert_clean_tab(server)


def test_fragmented_message_over_the_message_size_gets_1009(rill):
    """With `--max-message-size 4096`, a message sent as three 2,000-byte fragments is closed
    with 1009 once its pieces add up to more than the limit."""
    server = rill("BackgroundTask", "--max-message-size", "4096")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.send_frame(TEXT, b"{" + b" " * 1999, fin=False)
        ws.send_frame(rawws.CONTINUATION, b" " * 2000, fin=False)
        ws.send_frame(rawws.CONTINUATION, b" " * 2000, fin=False)
        expect_close(ws, 1009)


@pytest.mark.parametrize("shape", ["long ping", "fragmented ping"])
def test_malformed_control_frame_is_closed_with_1002(rill, shape):
    """A control frame with more than 125 bytes of payload, or without FIN, gets 1002."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        if shape == "long ping":
            ws.send_frame(PING, b"p" * 126)
        else:
            ws.send_frame(PING, b"p", fin=False)
        expect_close(ws, 1002)


# -- 10. Host allow-list ---------------------------------------------------------------------------

def test_foreign_host_gets_403_for_pages_and_sockets(rill):
    """By default only loopback names are served: `GET /` with `Host: evil.example` gets 403,
    and so does a socket upgrade with `Host: evil.example` and `Origin: http://evil.example`
    (a DNS-rebinding page, whose Origin matches its Host)."""
    server = rill("BackgroundTask")
    page = rawws.get(server.port, "/", host="evil.example")
    assert page.status == 403, page
    request, _ = rawws.upgrade_request(server.port, rawws.socket_target(new_token()), host="evil.example",
                                       origin="http://evil.example")
    upgrade = rawws.http_exchange(server.port, request, timeout=5)
    assert upgrade.status == 403, upgrade


@pytest.mark.parametrize("host", ["localhost", "localhost:1234", "127.0.0.1", "127.0.0.1:{port}", "[::1]", "[::1]:8000"])
def test_loopback_hosts_are_served(rill, host):
    """`GET /` with a Host naming loopback (localhost, 127.0.0.1, [::1]; with or without any
    port) gets 200."""
    server = rill("BackgroundTask")
    page = rawws.get(server.port, "/", host=host.format(port=server.port))
    assert page.status == 200, page


def test_allowed_host_option_adds_names(rill):
    """`--allowed-host rill.test --allowed-host other.test` serves both names (`GET /` gets
    200, a socket with a matching Origin connects and hydrates) while `evil.example` still
    gets 403."""
    server = rill("BackgroundTask", "--allowed-host", "rill.test", "--allowed-host", "other.test")
    for name in ("rill.test", "other.test"):
        page = rawws.get(server.port, "/", host=name)
        assert page.status == 200, (name, page)
    with RawWS.connect(server.port, token=new_token(), host="rill.test", origin="http://rill.test") as ws:
        ws.hydrate()
    assert rawws.get(server.port, "/", host="evil.example").status == 403


# -- 12. Lossless numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["-9223372036854775809", "9223372036854775808", "9007199254740993.0", "1e-400", "1.5"])
def test_numbers_that_do_not_fit_an_int_exactly_are_refused(rill, number):
    """set_max_counter with a value that is not exactly an Int (out of range, a double that
    rounded, an underflow to 0, a fraction; sent as raw JSON text) gets an `error` and no
    delta: after max_counter is set to 21, the bad value, then 22, the tab sees an error and
    then max_counter 22, and never any other value."""
    server = rill("BackgroundTask")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        set_max(ws, 21)
        ws.send_text(event_json(f"{SEED}.set_max_counter", raw_payload='{"value":%s}' % number))
        ws.event(f"{SEED}.set_max_counter", value=22)
        messages = read_until(ws, lambda m: delta_value(m, "max_counter") == 22)
    values = [delta_value(m, "max_counter") for m in messages if delta_value(m, "max_counter") is not None]
    assert values == [22], f"{number} was taken as {values[:-1]}"
    assert any(m.get("type") == "error" for m in messages), f"no error for {number}: {messages}"


# -- 13. Security headers on every response -----------------------------------------------------------

def _plain(path):
    return lambda port: rawws.get(port, path)


def _upgrade(target, origin=None):
    def send(port):
        request, _ = rawws.upgrade_request(port, target, origin=origin)
        return rawws.http_exchange(port, request, timeout=5)
    return send


RESPONSES = {
    "page /": (_plain("/"), 200),
    "/ping": (_plain("/ping"), 200),
    "/_rill/rill.js": (_plain("/_rill/rill.js"), 200),
    "404": (_plain("/no/such/page"), 404),
    "/favicon.ico": (_plain("/favicon.ico"), None),
    "socket without upgrade": (_plain("/_rill/socket"), 400),
    "upgrade refused by Origin": (_upgrade("/_rill/socket?token=abcdefgh12345678", "http://evil.example"), 403),
    "upgrade of another path": (_upgrade("/elsewhere"), 404),
    "upgrade from a foreign Host": (lambda port: rawws.http_exchange(port, rawws.upgrade_request(
        port, "/_rill/socket", host="evil.example", origin="http://evil.example")[0], timeout=5), 403),
    "malformed request": (lambda port: rawws.http_exchange(port, MALFORMED["header line without colon"], timeout=5), 400),
}


@pytest.mark.parametrize("case", list(RESPONSES))
def test_every_response_carries_nosniff_and_a_content_security_policy(rill, case):
    """Each HTTP response — pages, /ping, assets, 404, /favicon.ico, the socket path without an
    upgrade (400), refused upgrades (403, 404), a malformed request (400) — has
    `X-Content-Type-Options: nosniff` and a non-empty `Content-Security-Policy`."""
    server = rill("BackgroundTask")
    send, status = RESPONSES[case]
    result = send(server.port)
    assert result.status is not None, result
    if status is not None:
        assert result.status == status, result
    assert result.headers.get("x-content-type-options", "").lower() == "nosniff", result
    assert result.headers.get("content-security-policy"), result


# -- The fuzzer ---------------------------------------------------------------------------------------

def test_fuzzing_twenty_thousand_frames_leaves_the_server_alive_small_and_correct(rill):
    """Runs fuzz.py (seeded; the seed is printed) with 20,000 hostile frames over many
    connections against BackgroundTask, while a witness tab sets max_counter 100 times and
    checks each delta and the final state (1100). Then: the process is alive, its RSS grew less
    than 200 MB, and a clean tab works. Must finish within 100 s of sending."""
    server = rill("BackgroundTask")
    result = fuzz.run(server.port, frames=20_000, pid=server.pid, witness=100, witness_interval=0.03, time_limit=100)
    if not server.alive():
        result["failures"].append("process output:\n" + tail(server))
    assert result["ok"], f"seed {result['seed']}: " + "\n".join(result["failures"])
    assert result["frames"] >= 20_000


@pytest.mark.parametrize("n", [-1, -9223372036854775808, 1_000_001])
def test_an_argument_out_of_range_is_an_error_not_a_crash(rill, n):
    """The bench server's public task counts to `n`, which a client chooses: a negative or huge
    one gets an `error` naming the range, and the process goes on serving (a range of `0..<n`
    with n < 0 would trap and end the process)."""
    server = rill("BenchServer")
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.event("bench_state.bg_count", n=n)
        messages = read_until(ws, lambda m: m.get("type") == "error")
    assert "n must be 0 to 1000000" in messages[-1]["message"]
    assert server.process.poll() is None, "the server died"
    with RawWS.connect(server.port, token=new_token()) as ws:
        ws.hydrate()
        ws.event("bench_state.bg_count", n=3)
        read_until(ws, lambda m: (m.get("delta") or {}).get("bench_state", {}).get("counter") == 3)


def room_count(port, room="lobby", timeout=15):
    """A new tab enters `room` of the Room example and returns the count its value shows."""
    with RawWS.connect(port, token=new_token(), timeout=timeout) as ws:
        ws.hydrate(timeout=timeout)
        ws.event("visitor.set_name", value="probe")
        ws.event("visitor.set_room_name", value=room)
        ws.event("visitor.enter")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = ws.recv_json(timeout=max(0.01, deadline - time.monotonic()))
            if message.get("type") == "hydrate" and message.get("s") == "chat_room" and "v" in message:
                return message["state"]["chat_room"]["count"]
    raise AssertionError("the probe tab never got the room")


def test_a_linked_tab_flooding_changes_and_relinks_never_reading_costs_bounded_memory_and_others_stay_exact(rill):
    """A tab of the Room example enters rooms and changes them as fast as it can send, moving
    between two rooms 200 times, and never reads. Its queue bounds what waits, the changes and
    presence lists of the rooms it moves through are written under their keys' locks, and the
    updates it does not read fold together: RSS grows by less than 64 MB. A tab in the lobby
    that reads all along ends showing exactly the count a new tab finds there."""
    server = rill("Room")
    witness = RawWS.connect(server.port, token=new_token())
    witness.hydrate()
    for name, payload in (("visitor.set_name", {"value": "witness"}), ("visitor.enter", {})):
        witness.send_text(event_json(name, payload))
    shown = {"count": None}

    def read_witness(seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = witness.recv_json(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                return
            values = (message.get("state") or message.get("delta") or {}).get("chat_room", {})
            if message.get("s") == "chat_room" and "count" in values:
                shown["count"] = values["count"]

    read_witness(2)
    moves = []
    for room in ("r1", "lobby"):
        moves += [event_json("visitor.set_room_name", {"value": room}), event_json("visitor.enter", {})]
        moves += [event_json("chat_room.increment", {})] * 100
    batch = encode_frame(TEXT, event_json("visitor.set_name", {"value": "flood"}).encode()) + b"".join(
        encode_frame(TEXT, m.encode()) for m in moves)
    flooder, sent, growth = flood(server, batch, 200, settle=4)
    try:
        assert server.alive(), tail(server)
        assert growth < 64 * MB, f"RSS grew {growth / MB:.0f} MB after {sent} batches of moves and changes"
    finally:
        flooder.close()
    # The flooder's queued events run out after it leaves; then the lobby stops changing.
    last = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        read_witness(1)
        count = room_count(server.port)
        if count == last:
            break
        last = count
    read_witness(2)
    assert shown["count"] == last, f"the reading tab shows {shown['count']}, the lobby holds {last}"
    assert last > 0, "no change of the flood was applied"
    witness.close()
