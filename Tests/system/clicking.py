"""A tab that sends events as the browser runtime does (docs/protocol.md): each with an id, kept in
an outbox until acknowledged, sent again after every reconnect and after a `retry` error, with
deltas applied only on the version they name (a gap asks for the state again). For multi-process
tests that need more tabs than Chromium can run on this machine.

    tab = ClickingTab(port, "bench_state.increment", ("bench_state", "counter"))
    thread = tab.start(stop)         # clicks, one at a time as acknowledgements come back
    stop.set(); thread.join()
    assert tab.shown == tab.clicks   # and a fresh hydrate says the same
"""

import json
import threading
import time
import uuid

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

RECONNECT_FOR_S = 90.0   # how long a tab keeps trying to reconnect before it gives up
STALL_S = 15.0           # no message for this long while events wait: the socket is taken for dead
DRAIN_S = 90.0           # after the stop, how long a tab may take to get its last events acknowledged


class ClickingTab:
    def __init__(self, port, event, var):
        self.port = port
        self.event = event
        self.state_name, self.var = var
        self.token = uuid.uuid4().hex
        self.ws = None
        self.outbox = {}          # id -> message text, in id order
        self.last_id = 0
        self.clicks = 0
        self.shown = None         # the var as this tab's page would show it
        self.version = None
        self.resyncing = False
        self.retry_at = None
        self.reconnects = 0
        self.replays = 0          # acknowledgements of events sent again
        self.problems = []        # anything a correct server never does

    def start(self, stop):
        thread = threading.Thread(target=self._run, args=(stop,), daemon=True, name=f"tab-{self.token[:6]}")
        thread.start()
        return thread

    # ---- the socket ----

    def _connect(self):
        deadline = time.monotonic() + RECONNECT_FOR_S
        delay = 0.1
        while True:
            try:
                ws = connect(f"ws://127.0.0.1:{self.port}/_rill/socket?token={self.token}&path=/&resume=1",
                             open_timeout=5, close_timeout=1)
                first = json.loads(ws.recv(timeout=10))
                if first.get("type") != "hydrate":
                    ws.close()
                    raise OSError(f"first message was {first}")
                self.ws = ws
                self._hydrate(first)
                return
            except (OSError, ConnectionClosed, TimeoutError) as error:
                if time.monotonic() > deadline:
                    raise AssertionError(f"tab {self.token} could not reconnect: {error!r}")
                time.sleep(delay)
                delay = min(1.0, delay * 2)

    def _hydrate(self, message):
        if message.get("token") != self.token:
            self.problems.append(f"the tab was given another token: {message.get('token')}")
        self.shown = message["state"].get(self.state_name, {}).get(self.var)
        self.version = message.get("v")
        self.resyncing = False
        for text in self.outbox.values():   # acknowledgements may have been lost: all go again
            self.ws.send(text)

    def _drop_socket(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self.ws = None
        self.reconnects += 1

    # ---- messages ----

    def _receive(self, message):
        kind = message.get("type")
        if kind == "hydrate":
            self._hydrate(message)
        elif kind == "delta":
            if "v" in message:
                if not self.resyncing and message.get("from", message["v"] - 1) == self.version:
                    value = message["delta"].get(self.state_name, {}).get(self.var)
                    if value is not None:
                        self.shown = value
                    self.version = message["v"]
                elif not self.resyncing:
                    self.resyncing = True
                    self.ws.send(json.dumps({"type": "resync"}))
            for id in message.get("acks", []):
                if self.outbox.pop(id, None) is None:
                    self.replays += 1
        elif kind == "error":
            id = message.get("id")
            if id in self.outbox and message.get("retry") is True:
                self.retry_at = self.retry_at or time.monotonic() + 0.3
            else:
                self.outbox.pop(id, None)
                self.problems.append(f"event refused: {message}")

    def _click(self):
        self.last_id += 1
        text = json.dumps({"type": "event", "name": self.event, "payload": {}, "id": self.last_id})
        self.outbox[self.last_id] = text
        self.clicks += 1
        self.ws.send(text)

    def _run(self, stop):
        try:
            self._connect()
            last_message = time.monotonic()
            drain_until = None
            while True:
                if stop.is_set() and drain_until is None:
                    drain_until = time.monotonic() + DRAIN_S
                if drain_until is not None and not self.outbox and not self.resyncing:
                    return
                if drain_until is not None and time.monotonic() > drain_until:
                    self.problems.append(f"{len(self.outbox)} events never acknowledged")
                    return
                try:
                    if self.retry_at and time.monotonic() >= self.retry_at:
                        self.retry_at = None
                        for text in self.outbox.values():
                            self.ws.send(text)
                    if not self.outbox and drain_until is None:
                        self._click()
                    message = json.loads(self.ws.recv(timeout=0.5))
                    last_message = time.monotonic()
                    self._receive(message)
                except TimeoutError:
                    if self.outbox and time.monotonic() - last_message > STALL_S:
                        self._drop_socket()
                        self._connect()
                        last_message = time.monotonic()
                except (ConnectionClosed, OSError):
                    self._drop_socket()
                    self._connect()
                    last_message = time.monotonic()
        except Exception as error:   # reported by the test, with the tab it happened to
            self.problems.append(f"the tab stopped: {error!r}")
        finally:
            if self.ws is not None:
                try:
                    self.ws.close()
                except Exception:
                    pass

    def server_value(self):
        """The var as the server's saved state has it: a hydrate from a new socket on the token."""
        ws = connect(f"ws://127.0.0.1:{self.port}/_rill/socket?token={self.token}&path=/&resume=1", open_timeout=10)
        try:
            message = json.loads(ws.recv(timeout=10))
            assert message.get("type") == "hydrate", message
            return message["state"].get(self.state_name, {}).get(self.var)
        finally:
            ws.close()
