"""Nothing lost, nothing twice: the tally page (Tests/Fixtures/App) in headless Chromium, with the
network cut by DevTools or by FaultProxy, and the server's acknowledgements and deltas lost on the
way. The counter must end exactly at the number of clicks, and the page equal to the server's state.
"""

import re
import signal
import threading
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

WAIT_S = 30.0
POLL_S = 0.05
NETWORK = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


class Tally:
    """The tally page, open in the browser, served by `server` (directly or through a proxy at `url`)."""

    def __init__(self, driver, server, url):
        self.driver = driver
        self.server = server
        self.url = url

    def open(self):
        self.driver.get(self.url)
        self.wait(lambda: self.live(), "the page did not connect")
        return self

    def js(self, expression):
        return self.driver.execute_script("return " + expression)

    def live(self):
        return self.js("window.__rill && window.__rill.status") == "live"

    def count(self):
        return int(self.driver.find_element(By.ID, "count").text)

    def pending(self):
        return self.js("window.__rill.pending")

    def state(self):
        return self.js("window.__rill.state.tally_state")

    def wait(self, condition, what, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                log = self.server.log().decode("utf-8", "replace").splitlines()[-20:]
                raise AssertionError(f"{what} (within {timeout:.0f} s); status {self.js('window.__rill.status')}, "
                                     f"pending {self.pending()}, state {self.state()}\nserver log:\n" + "\n".join(log))
            time.sleep(POLL_S)

    def click_add(self, times):
        button = self.driver.find_element(By.ID, "add")
        for _ in range(times):
            # From script: the banner of an outage may lie over the button, and what is tested
            # here is what becomes of the click.
            self.driver.execute_script("arguments[0].click()", button)

    def offline(self, yes):
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": yes, **NETWORK})

    def server_state(self):
        """The state as the server holds it: a fresh load of the page in the same tab (same token)."""
        self.driver.refresh()
        self.wait(lambda: self.live(), "the reloaded page did not connect")
        return self.state()


def replayed(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as response:
        text = response.read().decode()
    match = re.search(r'rill_events_total\{outcome="replayed"\} (\d+)', text)
    return int(match.group(1)) if match else 0


def test_twenty_clicks_and_typing_while_offline_land_exactly_once(browser, rill):
    server = rill("RillFixtures", "--metrics")
    page = Tally(browser, server, f"http://127.0.0.1:{server.port}/tally").open()
    page.click_add(2)
    page.wait(lambda: page.count() == 2 and page.pending() == 0, "the first clicks did not land")

    page.offline(True)
    page.wait(lambda: page.js("window.__rill.status") == "offline", "the page did not say offline")
    page.click_add(20)
    note = browser.find_element(By.ID, "note")
    note.send_keys("typed offline")
    assert page.pending() >= 21, "the clicks and the typing were not kept"
    banner = browser.find_element(By.CSS_SELECTOR, ".rill-banner").text
    assert re.search(r"\d+ actions wait and will be sent then\.", banner), banner
    assert "rill-pending" in page.js("document.documentElement.className")
    time.sleep(1.5)   # the page keeps trying meanwhile, and nothing gets through
    assert page.count() == 2 and page.state()["note"] == ""
    assert note.get_attribute("value") == "typed offline", "what was typed is still in the field"

    page.offline(False)
    page.wait(lambda: page.live() and page.pending() == 0, "the waiting events were not all acknowledged")
    page.wait(lambda: page.count() == 22, "the counter is not +20")
    page.wait(lambda: page.state()["note"] == "typed offline", "the typed text did not reach the state")
    assert note.get_attribute("value") == "typed offline"
    assert "rill-pending" not in page.js("document.documentElement.className")
    time.sleep(0.5)
    assert page.count() == 22, "something ran twice"
    after = page.server_state()
    assert after["count"] == 22 and after["note"] == "typed offline", after


def test_a_full_outbox_refuses_more_and_says_so(browser, rill):
    server = rill("RillFixtures")
    page = Tally(browser, server, f"http://127.0.0.1:{server.port}/tally").open()
    page.offline(True)
    page.wait(lambda: page.js("window.__rill.status") == "offline", "the page did not say offline")
    # Far more clicks than the outbox keeps (500), at once.
    page.driver.execute_script("const b = document.getElementById('add'); for (let i = 0; i < 520; i++) b.click();")
    assert page.pending() == 500
    toasts = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".rill-toast")]
    assert "Too many actions are waiting to be sent. That action was not kept." in toasts, toasts
    banner = browser.find_element(By.CSS_SELECTOR, ".rill-banner").text
    assert "500 actions wait and will be sent then. Too many actions are waiting to be sent." in banner, banner
    page.offline(False)
    page.wait(lambda: page.live() and page.pending() == 0, "the kept clicks were not all acknowledged")
    page.wait(lambda: page.count() == 500, "the counter is not exactly the 500 kept clicks")
    assert page.server_state()["count"] == 500


