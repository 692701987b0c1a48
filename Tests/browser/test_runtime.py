"""Drives rill.js in headless Chromium against fake_server.py: rendering, events, deltas, reconnects, CSP."""

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parents[1] / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Installed before any page script runs, so a violation during rill.js's start is caught too.
CSP_RECORDER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


class Server:
    """One fake_server.py process; restartable on the same port so the page can reconnect."""

    def __init__(self):
        self.port = 0
        self.process = None

    def start(self, initial=None):
        command = [sys.executable, str(HERE / "fake_server.py"), "--port", str(self.port)]
        if initial:
            command += ["--initial", json.dumps(initial)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        ready = self.process.stdout.readline().split()
        assert ready[:1] == ["ready"], f"fake server did not start: {ready}"
        self.port = int(ready[1])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, **query):
        with urllib.request.urlopen(self.url(path) + "?" + urllib.parse.urlencode(query)) as response:
            return response.read()

    def log(self):
        return json.loads(self.get("/_test/log"))

    def events(self, name=None):
        return [e for e in self.log() if e["kind"] == "event" and name in (None, e["name"])]

    def set(self, delta):
        self.get("/_test/set", delta=json.dumps(delta))

    def error(self, message):
        self.get("/_test/error", message=message)

    def latency(self, ms):
        self.get("/_test/latency", ms=ms)

    def connects(self):
        return [(c["token"], c["assigned"], c["resume"]) for c in self.log() if c["kind"] == "connect"]


@pytest.fixture(scope="session")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,640"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    record_csp(chrome)
    yield chrome
    chrome.quit()


def record_csp(driver):
    """Installs CSP_RECORDER in the current tab (each tab needs its own)."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_RECORDER})


@pytest.fixture
def server():
    s = Server()
    s.start()
    yield s
    s.stop()


@pytest.fixture
def browser(driver, server):
    """The driver, checked after each test for CSP violations and console errors on its page."""
    driver.get_log("browser")  # drop what earlier tests left
    yield driver
    assert driver.execute_script("return window.__csp || []") == []
    assert console_errors(driver) == []
    driver.get("about:blank")


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def js(driver, script, *args):
    return driver.execute_script("return " + script, *args)


def until(condition, timeout=5.0, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.02)


def open_page(driver, server, path="/"):
    driver.get(server.url(path))
    WebDriverWait(driver, 5).until(lambda d: js(d, "window.__rill && window.__rill.connected"))


def text_of(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def heading(driver):
    return text_of(driver, "h1")


def buttons(driver):
    return driver.find_elements(By.CSS_SELECTOR, "button.rill-button")


def number_input(driver):
    return driver.find_element(By.CSS_SELECTOR, "input.rill-number-input")


def observe(driver):
    """Starts recording DOM mutations under #rill-root; read them with mutations()."""
    driver.execute_script("""
        window.__mutations = [];
        new MutationObserver((records) => {
          for (const r of records) window.__mutations.push(r);
        }).observe(document.getElementById('rill-root'),
          { subtree: true, childList: true, characterData: true, attributes: true });
    """)


def mutations(driver):
    """The mutations recorded so far, described as [type, target text or tag]."""
    return js(driver, """window.__mutations.map((r) => [r.type,
        r.target.nodeType === Node.TEXT_NODE ? r.target.data : r.target.tagName])""")


def delta_while_typing(browser, server, field, typed, value):
    """The person types `typed` over the field's text and, before they leave the field, a delta
    sets max_counter to `value`: the state takes it, the field keeps what they typed."""
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(typed)
    server.set({"my_task_state": {"max_counter": value}})
    until(lambda: js(browser, "window.__rill.state.my_task_state.max_counter") == value, message="the delta")
    assert field.get_attribute("value") == typed


# ---- The seed page ----

def test_initial_render_and_token(browser, server):
    open_page(browser, server)
    assert heading(browser) == "0 /"
    assert number_input(browser).get_attribute("value") == "10"
    assert number_input(browser).get_attribute("type") == "number"
    assert [b.text for b in buttons(browser)] == ["Start", "Reset"]
    assert js(browser, "window.__rill.state") == {"my_task_state": {"counter": 0, "max_counter": 10, "running": False}}

    token = js(browser, "window.__rill.token")
    assert js(browser, "sessionStorage.getItem('rill-token')") == token
    assert [(c["token"], c["assigned"], c["path"], c["resume"]) for c in server.log() if c["kind"] == "connect"] \
        == [(token, token, "/", False)]
    # The hook is read-only.
    browser.execute_script("try { window.__rill.connected = false } catch (e) {}")
    assert js(browser, "window.__rill.connected") is True


