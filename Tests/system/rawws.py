"""A raw-socket WebSocket (RFC 6455) and HTTP/1.1 client for hostile-client tests of Rill.

Unlike a normal client library it sends whatever it is told: unmasked frames, RSV bits,
control frames with bad payloads, close codes a peer must refuse, length headers that lie,
frames pipelined behind the handshake. It reads frames as they come (close code included) and
never answers anything on its own unless asked to.

Every read has a timeout; nothing here loops without a bound.
"""

import base64
import hashlib
import json
import os
import socket
import struct
import time
from urllib.parse import quote

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CONTROL = {CLOSE, PING, PONG}


class Closed(Exception):
    """The peer ended the TCP connection (EOF or reset) before what we waited for arrived."""


def encode_frame(opcode, payload=b"", *, fin=True, rsv=0, mask=True, key=None, length=None):
    """One frame's bytes. `rsv` is a 3-bit value (4 = RSV1, 2 = RSV2, 1 = RSV3); `length`
    overrides the length written in the header (the payload is sent as given)."""
    if isinstance(payload, str):
        payload = payload.encode()
    first = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    size = len(payload) if length is None else length
    mask_bit = 0x80 if mask else 0
    if size < 126:
        head = struct.pack("!BB", first, mask_bit | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if not mask:
        return head + payload
    key = os.urandom(4) if key is None else key
    return head + key + apply_mask(payload, key)


def apply_mask(payload, key):
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


def event_json(name, payload=None, raw_payload=None):
    """An event message's text; `raw_payload` is spliced in verbatim (numbers JSON cannot round-trip)."""
    if raw_payload is not None:
        return '{"type":"event","name":%s,"payload":%s}' % (json.dumps(name), raw_payload)
    return json.dumps({"type": "event", "name": name, "payload": payload or {}})


def upgrade_request(port, target, *, host=None, origin=None, headers=(), key=None):
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host if host is not None else f'127.0.0.1:{port}'}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), key


def socket_target(token=None, resume=False, path="/"):
    query = []
    if token is not None:
        query.append("token=" + quote(token, safe=""))
    query.append("path=" + quote(path, safe="/"))
    if resume:
        query.append("resume=1")
    return "/_rill/socket?" + "&".join(query)


class Frame:
    def __init__(self, fin, rsv, opcode, payload, masked):
        self.fin, self.rsv, self.opcode, self.payload, self.masked = fin, rsv, opcode, payload, masked

    @property
    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if self.opcode == CLOSE and len(self.payload) >= 2 else None

    @property
    def close_reason(self):
        return self.payload[2:].decode("utf-8", "replace") if self.opcode == CLOSE else None

    def __repr__(self):
        shown = self.payload[:80]
        return f"Frame(op={self.opcode:#x}, fin={self.fin}, rsv={self.rsv}, {len(self.payload)} bytes: {shown!r})"


class HandshakeRefused(Exception):
    def __init__(self, status, headers, body):
        super().__init__(f"upgrade refused with HTTP {status}: {body[:200]!r}")
        self.status, self.headers, self.body = status, headers, body


