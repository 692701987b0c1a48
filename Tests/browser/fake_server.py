"""A stand-in for the Rill server that lets the browser runtime be tested on its own.

It serves fixed pages (the seed counter at `/`, a gallery of node kinds at `/gallery`, one line
per expression operator at `/ops`) with the real CSP header, serves rill.js and rill.css from the
Swift package's resources, and speaks docs/protocol.md with an in-memory state per tab. Tests steer it through plain GET endpoints:

    /_test/log                  everything the server saw (connections and events), as JSON
    /_test/set?delta=JSON       change every connected tab's state and send each the delta
    /_test/error?message=TEXT   send every connected tab an error message
    /_test/latency?ms=N         delay every message to the browsers by N ms (order kept)

Run: python fake_server.py --port 8123 [--initial '{"my_task_state": {"counter": 42}}']
It prints "ready <port>" once it listens.
"""

import argparse
import asyncio
import copy
import json
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

RESOURCES = Path(__file__).resolve().parents[2] / "Sources" / "RillServer" / "Resources"
SOCKET_PATH = "/_rill/socket"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)


# ---- Page trees, written the way the Swift side will emit them ----

def var(path):
    return {"var": path}


def item(*path, depth=0):
    return {"item": list(path), "depth": depth}


def op(name, *args):
    return {"op": name, "args": list(args)}


def text(value):
    return {"kind": "text", "value": value}


def index(depth=0):
    return {"index": depth, "depth": depth}


def element(tag, cls=None, children=(), **fields):
    node = {"kind": "element", "tag": tag, **fields}
    if cls:
        node["class"] = cls
    if children:
        node["children"] = list(children)
    return node


SEED_TREE = element("div", "rill-vstack", [
    element("div", "rill-hstack", [
        element("h1", "rill-heading", [text(var("my_task_state.counter")), text(" /")]),
        element(
            "input", "rill-number-input",
            attrs={"type": "number", "min": 0, "step": 1, "aria-label": "Count up to"},
            props={"value": var("my_task_state.max_counter")},
            on={"change": {"event": "my_task_state.set_max_counter", "field": "value", "valueType": "int"}},
        ),
    ]),
    element("div", "rill-hstack", [
        element(
            "button", "rill-button",
            [text(op("cond", var("my_task_state.running"), "Stop", "Start"))],
            on={"click": {"event": "my_task_state.toggle_running"}},
        ),
        element("button", "rill-button", [text("Reset")], on={"click": {"event": "my_task_state.clear_counter"}}),
    ]),
])

def span(*values, **fields):
    return element("span", "rill-text", [text(v) for v in values], **fields)


GALLERY_TREE = element("div", "rill-vstack", [
    element("h2", "rill-heading", [text("Gallery")]),
    {
        "kind": "cond",
        "test": var("gallery_state.show"),
        "then": span("Shown", attrs={"id": "shown"}),
        "else": span("Hidden", attrs={"id": "hidden"}),
    },
    # A foreach straight inside a list, and one in the wrapper the Swift ForEach adds.
    element("ul", None, [{
        "kind": "foreach",
        "each": var("gallery_state.items"),
        "key": "id",
        "item": element("li", "rill-text", [
            text(item("name")), text(" #"), text(index()),
            element("div", "rill-foreach", [{
                "kind": "foreach",
                "each": item("tags"),
                "item": element("small", None, [
                    text(" "), text(item(depth=0)), text("/"), text(item("name", depth=1)),
                ]),
            }]),
        ], attrs={"data-id": item("id")}),
    }]),
    element(
        "progress", "rill-progress",
        attrs={"max": 1}, props={"value": var("gallery_state.progress")},
    ),
    element("div", "rill-hstack", [
        element("div", "rill-chart", [{
            "kind": "chart", "chartKind": "line", "data": var("gallery_state.points"), "width": 240, "height": 80,
        }]),
        element("div", "rill-chart", [{
            "kind": "chart", "chartKind": "bar", "data": var("gallery_state.bars"),
            "x": "label", "y": "value", "width": 240, "height": 80, "color": "#2f9e44",
        }]),
    ]),
    element("label", "rill-checkbox", [
        element(
            "input", None, attrs={"type": "checkbox"},
            props={"checked": var("gallery_state.show")},
            on={"change": {"event": "gallery_state.set_show", "payload": {}, "field": "value", "valueType": "bool"}},
        ),
        text("Show"),
    ]),
    element("div", "rill-hstack", [
        element(
            "input", "rill-input", attrs={"type": "text", "placeholder": "Your name", "id": "name"},
            props={"value": var("gallery_state.name")},
            on={"input": {"event": "gallery_state.set_name", "payload": {}, "field": "value",
                          "valueType": "string", "debounce": 300}},
        ),
        span(op("concat", "Hello, ", var("gallery_state.name")), attrs={"id": "greeting"}),
    ]),
    # Like the Swift Input with onSubmit: every keystroke sends the text, Enter adds the item.
    element(
        "input", "rill-input", attrs={"type": "text", "placeholder": "New item", "id": "draft"},
        props={"value": var("gallery_state.draft")},
        on={
            "input": {"event": "gallery_state.set_draft", "payload": {}, "field": "value", "valueType": "string"},
            "submit": {"event": "gallery_state.add_item", "payload": {}},
        },
    ),
    element("hr", "rill-divider"),
    element("div", "rill-hstack", [
        element("button", "rill-button", [text("Disabled")], props={"disabled": True}),
        element("div", "rill-spacer"),
        element("a", "rill-link", [text("A link")], attrs={"href": "https://example.com/"}),
        element("a", "rill-link", [text("Not a link")], attrs={"href": "javascript:alert(1)", "id": "bad-link"}),
    ]),
])