def test_clicks_send_events_and_deltas_touch_only_bound_nodes(browser, server):
    open_page(browser, server)
    browser.execute_script("window.__headingText = document.querySelector('h1').firstChild")
    observe(browser)

    start, reset = buttons(browser)
    start.click()
    until(lambda: start.text == "Stop", message="the Stop label")
    assert server.events() == [{"kind": "event", "token": js(browser, "window.__rill.token"),
                                "name": "my_task_state.toggle_running", "payload": {}}]
    assert mutations(browser) == [["characterData", "Stop"]]

    browser.execute_script("window.__mutations = []")
    server.set({"my_task_state": {"counter": 5}})
    until(lambda: heading(browser) == "5 /", message="the counter")
    assert mutations(browser) == [["characterData", "5"]]
    assert js(browser, "document.querySelector('h1').firstChild === window.__headingText")

    browser.execute_script("window.__mutations = []")
    reset.click()
    until(lambda: heading(browser) == "0 /", message="the reset counter")
    assert [e["name"] for e in server.events()][-1] == "my_task_state.clear_counter"
    assert mutations(browser) == [["characterData", "0"]]
    assert start.text == "Stop"


def test_number_input_sends_numbers_and_never_half_typed_ones(browser, server):
    open_page(browser, server)
    field = number_input(browser)
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("25", Keys.TAB)
    until(lambda: server.events("my_task_state.set_max_counter"), message="set_max_counter")
    [event] = server.events("my_task_state.set_max_counter")
    assert event["payload"] == {"value": 25} and type(event["payload"]["value"]) is int
    until(lambda: js(browser, "window.__rill.state.my_task_state.max_counter") == 25, message="the new max")

    for half_typed in ("e", "-", ""):
        field.click()
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(half_typed or Keys.BACKSPACE, Keys.TAB)
    buttons(browser)[0].click()  # a later event: once it arrives, anything before it has too
    until(lambda: server.events("my_task_state.toggle_running"), message="toggle_running")
    assert len(server.events("my_task_state.set_max_counter")) == 1
    # What the person left stays in the field, marked as not sent; the state keeps its value.
    assert field.get_attribute("value") == ""
    assert field.get_attribute("aria-invalid") == "true"
    assert js(browser, "window.__rill.state.my_task_state.max_counter") == 25


def test_values_changed_without_an_input_event_are_committed(browser, server):
    open_page(browser, server)
    field = number_input(browser)
    field.clear()  # WebDriver's clear(): a new value and a blur, no input event
    field.send_keys("50", Keys.TAB)
    until(lambda: server.events("my_task_state.set_max_counter"), message="set_max_counter")
    assert [e["payload"] for e in server.events("my_task_state.set_max_counter")] == [{"value": 50}]
    assert field.get_attribute("value") == "50"

    open_page(browser, server, "/gallery")
    name = browser.find_element(By.ID, "name")
    js(browser, "(arguments[0].value = 'Autofilled', arguments[0].dispatchEvent(new Event('change')))", name)
    until(lambda: text_of(browser, "#greeting") == "Hello, Autofilled", message="the autofilled name")
    name.click()
    name.clear()
    name.send_keys("Al", Keys.TAB)
    until(lambda: text_of(browser, "#greeting") == "Hello, Al", message="the retyped name")
    assert name.get_attribute("value") == "Al"


def test_typing_is_not_overwritten_by_state(browser, server):
    open_page(browser, server)
    field = number_input(browser)
    delta_while_typing(browser, server, field, "7", 99)

    field.send_keys(Keys.TAB)  # change → set_max_counter(7) → the server's delta agrees
    until(lambda: js(browser, "window.__rill.state.my_task_state.max_counter") == 7, message="the typed max")
    assert field.get_attribute("value") == "7"

    # A value left unchanged sends nothing, and the state that arrived meanwhile shows on blur.
    delta_while_typing(browser, server, field, "7", 12)
    field.send_keys(Keys.TAB)
    until(lambda: field.get_attribute("value") == "12", message="the deferred value")
    assert js(browser, "window.__rill.state.my_task_state.max_counter") == 12

    # Without focus, state is written straight away.
    server.set({"my_task_state": {"max_counter": 3}})
    until(lambda: field.get_attribute("value") == "3", message="the unfocused write")


