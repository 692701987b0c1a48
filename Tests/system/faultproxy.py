"""A loopback TCP proxy in front of a Rill server whose faults a test switches at runtime.

    proxy = FaultProxy(rill_port)          # listens on 127.0.0.1, a free port
    browser.get(proxy.url())               # the page and its socket both go through it
    proxy.set_mode("drop")                 # … the outage …
    proxy.set_mode("pass")
    proxy.stop()

Modes (they apply to every connection, the open ones and the ones accepted later):

- ``pass``: bytes are forwarded both ways.
- ``cut``: a clean cut. Every open connection is ended with a FIN to both of its peers (the
  browser and the server), and connections accepted while cut are ended the same way at once,
  without reaching the server.
- ``drop``: bytes are silently discarded both ways. Open connections stay open and new ones are
  accepted (and never connected to the server), but nothing gets through and no FIN is passed on
  either: a network path that has gone dark.
- ``drop_down``: bytes from the server to the browser are discarded; bytes from the browser to
  the server are still forwarded. New connections are connected to the server as usual.
- ``cut_ws``: like ``pass``, except that a request asking for a WebSocket upgrade ends its
  connection (FIN both ways, not forwarded), so pages load but sockets cannot connect.
- ``drop_ws``: like ``pass``, except that a request asking for a WebSocket upgrade is discarded
  and its connection goes dark both ways (kept open, nothing forwarded): a handshake that hangs.

Besides the modes, ``drop_frames(match, count, then)`` loses chosen WebSocket messages from the
server: each text frame the server sends is read whole, and the first `count` whose text
`match(text)` accepts are discarded; with ``then="cut"`` the connection is then ended cleanly, as
a connection that died just after the server sent them would be.

A connection that has lost bytes in a direction stays broken in that direction after the proxy
is back in ``pass``, as a real connection whose packets were lost would (its byte stream has a
hole in it); only connections accepted after the restore forward again.

Everything is bounded: sockets are polled with short timeouts, every thread checks the stop flag,
and `stop()` closes every socket and joins every thread with a timeout.
"""

import select
import socket
import threading
import time

MODES = ("pass", "cut", "drop", "drop_down", "cut_ws", "drop_ws")
POLL = 0.1          # seconds between checks of the stop flag and the mode
CUT_LINGER = 3.0    # how long a cut connection waits for its peers' FIN before it is closed anyway
CONNECT_TIMEOUT = 5.0
CHUNK = 1 << 16


