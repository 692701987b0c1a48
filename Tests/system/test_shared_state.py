"""Shared state: the Room example (Examples/Room) in headless Chromium, one room shared by tabs on
two processes over one redis-server. A click in one tab shows in every other, presence lists
every tab, each tab's own computed var over the room follows the room's messages, a closed tab leaves it, and a killed process's tabs leave it within the alive mark's
expiry without losing a committed change. Raw sockets check that every linked tab gets the same
bytes for a change.
"""

import json
import time

from selenium.webdriver.common.by import By

WAIT_S = 30.0


def wait(condition, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} (within {timeout:.0f} s)")
        time.sleep(0.05)


class Window:
    """One browser tab (a window handle of the one driver) showing the room page."""

    def __init__(self, driver, url, name):
        self.driver = driver
        driver.switch_to.new_window("tab")
        self.handle = driver.current_window_handle
        driver.get(url)
        self.name = name
        wait(lambda: self.js("window.__rill && window.__rill.status") == "live", f"{name}'s page did not connect")

    def js(self, expression):
        self.driver.switch_to.window(self.handle)
        return self.driver.execute_script("return " + expression)

    def enter(self, room="lobby"):
        self.driver.switch_to.window(self.handle)
        field = self.driver.find_element(By.ID, "name")
        field.clear()
        field.send_keys(self.name)
        room_field = self.driver.find_element(By.ID, "room-name")
        room_field.clear()
        room_field.send_keys(room)
        wait(lambda: self.js("window.__rill.state.visitor.name") == self.name, "the name did not reach the server")
        self.driver.find_element(By.ID, "enter").click()
        wait(lambda: self.js("window.__rill.state.visitor.room") == room, f"{self.name} did not enter")

    def click(self, id, times=1):
        self.driver.switch_to.window(self.handle)
        button = self.driver.find_element(By.ID, id)
        for _ in range(times):
            self.driver.execute_script("arguments[0].click()", button)

    def count(self):
        return self.js("window.__rill.state.chat_room.count")

    def presence(self):
        return sorted(self.js("window.__rill.state.chat_room._presence") or [])

    def say(self, text):
        self.driver.switch_to.window(self.handle)
        field = self.driver.find_element(By.ID, "draft")
        field.send_keys(text)
        wait(lambda: self.js("window.__rill.state.visitor.draft") == text, "the draft did not reach the server")
        field.send_keys("\n")

    def mentions(self):
        return self.js("window.__rill.state.visitor.mentions")

    def shown_count(self):
        self.driver.switch_to.window(self.handle)
        return self.driver.find_element(By.ID, "count").text

    def close(self):
        self.driver.switch_to.window(self.handle)
        self.driver.close()


def test_tabs_on_two_processes_share_a_room_see_each_other_and_lose_a_killed_process(browser, redis, rill):
    a = rill("Room", "--redis", redis.url)
    b = rill("Room", "--redis", redis.url)
    names = ["ann", "bob", "cid", "dee"]
    windows = [Window(browser, f"http://127.0.0.1:{server.port}/", name)
               for server, name in zip([a, a, b, b], names)]
    for window in windows:
        window.enter()
    for window in windows:
        wait(lambda: window.presence() == names, f"{window.name} did not see everyone: {window.presence()}")

    # A tab's own computed var over the room, recomputed on each process when the room changes.
    windows[2].say("hi @ann")
    wait(lambda: windows[0].mentions() == 1, f"ann's mentions: {windows[0].mentions()}")
    wait(lambda: "1 mention you" in windows[0].driver.find_element(By.ID, "mentions").text, "ann's page shows no mention")
    windows[0].say("hello @bob and @cid")
    for window, count in zip(windows, [1, 1, 1, 0]):
        wait(lambda: window.mentions() == count, f"{window.name}'s mentions: {window.mentions()}, not {count}")

    windows[0].click("plus", 3)
    windows[2].click("plus", 2)
    windows[3].click("minus", 1)
    for window in windows:
        wait(lambda: window.count() == 4 and window.shown_count() == "4", f"{window.name} shows {window.count()}, not 4")

    windows[1].close()
    for window in (windows[0], windows[2], windows[3]):
        wait(lambda: window.presence() == ["ann", "cid", "dee"], f"{window.name} still lists bob: {window.presence()}")

    b.process.kill()
    b.process.wait(timeout=15)
    # Its alive mark expires in 3 s; a process with tabs on the room sweeps every second.
    wait(lambda: windows[0].presence() == ["ann"], f"the killed process's tabs stayed: {windows[0].presence()}", timeout=20)
    windows[0].click("plus", 1)
    wait(lambda: windows[0].count() == 5, "no committed change may be lost, and the room goes on")

    # A tab that comes to the live process finds the room as it was committed, and joins the list.
    again = Window(browser, f"http://127.0.0.1:{a.port}/", "eli")
    again.enter()
    wait(lambda: again.count() == 5 and again.presence() == ["ann", "eli"], f"the room on the live process: {again.count()}, {again.presence()}")
    wait(lambda: windows[0].presence() == ["ann", "eli"], f"the list did not take the new tab: {windows[0].presence()}")