def test_errors_show_as_stacking_toasts_that_hide(browser, server):
    open_page(browser, server)
    server.error("Boom: something failed")
    server.error("Second problem")
    server.error("Boom: something failed")  # already showing: kept up, not doubled
    server.error("Third")
    until(lambda: [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".rill-toast")]
          == ["Boom: something failed", "Second problem", "Third"], message="three stacked toasts")
    box = browser.find_element(By.CSS_SELECTOR, ".rill-toasts").rect
    size = browser.get_window_size()
    assert box["x"] > size["width"] / 2 and box["y"] > js(browser, "innerHeight") / 2

    until(lambda: not browser.find_elements(By.CSS_SELECTOR, ".rill-toast"), timeout=8, message="toasts to hide")


def test_reconnects_with_the_same_token_and_rehydrates(browser, server):
    open_page(browser, server)
    token = js(browser, "window.__rill.token")
    assert console_errors(browser) == []

    server.stop()
    until(lambda: js(browser, "window.__rill.connected") is False, message="the disconnect")
    banner = until(lambda: browser.find_elements(By.CSS_SELECTOR, ".rill-banner"), message="the banner")[0]
    until(banner.is_displayed, message="the banner to show")
    assert banner.text == "Connection lost. Reconnecting…"
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "runtime-reconnecting.png"))

    # A click while cut off waits in the outbox, and the banner says so.
    buttons(browser)[0].click()
    until(lambda: banner.text == "Connection lost. Reconnecting… 1 action waits and will be sent then.",
          message="the waiting action in the banner")
    assert js(browser, "window.__rill.pending") == 1
    assert "rill-pending" in js(browser, "document.documentElement.className")
    assert buttons(browser)[0].text == "Start"

    server.start(initial={"my_task_state": {"counter": 42, "running": True}})
    until(lambda: js(browser, "window.__rill.connected"), timeout=8, message="the reconnect")
    until(lambda: heading(browser) == "42 /", message="the re-hydrated counter")
    # The waiting click is sent to the new server once the page has its state: it toggles.
    until(lambda: server.events("my_task_state.toggle_running"), message="the waiting click, sent")
    until(lambda: js(browser, "window.__rill.pending") == 0, message="the outbox emptied by the acknowledgement")
    until(lambda: buttons(browser)[0].text == "Start", message="the toggle applied")
    assert "rill-pending" not in js(browser, "document.documentElement.className")
    assert not banner.is_displayed()
    assert server.connects() == [(token, token, True)]
    assert js(browser, "sessionStorage.getItem('rill-token')") == token
    # The browser reports each refused connection attempt itself; nothing else may show up.
    assert [m for m in console_errors(browser) if "WebSocket connection to" not in m] == []


def test_a_duplicated_tab_takes_the_token_hydrate_gives_it(browser, server):
    open_page(browser, server)
    original = js(browser, "window.__rill.token")
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        record_csp(browser)
        browser.get(server.url("/"))
        browser.execute_script("sessionStorage.setItem('rill-token', arguments[0])", original)
        open_page(browser, server)
        fresh = js(browser, "window.__rill.token")
        assert fresh != original
        assert js(browser, "sessionStorage.getItem('rill-token')") == fresh
        assert server.connects()[-1] == (original, fresh, False)
        assert browser.execute_script("return window.__csp") == [] and console_errors(browser) == []
    finally:
        browser.close()
        browser.switch_to.window(first)


def test_a_reload_resumes_the_token(browser, server):
    open_page(browser, server)
    token = js(browser, "window.__rill.token")
    browser.refresh()
    WebDriverWait(browser, 5).until(lambda d: js(d, "window.__rill && window.__rill.connected"))
    assert js(browser, "window.__rill.token") == token
    assert server.connects() == [(token, token, False), (token, token, True)]
    assert js(browser, "sessionStorage.getItem('rill-resume')") is None


def test_a_tab_whose_token_is_taken_over_gets_its_own(browser, server):
    from websockets.sync.client import connect

    open_page(browser, server)
    token = js(browser, "window.__rill.token")
    url = server.url(f"/_rill/socket?token={token}&path=/&resume=1").replace("http", "ws")
    with connect(url, origin=server.url("").rstrip("/")) as taker:
        assert json.loads(taker.recv(timeout=5))["token"] == token
        until(lambda: js(browser, "window.__rill.connected && window.__rill.token !== arguments[0]", token),
              message="a token of its own")
        fresh = js(browser, "window.__rill.token")
        assert server.connects()[-1] == (token, fresh, False)  # no fight over the token
        assert js(browser, "sessionStorage.getItem('rill-token')") == fresh


# ---- The gallery and operator pages ----

def item_texts(driver):
    return js(driver, "[...document.querySelectorAll('ul > li')].map((li) => li.textContent)")