# One line per operator case: the test reads each line's text, then changes vars and checks
# that only the lines reading them are touched.
OPS_CASES = {
    "not": op("not", var("ops_state.flag")),
    "and": op("and", var("ops_state.flag"), var("ops_state.a")),
    "or": op("or", False, 0),
    "eq-deep": op("eq", var("ops_state.list"), {"lit": [1, 2, 3]}),
    "ne": op("ne", var("ops_state.a"), var("ops_state.b")),
    "lt": op("lt", var("ops_state.b"), var("ops_state.a")),
    "le": op("le", var("ops_state.a"), var("ops_state.a")),
    "gt-text": op("gt", var("ops_state.s"), "ha"),
    "ge-mixed": op("ge", var("ops_state.a"), "x"),
    "add": op("add", var("ops_state.a"), var("ops_state.b")),
    "add-text": op("add", var("ops_state.s"), " there"),
    "add-mixed": op("add", var("ops_state.s"), var("ops_state.a")),
    "sub": op("sub", var("ops_state.a"), var("ops_state.b")),
    "mul": op("mul", var("ops_state.a"), var("ops_state.b")),
    "div": op("div", var("ops_state.a"), var("ops_state.b")),
    "div-zero": op("div", var("ops_state.a"), 0),
    "mod": op("mod", var("ops_state.a"), var("ops_state.b")),
    "neg": op("neg", var("ops_state.a")),
    "concat": op("concat", var("ops_state.s"), var("ops_state.a"), var("ops_state.flag"), var("ops_state.nothing")),
    "cond-lazy": op("cond", var("ops_state.flag"), var("ops_state.s"), var("ops_state.b")),
    "str-object": op("str", var("ops_state.obj")),
    "str-array": op("str", var("ops_state.list")),
    "str-null": op("str", var("ops_state.nothing")),
    "len-array": op("len", var("ops_state.list")),
    "len-text": op("len", var("ops_state.s")),
    "get-key": op("get", var("ops_state.obj"), "k"),
    "get-index": op("get", var("ops_state.list"), 1),
    "get-missing": op("get", var("ops_state.list"), 9),
    "lit-object": {"lit": {"x": 1}},
    "bare": 3,
}

OPS_TREE = element("ul", "rill-vstack", [
    element("li", None, [text(expr)], attrs={"data-op": name}) for name, expr in OPS_CASES.items()
])

