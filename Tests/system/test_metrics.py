"""`/metrics` of a real server: after a few events and a background task, the counters moved by exactly what happened."""

import re
import time
import urllib.error
import urllib.request
import uuid


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$", line)
        if match:
            samples[match.group(1)] = float(match.group(2))
    return samples


def test_metrics_count_events_tasks_tabs_and_deltas(processes):
    server = processes("BackgroundTask", "--metrics")
    before = scrape(server.port)
    assert before.get('rill_events_total{outcome="ok"}', 0) == 0

    tab = server.socket(uuid.uuid4().hex)
    tab.hydrate()
    tab.event("my_task_state.set_max_counter", value=3)
    assert tab.wait_for("my_task_state", "max_counter", lambda v: v == 3) == 3
    tab.event("my_task_state.my_task")   # not sent by any component: refused
    tab.event("my_task_state.toggle_running")   # chains the task, which counts to 3 and stops
    tab.wait_for("my_task_state", "counter", lambda v: v == 3)
    tab.wait_for("my_task_state", "running", lambda v: v is False)

    # The task's clean-up block ends it just after its last delta.
    for _ in range(100):
        after = scrape(server.port)
        if after.get('rill_background_tasks_ended_total{outcome="ok"}') == 1:
            break
        time.sleep(0.05)
    assert after['rill_events_total{outcome="ok"}'] == 2
    assert after['rill_events_total{outcome="refused"}'] == 1
    assert after.get('rill_events_total{outcome="failed"}', 0) == 0
    assert after["rill_background_tasks_started_total"] == 1
    assert after['rill_background_tasks_ended_total{outcome="ok"}'] == 1
    assert after["rill_background_tasks_running"] == 0
    assert after["rill_tabs_connected"] == 1
    assert after["rill_sockets_open"] == 1
    # max_counter, running on, counter 1 2 3, running off; the clean-up block changes no frontend var.
    assert after["rill_deltas_sent_total"] == 6
    assert after["rill_event_queue_seconds_count"] == 2
    # Two handlers, and the task's blocks: its start, four turns of the loop, its clean-up.
    assert after["rill_lock_hold_seconds_count"] == 8
    assert after["rill_lock_wait_seconds_count"] == 8
    assert after["rill_socket_bytes_out_total"] > 0

    tab.close()
    for _ in range(100):
        final = scrape(server.port)
        if final["rill_sockets_open"] == 0:
            break
        time.sleep(0.05)
    assert final["rill_sockets_open"] == 0
    assert final["rill_tabs_connected"] == 0


def test_no_metrics_endpoint_unless_asked(processes):
    server = processes("BackgroundTask")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
        raise AssertionError("/metrics answered without --metrics")
    except urllib.error.HTTPError as error:
        assert error.code == 404


def test_metrics_count_shared_changes_and_their_copies(processes):
    server = processes("Room", "--metrics")
    tabs = []
    for name in ("ann", "bob", "cid"):
        tab = server.socket(uuid.uuid4().hex)
        tab.hydrate()
        tab.event("visitor.set_name", value=name)
        tab.event("visitor.enter")
        tab.wait_for("chat_room", "_presence", lambda v, name=name: name in v)
        tabs.append(tab)
    for tab in tabs:
        tab.wait_for("chat_room", "_presence", lambda v: len(v) == 3)
    before = scrape(server.port)
    tabs[0].event("chat_room.increment")
    tabs[1].event("chat_room.increment")
    for tab in tabs:
        tab.wait_for("chat_room", "count", lambda v: v == 2)
    after = scrape(server.port)
    # Two changes, each handed to the three linked tabs.
    assert after["rill_shared_changes_total"] - before["rill_shared_changes_total"] == 2
    assert after["rill_shared_deliveries_total"] - before["rill_shared_deliveries_total"] == 6
    for tab in tabs:
        tab.close()