def test_a_refused_room_is_an_error_on_the_page_and_links_nothing(browser, rill):
    server = rill("Room")
    window = Window(browser, f"http://127.0.0.1:{server.port}/", "eve")
    window.driver.switch_to.window(window.handle)
    window.driver.find_element(By.ID, "name").send_keys("eve")
    field = window.driver.find_element(By.ID, "room-name")
    field.clear()
    field.send_keys("no/such room")
    wait(lambda: window.js("window.__rill.state.visitor.room_name") == "no/such room", "the room name did not reach the server")
    window.click("enter")
    wait(lambda: "authorizeLink" in (window.driver.find_element(By.TAG_NAME, "body").text), "no error was shown")
    assert window.js("window.__rill.state.visitor.room") == ""


def frames_until(tab, predicate, timeout=20):
    """Raw messages of a tab's socket up to the first that satisfies `predicate`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = tab.ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if predicate(json.loads(raw)):
            return raw
    raise AssertionError("no such message")


def test_every_linked_socket_gets_the_same_bytes_for_a_change(rill):
    from websockets.sync.client import connect
    server = rill("Room")
    tabs = []
    for index in range(5):
        ws = connect(f"ws://127.0.0.1:{server.port}/_rill/socket?path=/&load=1", open_timeout=10)
        tab = type("T", (), {"ws": ws})()
        frames_until(tab, lambda m: m["type"] == "hydrate" and "token" in m)
        for name, payload in (("visitor.set_name", {"value": f"t{index}"}), ("visitor.enter", {})):
            ws.send(json.dumps({"type": "event", "name": name, "payload": payload}))
        joined = json.loads(frames_until(tab, lambda m: m.get("s") == "chat_room" and m["type"] == "hydrate" and m.get("v") is not None))
        tab.present = len(joined["state"]["chat_room"]["_presence"])
        tabs.append(tab)
    for tab in tabs:
        if tab.present < 5:
            frames_until(tab, lambda m: len((m.get("state") or m.get("delta") or {}).get("chat_room", {}).get("_presence", [])) == 5)
    tabs[0].ws.send(json.dumps({"type": "event", "name": "chat_room.increment", "payload": {}, "id": 1}))
    frames = [frames_until(tab, lambda m: m.get("s") == "chat_room" and m["type"] == "delta"
                           and m["delta"].get("chat_room", {}).get("count") == 1) for tab in tabs]
    assert len(set(frames)) == 1, frames
    message = json.loads(frames[0])
    assert "lobby" not in frames[0], "the key itself is never sent"
    assert message["k"] and message["v"] >= 1 and "acks" not in message
    for tab in tabs:
        tab.ws.close()


def test_a_lost_change_of_the_room_leads_to_a_resync_and_the_page_equals_the_room(browser, rill, fault_proxy):
    server = rill("Room")
    proxy = fault_proxy(server.port)
    watcher = Window(browser, proxy.url("/"), "ann")
    watcher.enter()
    writer = Window(browser, f"http://127.0.0.1:{server.port}/", "bob")
    writer.enter()
    wait(lambda: watcher.presence() == ["ann", "bob"], "the two tabs did not meet")
    stream = watcher.js("window.__rill.streams.chat_room.v")
    # The room's next change vanishes on its way to the watcher; its connection stays.
    proxy.drop_frames(lambda text: '"s":"chat_room"' in text and '"type":"delta"' in text, count=1, then="keep")
    writer.click("plus")
    wait(lambda: proxy.stats().get("dropped_frames") == 1, "the proxy saw no change of the room to drop")
    wait(lambda: writer.count() == 1, "the writer does not show its change")
    time.sleep(0.3)
    assert watcher.count() == 0 and watcher.js("window.__rill.streams.chat_room.v") == stream
    # The next change names a version the watcher is not at: it asks for its state.
    writer.click("plus")
    wait(lambda: watcher.count() == 2, "the watcher did not resync after the gap")
    assert watcher.js("window.__rill.streams.chat_room.v") == stream + 2
    assert watcher.presence() == ["ann", "bob"]