PAGES = {
    "/": {
        "title": "Background task",
        "initial": {"my_task_state": {"counter": 0, "max_counter": 10, "running": False}},
        "root": SEED_TREE,
    },
    "/gallery": {
        "title": "Gallery",
        "initial": {"gallery_state": {
            "show": True,
            "name": "",
            "draft": "",
            "progress": 0.3,
            "items": [
                {"id": 1, "name": "Apples", "tags": ["red"]},
                {"id": 2, "name": "Pears", "tags": []},
                {"id": 3, "name": "Plums", "tags": ["blue", "ripe"]},
            ],
            "points": [3, 5, 2, 8, 6, 9],
            "bars": [{"label": "a", "value": 3}, {"label": "b", "value": 7}, {"label": "c", "value": 5}],
        }},
        "root": GALLERY_TREE,
    },
    "/ops": {
        "title": "Operators",
        "initial": {"ops_state": {
            "a": 7, "b": 2, "s": "hi", "flag": True, "nothing": None, "list": [1, 2, 3], "obj": {"k": "v"},
        }},
        "root": OPS_TREE,
    },
}


def shell(path):
    spec = PAGES[path]
    page = {"title": spec["title"], "path": path, "socket": SOCKET_PATH, "initial": spec["initial"], "root": spec["root"]}
    # "<" is escaped so no string in the data can close the <script> element early.
    data = json.dumps(page).replace("<", "\\u003c")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'  <title>{spec["title"]}</title>\n'
        '  <link rel="stylesheet" href="/_rill/rill.css">\n'
        f'  <script type="application/json" id="rill-page">{data}</script>\n'
        '  <script src="/_rill/rill.js" defer></script>\n'
        '</head>\n<body><div id="rill-root"></div></body>\n</html>\n'
    )


# ---- The server ----

def json_type(value):
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def fits(current, value):
    kind, given = json_type(current), json_type(value)
    return kind == given or (kind == "Double" and given == "Int")


