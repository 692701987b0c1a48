"""Several Rill processes sharing tabs' states through a real Redis server."""

import json
import time
import uuid

import pytest


def token():
    return uuid.uuid4().hex


def test_two_processes_four_tasks_each_of_a_hundred_locked_increments_make_eight_hundred(pair):
    a, b = pair("BenchServer")
    tab = token()
    on_a = a.socket(tab)
    on_a.hydrate()
    for _ in range(4):
        on_a.event("bench_state.bg_count", n=100)
    # The tab moves to b: a closes its socket (4001), and its tasks go on beside b's.
    on_b = b.socket(tab, resume=True)
    on_b.hydrate()
    for _ in range(4):
        on_b.event("bench_state.bg_count", n=100)
    # Each socket sees the deltas of its own process's tasks, so read the committed total from
    # Redis through fresh connections until every task is done.
    deadline = time.monotonic() + 120
    total = None
    while time.monotonic() < deadline:
        check = b.socket(tab, resume=True)
        total = check.hydrate()["state"]["bench_state"]["counter"]
        check.close()
        if total >= 800:
            break
        time.sleep(0.5)
    assert total == 800
    time.sleep(1)
    final = a.socket(tab, resume=True)
    assert final.hydrate()["state"]["bench_state"]["counter"] == 800, "more than 800 increments were committed"
    fresh = a.socket(token())  # another tab sees its own state
    assert fresh.hydrate()["state"]["bench_state"]["counter"] == 0


def test_a_tab_on_one_process_sees_a_task_running_on_another_and_survives_its_process_dying(pair):
    a, b = pair("BackgroundTask")
    tab = token()

    # The tab starts the counter through process B, then its socket moves to A (as a load
    # balancer would after a reconnect); the task keeps running on B.
    on_b = b.socket(tab)
    on_b.hydrate()
    on_b.event("my_task_state.set_max_counter", value=1000)
    on_b.event("my_task_state.toggle_running")
    on_b.wait_for("my_task_state", "counter", lambda value: value >= 2)
    on_b.close()

    on_a = a.socket(tab, resume=True)
    seen = on_a.hydrate()["state"]["my_task_state"]["counter"]
    rising = on_a.wait_for("my_task_state", "counter", lambda value: value >= seen + 3)
    assert rising >= seen + 3

    # A dies; the tab reconnects to B and keeps its state, still counting.
    a.kill()
    again = b.socket(tab, resume=True)
    state = again.hydrate()["state"]["my_task_state"]
    assert state["counter"] >= rising and state["running"] is True
    again.wait_for("my_task_state", "counter", lambda value: value > state["counter"])
    again.event("my_task_state.toggle_running")
    again.wait_for("my_task_state", "running", lambda value: value is False)


def test_redis_restarting_reports_errors_then_service_resumes_without_losing_commits(redis, processes):
    server = processes("BenchServer", "--redis", redis.url)
    tab = token()
    socket = server.socket(tab)
    socket.hydrate()
    for _ in range(5):
        socket.event("bench_state.increment")
    socket.wait_for("bench_state", "counter", lambda value: value == 5)

    redis.stop()
    socket.event("bench_state.increment")
    error = socket.next(timeout=20)
    assert error["type"] == "error", error
    assert "redis" in error["message"].lower() or "connect" in error["message"].lower(), error["message"]

    # A tab connecting while Redis is down is told why, then its socket closes (it retries).
    newcomer = server.socket(token())
    refused = newcomer.next(timeout=20)
    assert refused["type"] == "error" and "could not be loaded" in refused["message"], refused

    redis.start()
    # The page's way: one event with an id, sent again while the answer is a `retry` error,
    # until it is acknowledged; the server runs it once however often it comes.
    message = {"type": "event", "name": "bench_state.increment", "payload": {}, "id": 1}
    socket.ws.send(json.dumps(message))
    deadline = time.monotonic() + 30
    acknowledged = False
    while not acknowledged:
        assert time.monotonic() < deadline, "the event was never acknowledged"
        answer = socket.next(timeout=20)
        if answer["type"] == "error":
            assert answer.get("id") == 1 and answer.get("retry") is True, answer
            time.sleep(0.3)
            socket.ws.send(json.dumps(message))
        # A hydrate (the relay's subscription came back, so the state is sent again) is read past.
        acknowledged = answer["type"] == "delta" and 1 in answer.get("acks", [])
    check = server.socket(token())
    check.hydrate()
    again = server.socket(tab, resume=True)
    assert again.hydrate()["state"]["bench_state"]["counter"] == 6, "a committed increment was lost, or one ran twice"