def test_one_large_event_is_kept_whatever_its_size(browser, rill):
    """The outbox's byte bound is for what waits: a single event larger than it still goes."""
    server = rill("RillFixtures")
    page = Tally(browser, server, f"http://127.0.0.1:{server.port}/tally").open()
    page.driver.execute_script("""
        const note = document.getElementById('note');
        note.value = 'x'.repeat(600000);
        note.dispatchEvent(new Event('input', { bubbles: true }));
    """)
    page.wait(lambda: page.pending() == 0 and len(page.state()["note"]) == 600000, "the large event did not land")


def test_a_lost_acknowledgement_makes_the_page_send_again_and_the_server_run_it_once(browser, rill, fault_proxy):
    server = rill("RillFixtures", "--metrics")
    proxy = fault_proxy(server.port)
    page = Tally(browser, server, proxy.url("/tally")).open()
    assert replayed(server) == 0
    # The acknowledgement of the next click is lost with its connection, after the server ran it.
    proxy.drop_frames(lambda text: '"acks"' in text, count=1, then="cut")
    page.click_add(1)
    page.wait(lambda: proxy.stats().get("dropped_frames") == 1, "the proxy saw no acknowledgement to drop")
    page.wait(lambda: page.live() and page.pending() == 0, "the click was not acknowledged after the reconnect")
    page.wait(lambda: page.count() == 1, "the page does not show the click")
    assert replayed(server) == 1, "the page did not send the click again, or the server ran it"
    page.click_add(3)
    page.wait(lambda: page.count() == 4 and page.pending() == 0, "later clicks did not land")
    assert page.server_state()["count"] == 4


def test_a_lost_delta_leads_to_a_resync_and_the_page_equals_the_state(browser, rill, fault_proxy):
    server = rill("RillFixtures", "--metrics")
    proxy = fault_proxy(server.port)
    page = Tally(browser, server, proxy.url("/tally")).open()
    version = page.js("window.__rill.version")
    # The delta of the next click vanishes; the connection stays.
    proxy.drop_frames(lambda text: '"type":"delta"' in text and '"v":' in text, count=1, then="keep")
    page.click_add(1)
    page.wait(lambda: proxy.stats().get("dropped_frames") == 1, "the proxy saw no delta to drop")
    time.sleep(0.3)
    assert page.count() == 0 and page.js("window.__rill.version") == version
    # The next delta names a version the page is not at: the page asks for its state.
    page.click_add(1)
    page.wait(lambda: page.count() == 2, "the page did not resync after the gap")
    page.wait(lambda: page.pending() == 0, "the click whose acknowledgement was lost stayed waiting")
    assert page.js("window.__rill.version") == version + 2
    shown = page.state()
    assert page.server_state() == shown, "the page does not equal the server's state"


def test_a_form_sent_offline_stays_busy_and_is_recorded_once(browser, rill):
    server = rill("RillFixtures")
    page = Tally(browser, server, f"http://127.0.0.1:{server.port}/tally").open()
    page.offline(True)
    page.wait(lambda: page.js("window.__rill.status") == "offline", "the page did not say offline")
    label = browser.find_element(By.ID, "label")
    label.send_keys("first", Keys.ENTER)
    form = browser.find_element(By.TAG_NAME, "form")
    assert form.get_attribute("aria-busy") == "true", "the form is not shown as sending"
    assert not label.is_enabled(), "the form's fields are not disabled while it waits"
    assert page.pending() == 1
    page.offline(False)
    page.wait(lambda: form.get_attribute("aria-busy") is None, "the form stayed busy after the reconnect")
    page.wait(lambda: page.state()["entries"] == ["first"], "the entry was not recorded once")
    assert page.server_state()["entries"] == ["first"]


