"""Durable background tasks: the DurableCounter example (Examples/DurableCounter) on two processes
sharing one redis-server (appendonly, fsync always). A 60-step durable task, each step a sleep
outside the lock and a block that appends the step and checkpoints it, survives its process:
killed (-9), it is claimed by the other once the alive mark expires; stopped (SIGTERM), it is
handed over at once; with afterCrash .fail it is not run again, its clean-up resets the flags and
the tab is told. A redis-server restart mid-task never makes a step run twice.
"""

import time
import uuid

STATE = "durable_counter_state"


def token():
    return uuid.uuid4().hex


def start_counting(server, tab, total=60, interval=100, resumable=True):
    socket = server.socket(tab)
    socket.hydrate()
    socket.event(f"{STATE}.set_interval", value=interval)
    socket.event(f"{STATE}.set_max_counter", value=total)
    if not resumable:
        socket.event(f"{STATE}.set_resumable", value=False)
    socket.event(f"{STATE}.toggle_running")
    return socket


def state_on(server, tab):
    check = server.socket(tab, resume=True)
    state = check.hydrate()["state"][STATE]
    check.close()
    return state


def wait_until(condition, what, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(what)


def told(socket, text, timeout=60):
    """Reads the socket's messages until an error arrives; it must say `text`."""
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, "the tab was never told"
        message = socket.next(timeout=timeout)
        if message["type"] == "error":
            assert text in message["message"], message
            return


def two(redis, rill, *args):
    """Two DurableCounter processes sharing `redis`."""
    return rill("DurableCounter", "--redis", redis.url, *args), rill("DurableCounter", "--redis", redis.url, *args)


def test_a_killed_process_s_task_is_resumed_by_the_other_each_step_exactly_once(redis, rill):
    a, b = two(redis, rill)
    tab = token()
    on_a = start_counting(a, tab)
    on_a.wait_for(STATE, "steps", lambda steps: len(steps) >= 20)
    a.kill()

    # The page reconnects to the survivor, which claims the task once a's alive mark expires.
    on_b = b.socket(tab, resume=True)
    on_b.hydrate()
    on_b.wait_for(STATE, "steps", lambda steps: len(steps) == 60, timeout=90)
    final = wait_until(lambda: (lambda s: s if not s["running"] else None)(state_on(b, tab)), "the task never ended")
    assert final["steps"] == list(range(1, 61)), final["steps"]
    assert final["counter"] == 60
    assert b"resuming a durable task" in b.log()


def test_sigterm_hands_the_task_over_at_once_and_it_goes_on_elsewhere(redis, rill):
    a, b = two(redis, rill)
    tab = token()
    on_a = start_counting(a, tab)
    on_a.wait_for(STATE, "steps", lambda steps: len(steps) >= 15)
    a.process.terminate()
    a.process.wait(timeout=30)
    assert b"durable tasks handed over" in a.log(), a.log()[-2000:]

    on_b = b.socket(tab, resume=True)
    on_b.hydrate()
    on_b.wait_for(STATE, "steps", lambda steps: len(steps) == 60, timeout=90)
    final = wait_until(lambda: (lambda s: s if not s["running"] else None)(state_on(b, tab)), "the task never ended")
    assert final["steps"] == list(range(1, 61)), final["steps"]


def test_a_fail_policy_task_is_not_run_again_its_flags_are_reset_and_the_tab_is_told(redis, rill):
    a, b = two(redis, rill)
    tab = token()
    on_a = start_counting(a, tab, resumable=False)
    on_a.wait_for(STATE, "steps", lambda steps: len(steps) >= 5)
    a.kill()

    on_b = b.socket(tab, resume=True)
    on_b.hydrate()
    told(on_b, "interrupted")
    state = wait_until(lambda: (lambda s: s if not s["running"] else None)(state_on(b, tab)), "the flag was not reset")
    time.sleep(1.5)
    assert state_on(b, tab)["steps"] == state["steps"], "the task ran again"
    assert state["steps"] == list(range(1, len(state["steps"]) + 1))


def test_a_redis_restart_mid_task_never_runs_a_step_twice(redis, rill):
    a = rill("DurableCounter", "--redis", redis.url)
    tab = token()
    on_a = start_counting(a, tab, total=40)
    on_a.wait_for(STATE, "steps", lambda steps: len(steps) >= 10)
    redis.stop()
    time.sleep(1)
    redis.start()

    # It goes on, or ends with an error; either way each committed step is there once.
    def settled():
        try:
            state = state_on(a, tab)
        except Exception:
            return None
        return state if not state["running"] or len(state["steps"]) == 40 else None
    state = wait_until(settled, "the task neither finished nor stopped", timeout=120)
    steps = state["steps"]
    assert steps == list(range(1, len(steps) + 1)), steps


def running_tasks(port):
    from test_metrics import scrape
    return scrape(port).get("rill_background_tasks_running", 0)


def test_a_page_behind_nginx_keeps_counting_on_the_other_process_after_its_own_is_killed(browser, redis, rill, nginx_over):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    a, b = two(redis, rill, "--metrics")
    browser.get(nginx_over(a, b))
    shown = lambda expression: browser.execute_script(f"return window.__rill && window.__rill.state && window.__rill.state.{STATE}.{expression}")
    wait_until(lambda: browser.execute_script("return window.__rill && window.__rill.connected"), "the page did not connect", timeout=30)
    field = browser.find_element(By.CSS_SELECTOR, "input[type=number]")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("16")
    field.send_keys(Keys.TAB)
    wait_until(lambda: shown("max_counter") == 16, "the maximum did not reach the server", timeout=30)
    browser.find_element(By.ID, "toggle").click()
    wait_until(lambda: (shown("counter") or 0) >= 4, "the page did not count", timeout=30)

    runner, other = (a, b) if running_tasks(a.port) == 1 else (b, a)
    assert running_tasks(runner.port) == 1 and running_tasks(other.port) == 0
    runner.kill()
    # The page reconnects (nginx takes it to the live process), which resumes the task.
    wait_until(lambda: shown("counter") == 16, f"the page stopped at {shown('counter')}", timeout=90)
    assert shown("steps") == list(range(1, 17))
    wait_until(lambda: shown("running") is False, "the task did not end", timeout=30)
    assert "16 steps committed" in browser.find_element(By.ID, "steps").text
    from test_metrics import scrape
    assert scrape(other.port).get('rill_durable_tasks_claimed_total{after_crash="resume"}') == 1


def test_a_task_that_keeps_taking_its_process_down_is_stopped_through_its_clean_up(redis, rill):
    """A task whose every process dies while it runs, before it saves a block, is not passed on
    forever: each death is a lost run, and after 5 in a row (App.maxLostRuns) the next process
    runs only its clean-up and tells the tab."""
    tab = token()
    current = rill("DurableCounter", "--redis", redis.url)
    # A step every ten minutes: once started, no run of it saves a block again.
    start_counting(current, tab, interval=600_000)
    wait_until(lambda: state_on(current, tab)["running"], "the task never started")
    time.sleep(0.5)  # its first block (the counting slot) committed
    for lost in range(1, 7):
        successor = rill("DurableCounter", "--redis", redis.url)
        if lost == 6:
            page = successor.socket(tab, resume=True)
            page.hydrate()
        current.kill()
        wait_until(lambda: b"resuming a durable task" in successor.log(), f"lost run {lost}: no process took the task")
        assert f"lost_runs={lost}".encode() in successor.log(), successor.log()[-2000:]
        current = successor

    told(page, "6 runs of it in a row ended before saving a block")
    final = wait_until(lambda: (lambda s: s if not s["running"] else None)(state_on(current, tab)), "its clean-up never ran")
    assert final["steps"] == [], final
    # It is forgotten: a seventh process finds nothing to take.
    current.kill()
    last = rill("DurableCounter", "--redis", redis.url)
    time.sleep(5)
    assert b"resuming a durable task" not in last.log(), last.log()[-2000:]