def test_keyed_foreach_reuses_reorders_adds_and_removes(browser, server):
    open_page(browser, server, "/gallery")
    assert item_texts(browser) == ["Apples #0 red/Apples", "Pears #1", "Plums #2 blue/Plums ripe/Plums"]
    browser.execute_script("""
        window.__lis = {};
        for (const li of document.querySelectorAll('ul > li')) window.__lis[li.dataset.id] = li;
        window.__ripe = document.querySelectorAll('ul > li')[2].lastElementChild;
    """)

    server.set({"gallery_state": {"items": [
        {"id": 3, "name": "Plums", "tags": ["blue", "ripe"]},
        {"id": 1, "name": "Green apples", "tags": ["red"]},
        {"id": 4, "name": "Figs", "tags": []},
    ]}})
    until(lambda: item_texts(browser) == ["Plums #0 blue/Plums ripe/Plums", "Green apples #1 red/Green apples", "Figs #2"],
          message="the new list")
    lis = browser.find_elements(By.CSS_SELECTOR, "ul > li")
    assert js(browser, "arguments[0] === window.__lis['3'] && arguments[1] === window.__lis['1']", lis[0], lis[1])
    assert js(browser, "Object.values(window.__lis).includes(arguments[0])", lis[2]) is False
    assert js(browser, "window.__lis['2'].isConnected") is False
    assert js(browser, "window.__ripe === arguments[0].lastElementChild", lis[0])

    server.set({"gallery_state": {"items": []}})
    until(lambda: item_texts(browser) == [], message="the empty list")


def test_cond_swaps_branches_and_checkbox_sends_checked(browser, server):
    open_page(browser, server, "/gallery")
    assert text_of(browser, "#shown") == "Shown" and not browser.find_elements(By.ID, "hidden")
    box = browser.find_element(By.CSS_SELECTOR, ".rill-checkbox input")
    assert box.is_selected()
    box.click()
    until(lambda: browser.find_elements(By.ID, "hidden"), message="the else branch")
    assert not browser.find_elements(By.ID, "shown")
    assert server.events("gallery_state.set_show")[-1]["payload"] == {"value": False}
    assert not box.is_selected()

    server.set({"gallery_state": {"show": True}})
    until(lambda: browser.find_elements(By.ID, "shown"), message="the then branch")
    assert box.is_selected()


def test_debounced_input_sends_once_typing_pauses(browser, server):
    open_page(browser, server, "/gallery")
    field = browser.find_element(By.ID, "name")
    field.send_keys("Bob")
    assert server.events("gallery_state.set_name") == []
    until(lambda: text_of(browser, "#greeting") == "Hello, Bob", message="the greeting")
    assert [e["payload"] for e in server.events("gallery_state.set_name")] == [{"value": "Bob"}]
    assert field.get_attribute("value") == "Bob"


def test_charts_and_progress_follow_state(browser, server):
    open_page(browser, server, "/gallery")
    line, bar = browser.find_elements(By.CSS_SELECTOR, ".rill-chart > svg")
    assert js(browser, "arguments[0].getAttribute('viewBox')", line) == "0 0 240 80"
    assert len(js(browser, "arguments[0].querySelector('polyline').getAttribute('points')", line).split()) == 6
    rects = bar.find_elements(By.TAG_NAME, "rect")
    assert len(rects) == 3 and {r.get_attribute("fill") for r in rects} == {"#2f9e44"}
    heights = [float(r.get_attribute("height")) for r in rects]
    assert heights == pytest.approx([80 * 3 / 7, 80, 80 * 5 / 7], abs=0.01)
    progress = browser.find_element(By.CSS_SELECTOR, "progress")
    assert js(browser, "arguments[0].value", progress) == pytest.approx(0.3)

    server.set({"gallery_state": {"points": [1, 2], "progress": None}})
    until(lambda: len(js(browser, "arguments[0].querySelector('polyline').getAttribute('points')", line).split()) == 2,
          message="the redrawn line")
    assert js(browser, "arguments[0].hasAttribute('value')", progress) is False  # indeterminate