class RawWS:
    """A WebSocket over a plain TCP socket, sending exactly the bytes it is asked to."""

    def __init__(self, sock, buffered=b""):
        self.sock = sock
        self.buffer = bytearray(buffered)
        self.status = None
        self.headers = {}

    @classmethod
    def connect(cls, port, target=None, *, token=None, resume=False, host=None, origin=None,
                headers=(), pipelined=b"", timeout=10, expect_upgrade=True):
        """Opens a socket to 127.0.0.1:port and upgrades it. `pipelined` bytes (frames) go out in
        the same write as the request, before the server has answered it. With
        `expect_upgrade`, anything but 101 raises HandshakeRefused."""
        target = target or socket_target(token, resume)
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.settimeout(timeout)
        request, key = upgrade_request(port, target, host=host, origin=origin, headers=headers)
        ws = cls(sock)
        try:
            sock.sendall(request + pipelined)
            status, fields, _ = ws._read_head(timeout)
        except BaseException:
            sock.close()
            raise
        ws.status, ws.headers = status, fields
        if expect_upgrade and status != 101:
            body = ws._read_body(fields, timeout)
            sock.close()
            raise HandshakeRefused(status, fields, body)
        if status == 101:
            accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
            assert fields.get("sec-websocket-accept") == accept, fields
        return ws

    # -- reading ---------------------------------------------------------------------------

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("nothing more arrived in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError("nothing more arrived in time") from None
        except (ConnectionResetError, BrokenPipeError) as error:
            raise Closed(f"connection reset: {error}") from None
        if not chunk:
            raise Closed("the server ended the connection")
        self.buffer += chunk

    def _read_exact(self, count, deadline):
        while len(self.buffer) < count:
            self._fill(deadline)
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def _read_head(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > 1 << 16:
                raise AssertionError("response head over 64 KB")
            self._fill(deadline)
        end = self.buffer.index(b"\r\n\r\n")
        head = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[: end + 4]
        status, fields = parse_head(head)
        return status, fields, head

    def _read_body(self, fields, timeout):
        deadline = time.monotonic() + timeout
        length = int(fields.get("content-length", "0") or 0)
        try:
            return self._read_exact(min(length, 1 << 20), deadline)
        except (TimeoutError, Closed):
            return bytes(self.buffer)

    def recv_frame(self, timeout=10):
        """The next frame, whatever it is; raises TimeoutError or Closed."""
        deadline = time.monotonic() + timeout
        first, second = self._read_exact(2, deadline)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._read_exact(2, deadline))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._read_exact(8, deadline))[0]
        masked = bool(second & 0x80)
        key = self._read_exact(4, deadline) if masked else None
        if size > 256 << 20:
            raise AssertionError(f"server announced a {size}-byte frame")
        payload = self._read_exact(size, deadline)
        if masked:
            payload = apply_mask(payload, key)
        return Frame(bool(first & 0x80), (first >> 4) & 7, first & 0x0F, payload, masked)

    def recv_message(self, timeout=10, answer_pings=False):
        """The next text message (fragments joined). Pings and pongs are skipped (answered with
        `answer_pings`); a close frame is returned as a Frame so callers can see its code."""
        deadline = time.monotonic() + timeout
        parts = []
        while True:
            frame = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if frame.opcode == CLOSE:
                return frame
            if frame.opcode == PING:
                if answer_pings:
                    self.send_frame(PONG, frame.payload)
                continue
            if frame.opcode == PONG:
                continue
            parts.append(frame.payload)
            if frame.fin:
                return b"".join(parts).decode("utf-8")

    def recv_json(self, timeout=10):
        """The next JSON message; raises AssertionError if the server closes instead."""
        message = self.recv_message(timeout)
        if isinstance(message, Frame):
            raise AssertionError(f"server closed with {message.close_code} {message.close_reason!r}")
        return json.loads(message)

    def hydrate(self, timeout=10):
        message = self.recv_json(timeout)
        assert message.get("type") == "hydrate", message
        return message

    def wait_close(self, timeout=10):
        """Reads until a close frame or the end of the connection. Returns the close Frame, or
        None if the connection ended without one. Data frames before it are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self.recv_frame(max(0.01, deadline - time.monotonic()))
            except Closed:
                return None
            if frame.opcode == CLOSE:
                return frame

    def wait_eof(self, timeout=10):
        """Reads and discards until the connection ends; True if it did within `timeout`."""
        deadline = time.monotonic() + timeout
        self.buffer.clear()
        while time.monotonic() < deadline:
            try:
                self._fill(deadline)
            except Closed:
                return True
            except TimeoutError:
                return False
            self.buffer.clear()
        return False

    # -- writing ---------------------------------------------------------------------------

    def send_raw(self, data, timeout=10):
        self.sock.settimeout(timeout)
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", **options):
        self.send_raw(encode_frame(opcode, payload, **options))

    def send_text(self, text, **options):
        self.send_frame(TEXT, text.encode() if isinstance(text, str) else text, **options)

    def send_json(self, message):
        self.send_text(json.dumps(message))

    def event(self, name, **payload):
        self.send_text(event_json(name, payload))

    def send_ping(self, payload=b""):
        self.send_frame(PING, payload)

    def send_close(self, code=None, reason=b"", **options):
        self.send_frame(CLOSE, close_payload(code, reason), **options)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def parse_head(head):
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), value.strip())
    return status, fields


class HTTPResult:
    """What one raw HTTP exchange produced."""

    def __init__(self, raw, closed):
        self.raw = raw
        self.closed = closed
        self.status = None
        self.headers = {}
        self.body = b""
        if b"\r\n\r\n" in raw:
            head, _, self.body = raw.partition(b"\r\n\r\n")
            self.status, self.headers = parse_head(head.decode("latin-1"))

    def __repr__(self):
        return f"HTTPResult(status={self.status}, closed={self.closed}, raw={self.raw[:300]!r})"


def http_exchange(port, request, *, timeout=10, read_until_close=True):
    """Sends raw `request` bytes and reads the answer. With `read_until_close`, reads until the
    server ends the connection or `timeout` passes (closed=False then); otherwise stops after
    the first complete response (by Content-Length)."""
    deadline = time.monotonic() + timeout
    raw = bytearray()
    closed = False
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(1 << 16)
            except socket.timeout:
                break
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            if not chunk:
                closed = True
                break
            raw += chunk
            if not read_until_close and _complete(raw):
                break
            if len(raw) > 4 << 20:
                break
    return HTTPResult(bytes(raw), closed)


def _complete(raw):
    if b"\r\n\r\n" not in raw:
        return False
    head, _, body = bytes(raw).partition(b"\r\n\r\n")
    _, fields = parse_head(head.decode("latin-1"))
    return len(body) >= int(fields.get("content-length", "0") or 0)


def get(port, path, *, host=None, headers=(), timeout=10):
    """A plain `GET` on a fresh connection that asks to be closed afterwards."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host if host is not None else f'127.0.0.1:{port}'}", "Connection: close", *headers]
    return http_exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), timeout=timeout)