class _Connection:
    """One browser connection and, unless it was accepted while dropping, its server connection."""

    def __init__(self, proxy, number, client, upstream, drop_up, drop_down):
        self.proxy = proxy
        self.number = number
        self.client = client
        self.upstream = upstream
        # Directions that have lost bytes (or were never connected) and stay broken for good.
        self.broken_up = drop_up
        self.broken_down = drop_down
        self.cut = False
        self.cut_at = None
        self.done_up = False
        self.done_down = upstream is None
        self.closed = False
        self.lock = threading.Lock()
        self.threads = []
        # The server's side, read as HTTP until a 101 answer and as WebSocket frames after it.
        self.head = b""
        self.framing = None   # None (reading the first answer), "http" or "ws"
        self.frames = bytearray()

    def start(self):
        self.threads.append(threading.Thread(target=self._pump, args=("up",), daemon=True,
                                             name=f"faultproxy-{self.number}-up"))
        if self.upstream is not None:
            self.threads.append(threading.Thread(target=self._pump, args=("down",), daemon=True,
                                                 name=f"faultproxy-{self.number}-down"))
        for thread in self.threads:
            thread.start()

    def _dropping(self, direction):
        """Whether bytes going `direction` are discarded now; a direction that drops once stays broken."""
        mode = self.proxy.mode
        with self.lock:
            if direction == "up":
                if mode == "drop":
                    self.broken_up = True
                return self.broken_up or self.cut
            if mode in ("drop", "drop_down"):
                self.broken_down = True
            return self.broken_down or self.cut

    def darken(self, mode):
        """Marks the directions `mode` discards as broken for good, whether or not bytes come."""
        with self.lock:
            if mode == "drop":
                self.broken_up = True
            if mode in ("drop", "drop_down"):
                self.broken_down = True

    def end_cleanly(self):
        """Sends a FIN to both peers; the pumps then read (and discard) until each peer's FIN comes."""
        with self.lock:
            if self.cut or self.closed:
                return
            self.cut = True
            self.cut_at = time.monotonic()
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _pump(self, direction):
        source, target = (self.client, self.upstream) if direction == "up" else (self.upstream, self.client)
        # poll, not select: a busy test process may hold descriptors above select's 1024.
        poller = select.poll()
        try:
            poller.register(source, select.POLLIN)
            while not self.proxy.stopping.is_set():
                if self.cut and time.monotonic() - self.cut_at > CUT_LINGER:
                    break
                try:
                    events = poller.poll(POLL * 1000)
                except (OSError, ValueError):
                    break
                if not events:
                    continue
                if any(flags & select.POLLNVAL for _, flags in events):
                    break  # closed under us by stop()
                try:
                    data = source.recv(CHUNK)
                except OSError:
                    break
                if not data:
                    # A FIN. Passed on unless this direction is dark (a lost FIN is lost too).
                    if target is not None and not self._dropping(direction):
                        try:
                            target.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                    break
                if direction == "up" and self.proxy.mode in ("cut_ws", "drop_ws") and _asks_for_websocket(data):
                    self.proxy._note("refused_upgrades")
                    if self.proxy.mode == "cut_ws":
                        self.end_cleanly()
                    else:
                        self.darken("drop")
                    continue
                if target is None or self._dropping(direction):
                    self.proxy._note("dropped_bytes_" + direction, len(data))
                    continue
                if direction == "down":
                    data, cut = self._filter_frames(data)
                    if cut:
                        if data:
                            try:
                                target.sendall(data)
                            except OSError:
                                pass
                        self.end_cleanly()
                        continue
                    if not data:
                        continue
                try:
                    target.sendall(data)
                except OSError:
                    break
                self.proxy._note("forwarded_bytes_" + direction, len(data))
        finally:
            with self.lock:
                if direction == "up":
                    self.done_up = True
                else:
                    self.done_down = True
                finished = self.done_up and self.done_down
            if finished or self.proxy.stopping.is_set():
                self.close()

    def _filter_frames(self, data):
        """What of `data` (from the server) to forward, and whether to cut the connection after it."""
        if self.framing is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0 and len(self.head) < 65536:
                return b"", False
            head, rest = (self.head, b"") if end < 0 else (self.head[:end + 4], self.head[end + 4:])
            self.head = b""
            self.framing = "ws" if head.startswith(b"HTTP/1.1 101") else "http"
            if self.framing == "http":
                return head + rest, False
            forwarded, cut = self._filter_frames(rest)
            return head + forwarded, cut
        if self.framing == "http":
            return data, False
        self.frames += data
        out = bytearray()
        while True:
            frame = _take_frame(self.frames)
            if frame is None:
                return bytes(out), False
            raw, opcode, payload = frame
            if opcode == 1 and self.proxy._should_drop(payload):
                self.proxy._note("dropped_frames")
                self.proxy._log(f"#{self.number} dropped {payload[:120]!r}")
                if self.proxy.after_drop == "cut":
                    return bytes(out), True
                continue
            out += raw

    def close(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        self.proxy._forget(self)


def _take_frame(buffer):
    """Removes one whole unmasked frame from the front of `buffer`: (bytes, opcode, payload), or
    None while it is incomplete."""
    if len(buffer) < 2:
        return None
    length = buffer[1] & 0x7F
    offset = 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length, offset = int.from_bytes(buffer[2:4], "big"), 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length, offset = int.from_bytes(buffer[2:10], "big"), 10
    if len(buffer) < offset + length:
        return None
    raw = bytes(buffer[:offset + length])
    del buffer[:offset + length]
    return raw, raw[0] & 0x0F, raw[offset:].decode("utf-8", "replace")


def _asks_for_websocket(data):
    lowered = data.lower()
    return b"\r\nupgrade: websocket" in lowered or b"\r\nupgrade:websocket" in lowered


class FaultProxy:
    """A threaded TCP proxy from 127.0.0.1:`port` (a free port) to 127.0.0.1:`target_port`."""

    def __init__(self, target_port, target_host="127.0.0.1", mode="pass"):
        assert mode in MODES, mode
        self.target = (target_host, target_port)
        self.mode = mode
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections = set()
        self.counters = {}
        self.events = []          # (monotonic time, text), for failure messages
        self.accepted = 0
        self.drop_match = None    # see drop_frames
        self.drop_left = 0
        self.after_drop = "keep"
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.listener.settimeout(POLL)
        self.port = self.listener.getsockname()[1]
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True, name="faultproxy-accept")
        self.acceptor.start()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    # ---- The test's controls ----

    def set_mode(self, mode):
        """Switches every connection to `mode`; for ``cut`` the open connections are ended before
        this returns (their FINs are on the way), so a test can time the outage from here."""
        assert mode in MODES, mode
        with self.lock:
            self.mode = mode
            open_now = list(self.connections)
        self._log(f"mode {mode} ({len(open_now)} open)")
        for connection in open_now:
            connection.darken(mode)
        if mode == "cut":
            for connection in open_now:
                connection.end_cleanly()
        return time.monotonic()

    def drop_frames(self, match, count=1, then="keep"):
        """Discards the next `count` text messages from the server whose text `match` accepts;
        with `then="cut"` each such loss also ends its connection."""
        assert then in ("keep", "cut"), then
        with self.lock:
            self.drop_match, self.drop_left, self.after_drop = match, count, then

    def _should_drop(self, text):
        with self.lock:
            if self.drop_left <= 0 or self.drop_match is None or not self.drop_match(text):
                return False
            self.drop_left -= 1
            return True

    def stats(self):
        with self.lock:
            return dict(self.counters, accepted=self.accepted, open=len(self.connections), mode=self.mode)

    def history(self, since=None):
        with self.lock:
            return [f"{t:.2f} {text}" for t, text in self.events if since is None or t >= since]

    def stop(self, timeout=10):
        """Closes the listener and every connection and waits (bounded) for every thread."""
        self.stopping.set()
        try:
            self.listener.close()
        except OSError:
            pass
        self.acceptor.join(timeout=timeout)
        with self.lock:
            open_now = list(self.connections)
        for connection in open_now:
            connection.close()
        deadline = time.monotonic() + timeout
        for connection in open_now:
            for thread in connection.threads:
                thread.join(timeout=max(0.1, deadline - time.monotonic()))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- Internals ----

    def _note(self, counter, amount=1):
        with self.lock:
            self.counters[counter] = self.counters.get(counter, 0) + amount

    def _log(self, text):
        with self.lock:
            self.events.append((time.monotonic(), text))
            del self.events[:-500]

    def _forget(self, connection):
        with self.lock:
            self.connections.discard(connection)

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stopping.is_set():
                    return
                time.sleep(POLL)  # e.g. out of descriptors for a moment
                continue
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.accepted += 1
                number = self.accepted
                mode = self.mode
            self._log(f"accept #{number} in {mode}")
            # The server connection is made off the accept loop, so a slow one stalls no other.
            threading.Thread(target=self._admit, args=(number, client, mode), daemon=True,
                             name=f"faultproxy-{number}-admit").start()

    def _admit(self, number, client, mode):
        try:
            self._connect(number, client, mode)
        except Exception as error:  # never let one connection stop the proxy
            self._log(f"#{number} failed: {error!r}")
            try:
                client.close()
            except OSError:
                pass

    def _connect(self, number, client, mode):
        upstream = None
        if mode in ("pass", "drop_down", "cut_ws", "drop_ws"):
            try:
                upstream = socket.create_connection(self.target, timeout=CONNECT_TIMEOUT)
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                upstream.settimeout(None)
            except OSError as error:
                self._log(f"#{number} upstream unreachable: {error!r}")
                self._note("upstream_failures")
                client.close()
                return
        connection = _Connection(self, number, client, upstream,
                                 drop_up=mode == "drop", drop_down=mode in ("drop", "drop_down"))
        with self.lock:
            if self.stopping.is_set():
                connection.closed = True
            else:
                self.connections.add(connection)
        if connection.closed:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()
            return
        connection.start()
        # Accepted while cut, or cut while its server connection was being made: ended at once.
        if mode == "cut" or self.mode == "cut":
            self._note("refused_connections")
            connection.end_cleanly()