class FakeServer:
    def __init__(self, overrides):
        self.overrides = overrides
        self.states = {}   # token → {state: {var: value}}
        self.sockets = {}  # token → connection
        self.outboxes = {}  # connection → queue of (due time, text)
        self.latency = 0.0
        self.log = []

    def initial_state(self, path):
        state = copy.deepcopy(PAGES.get(path, PAGES["/"])["initial"])
        for name, values in self.overrides.items():
            if name in state:
                state[name].update(values)
        return state

    # HTTP: pages, resources, test controls; None lets a socket upgrade go ahead.
    def process_request(self, connection: ServerConnection, request: Request):
        url = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == SOCKET_PATH:
            origin = request.headers.get("Origin")
            if origin != f"http://{request.headers.get('Host')}":
                return self.respond(403, "text/plain", b"origin not allowed")
            return None
        if url.path in PAGES:
            return self.respond(200, "text/html; charset=utf-8", shell(url.path).encode(), csp=True)
        if url.path == "/_rill/rill.js":
            return self.respond(200, "text/javascript; charset=utf-8", (RESOURCES / "rill.js").read_bytes())
        if url.path == "/_rill/rill.css":
            return self.respond(200, "text/css; charset=utf-8", (RESOURCES / "rill.css").read_bytes())
        if url.path == "/favicon.ico":
            return self.respond(204, "text/plain", b"")
        if url.path == "/_test/log":
            return self.respond(200, "application/json", json.dumps(self.log).encode())
        if url.path == "/_test/set":
            delta = json.loads(query["delta"])
            for token in list(self.sockets):
                self.change(token, delta)
            return self.respond(200, "text/plain", b"ok")
        if url.path == "/_test/error":
            for connection in list(self.sockets.values()):
                self.error(connection, query.get("event"), query.get("message", ""))
            return self.respond(200, "text/plain", b"ok")
        if url.path == "/_test/latency":
            self.latency = int(query["ms"]) / 1000
            return self.respond(200, "text/plain", b"ok")
        return self.respond(404, "text/plain", b"not found")

    @staticmethod
    def respond(status, content_type, body, csp=False):
        headers = Headers()
        headers["Content-Type"] = content_type
        headers["Content-Length"] = str(len(body))
        headers["Cache-Control"] = "no-store"
        headers["X-Content-Type-Options"] = "nosniff"
        if csp:
            headers["Content-Security-Policy"] = CSP
        reasons = {200: "OK", 204: "No Content", 403: "Forbidden", 404: "Not Found"}
        return Response(status, reasons[status], headers, body)

    def post(self, connection, message):
        outbox = self.outboxes.get(connection)
        if outbox:
            outbox.put_nowait((asyncio.get_running_loop().time() + self.latency, json.dumps(message)))

    @staticmethod
    async def pump(connection, outbox):
        while True:
            due, frame = await outbox.get()
            await asyncio.sleep(due - asyncio.get_running_loop().time())
            await connection.send(frame)

    def error(self, connection, event, message):
        self.post(connection, {"type": "error", "event": event, "message": message})

    def change(self, token, delta):
        state = self.states[token]
        changed = {}
        for name, values in delta.items():
            for key, value in values.items():
                if state.setdefault(name, {}).get(key) != value:
                    state[name][key] = value
                    changed.setdefault(name, {})[key] = value
        if changed and token in self.sockets:
            self.post(self.sockets[token], {"type": "delta", "delta": changed})

    async def handle(self, connection: ServerConnection):
        query = {k: v[0] for k, v in parse_qs(urlsplit(connection.request.path).query).items()}
        asked, path, resume = query.get("token"), query.get("path", "/"), query.get("resume") == "1"
        token = asked
        if not asked or not TOKEN.match(asked) or (asked in self.sockets and not resume):
            token = secrets.token_hex(16)
        self.log.append({"kind": "connect", "token": asked, "assigned": token, "path": path, "resume": resume})
        previous = self.sockets.get(token)
        if previous:
            await previous.close(4001, "another connection took over this tab")
        self.sockets[token] = connection
        outbox = self.outboxes[connection] = asyncio.Queue()
        pump = asyncio.ensure_future(self.pump(connection, outbox))
        state = self.states.setdefault(token, {})
        for name, values in self.initial_state(path).items():
            state.setdefault(name, values)  # a tab that moves to another page gains its states
        try:
            self.post(connection, {"type": "hydrate", "token": token, "state": state})
            if asked and not TOKEN.match(asked):
                self.error(connection, None, "malformed token; this tab was given a new one")
            async for frame in connection:
                if isinstance(frame, bytes):
                    await connection.close(1003, "binary frames are not supported")
                    break
                self.receive(connection, token, frame)
                self.acknowledge(connection, frame)
        except ConnectionClosed:
            pass
        finally:
            pump.cancel()
            del self.outboxes[connection]
            if self.sockets.get(token) is connection:
                del self.sockets[token]

    def acknowledge(self, connection, frame):
        """Acknowledges an event with an id once it has run (or failed), as the real server does,
        so the page drops it from its outbox."""
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "event" and isinstance(message.get("id"), int):
            self.post(connection, {"type": "delta", "delta": {}, "acks": [message["id"]]})

    def receive(self, connection, token, frame):
        try:
            message = json.loads(frame)
        except ValueError:
            return self.error(connection, None, "not JSON")
        if isinstance(message, dict) and message.get("type") == "ping":
            # Answered at once, as the real server does, ahead of any event's delta.
            return self.post(connection, {"type": "pong", "id": message.get("id")})
        if not isinstance(message, dict) or message.get("type") != "event" or "name" not in message:
            return self.error(connection, None, "not an event message")
        name, payload = message["name"], message.get("payload") or {}
        self.log.append({"kind": "event", "token": token, "name": name, "payload": payload})
        state_name, _, handler = name.rpartition(".")
        values = self.states[token].get(state_name)
        if values is None:
            return self.error(connection, name, f"no event '{name}'")
        if name == "my_task_state.toggle_running":
            return self.change(token, {state_name: {"running": not values["running"]}})
        if name == "my_task_state.clear_counter":
            return self.change(token, {state_name: {"counter": 0}})
        if name == "gallery_state.add_item":
            items = values["items"] + [{"id": max([i["id"] for i in values["items"]], default=0) + 1,
                                        "name": values["draft"], "tags": []}]
            return self.change(token, {state_name: {"items": items, "draft": ""}})
        field = handler.removeprefix("set_")
        if handler.startswith("set_") and field in values:
            value = payload.get("value")
            if not fits(values[field], value):
                return self.error(
                    connection, name,
                    f"event '{name}': field 'value' must be {json_type(values[field])}, found {json_type(value).lower()}",
                )
            return self.change(token, {state_name: {field: value}})
        self.error(connection, name, f"no event '{name}'")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--initial", default="{}", help="JSON {state: {var: value}} over the defaults")
    args = parser.parse_args()
    server = FakeServer(json.loads(args.initial))
    async with serve(server.handle, "127.0.0.1", args.port, process_request=server.process_request) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        print(f"ready {port}", flush=True)
        await ws_server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