def test_fast_typing_survives_slow_echoes_and_enter_submits(browser, server):
    open_page(browser, server, "/gallery")
    server.latency(150)
    field = browser.find_element(By.ID, "draft")
    # Count the runtime's writes to this field's value; typing does not go through the setter.
    browser.execute_script("""
        const field = arguments[0];
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        window.__writes = [];
        Object.defineProperty(field, 'value', {
          get: Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').get,
          set(v) { window.__writes.push(v); setter.call(this, v); },
        });
    """, field)
    field.click()
    phrase = "Figs and dates"
    field.send_keys(phrase)
    until(lambda: js(browser, "window.__rill.state.gallery_state.draft") == phrase, message="the echoes")
    time.sleep(0.2)
    assert field.get_attribute("value") == phrase
    assert js(browser, "window.__writes") == []
    assert [e["payload"]["value"] for e in server.events("gallery_state.set_draft")][-1] == phrase

    field.send_keys(Keys.ENTER)
    until(lambda: item_texts(browser)[-1:] == [f"{phrase} #3"], message="the added item")
    until(lambda: field.get_attribute("value") == "", message="the cleared draft")
    assert js(browser, "window.__writes") == [""]
    assert js(browser, "document.activeElement === arguments[0]", field)
    assert [e["name"] for e in server.events()][-1] == "gallery_state.add_item"


def test_links_and_props(browser, server):
    open_page(browser, server, "/gallery")
    assert browser.find_element(By.CSS_SELECTOR, "a.rill-link").get_attribute("href") == "https://example.com/"
    assert js(browser, "document.getElementById('bad-link').hasAttribute('href')") is False
    disabled = browser.find_element(By.XPATH, "//button[.='Disabled']")
    assert not disabled.is_enabled()


OPS_EXPECTED = {
    "not": "false", "and": "true", "or": "false", "eq-deep": "true", "ne": "true", "lt": "true", "le": "true",
    "gt-text": "true", "ge-mixed": "false", "add": "9", "add-text": "hi there", "add-mixed": "hi7", "sub": "5",
    "mul": "14", "div": "3.5", "div-zero": "", "mod": "1", "neg": "-7", "concat": "hi7true", "cond-lazy": "hi",
    "str-object": '{"k":"v"}', "str-array": "[1,2,3]", "str-null": "", "len-array": "3", "len-text": "2",
    "get-key": "v", "get-index": "2", "get-missing": "", "lit-object": '{"x":1}', "bare": "3",
}


def op_texts(driver):
    return js(driver, "Object.fromEntries([...document.querySelectorAll('[data-op]')].map((li) => [li.dataset.op, li.textContent]))")


def test_operators_and_dependency_tracking(browser, server):
    open_page(browser, server, "/ops")
    assert op_texts(browser) == OPS_EXPECTED

    # `b` is read by cond-lazy only when flag is false, so changing it leaves that line alone.
    observe(browser)
    server.set({"ops_state": {"b": 4}})
    until(lambda: op_texts(browser)["add"] == "11", message="the b delta")
    changed = {k for k, v in op_texts(browser).items() if v != OPS_EXPECTED[k]}
    assert changed == {"add", "sub", "mul", "div", "mod"}  # ne and lt still hold
    assert len(mutations(browser)) == 5

    browser.execute_script("window.__mutations = []")
    server.set({"ops_state": {"flag": False}})
    until(lambda: op_texts(browser)["cond-lazy"] == "4", message="the flag delta")
    assert sorted(m[1] for m in mutations(browser)) == sorted(["true", "false", "hi7false", "4"])


# ---- CSP detection works, and a look at the result ----

def test_the_csp_recorder_catches_a_violation(browser, server):
    open_page(browser, server)
    browser.execute_script("document.body.setAttribute('style', 'color: red')")
    until(lambda: js(browser, "window.__csp.length"), message="a violation")
    assert "style-src" in js(browser, "window.__csp[0]")
    browser.execute_script("window.__csp.length = 0")
    browser.get_log("browser")


def test_screenshots(browser, server):
    OUTPUT.mkdir(exist_ok=True)
    open_page(browser, server)
    buttons(browser)[0].click()
    server.set({"my_task_state": {"counter": 3}})
    until(lambda: heading(browser) == "3 /", message="the counter")
    server.error("event 'my_task_state.set_max_counter': field 'value' must be Int, found string")
    until(lambda: browser.find_elements(By.CSS_SELECTOR, ".rill-toast"), message="a toast")
    time.sleep(0.3)  # let the toast's entry animation finish
    browser.save_screenshot(str(OUTPUT / "runtime.png"))

    open_page(browser, server, "/gallery")
    size = browser.get_window_size()
    browser.set_window_size(900, 860)
    browser.find_element(By.ID, "name").send_keys("Ada")
    until(lambda: text_of(browser, "#greeting") == "Hello, Ada", message="the greeting")
    browser.save_screenshot(str(OUTPUT / "runtime-gallery.png"))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        browser.save_screenshot(str(OUTPUT / "runtime-gallery-dark.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        browser.set_window_size(size["width"], size["height"])