def test_events_waiting_when_the_page_reloads_are_sent_by_the_next_page(browser, rill, fault_proxy):
    server = rill("RillFixtures")
    proxy = fault_proxy(server.port)
    page = Tally(browser, server, proxy.url("/tally")).open()
    token = page.js("window.__rill.token")
    # Pages load but sockets cannot connect: the clicks wait, and the reload keeps them.
    proxy.set_mode("cut")
    page.wait(lambda: not page.live(), "the page did not notice the cut")
    proxy.set_mode("cut_ws")
    page.click_add(3)
    assert page.pending() == 3
    browser.refresh()
    page.wait(lambda: page.js("window.__rill && window.__rill.pending") == 3, "the reloaded page lost the waiting clicks")
    proxy.set_mode("pass")
    page.wait(lambda: page.live() and page.pending() == 0, "the waiting clicks were not sent")
    page.wait(lambda: page.count() == 3, "the counter is not 3")
    assert page.js("window.__rill.token") == token
    assert page.server_state()["count"] == 3


# ---- Processes: nginx over two processes on one redis-server ----

TABS = 20


def click_through(port, disrupt, seconds_before=3.0, seconds_after=5.0):
    """Twenty tabs click `bench_state.increment` as fast as acknowledgements come back; after
    `seconds_before`, `disrupt()` runs; `seconds_after` later they stop clicking and drain.
    Returns the tabs."""
    from clicking import ClickingTab
    stop = threading.Event()
    tabs = [ClickingTab(port, "bench_state.increment", ("bench_state", "counter")) for _ in range(TABS)]
    threads = [tab.start(stop) for tab in tabs]
    time.sleep(seconds_before)
    disrupt()
    time.sleep(seconds_after)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a tab never finished"
    return tabs


def assert_exact(tabs, port_of_survivor):
    problems = [f"{tab.token}: {p}" for tab in tabs for p in tab.problems]
    assert problems == [], "\n".join(problems[:20])
    for tab in tabs:
        assert tab.clicks > 0
        assert tab.shown == tab.clicks, f"tab {tab.token} shows {tab.shown} after {tab.clicks} clicks"
        tab.port = port_of_survivor
        assert tab.server_value() == tab.clicks, f"tab {tab.token}: the saved state is not {tab.clicks}"


def test_twenty_tabs_behind_nginx_count_exactly_through_a_process_killed(redis, rill, nginx_over):
    a = rill("BenchServer", "--redis", redis.url)
    b = rill("BenchServer", "--redis", redis.url)
    url = nginx_over(a, b)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    tabs = click_through(port, disrupt=a.kill)
    assert not a.alive()
    assert sum(tab.reconnects for tab in tabs) > 0, "no tab lost its socket: the kill hit nothing"
    print(f"clicks {sum(t.clicks for t in tabs)}, reconnects {sum(t.reconnects for t in tabs)}, "
          f"events acknowledged again {sum(t.replays for t in tabs)}")
    assert_exact(tabs, b.port)


def test_twenty_tabs_count_exactly_through_a_redis_restart(redis, rill, nginx_over):
    a = rill("BenchServer", "--redis", redis.url)
    b = rill("BenchServer", "--redis", redis.url)
    url = nginx_over(a, b)
    port = int(url.rsplit(":", 1)[1].strip("/"))

    def restart():
        redis.stop(signal.SIGKILL)   # appendonly, fsync always: every reply it sent was on disk
        time.sleep(1.0)
        redis.start()

    tabs = click_through(port, disrupt=restart)
    assert a.alive() and b.alive()
    print(f"clicks {sum(t.clicks for t in tabs)}, reconnects {sum(t.reconnects for t in tabs)}, "
          f"events acknowledged again {sum(t.replays for t in tabs)}")
    assert_exact(tabs, port)
