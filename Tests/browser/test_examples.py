"""The seed's two examples, served by their real Swift binaries, used in headless Chromium as a person would."""

import re
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browsing import OUTPUT, browser, connected, served, wait_for  # noqa: F401 (browser is a fixture)


@pytest.fixture
def counter_app():
    with served("BackgroundTask") as example:
        yield example


def counter(driver):
    text = driver.find_element(By.CSS_SELECTOR, "h2").text
    match = re.match(r"(\d+) /", text)
    assert match, f"heading reads {text!r}"
    return int(match.group(1))


def button(driver, label):
    return driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']")


def open_app(driver, app):
    driver.get(app.url())
    connected(driver)


def start(driver, reached, **wait):
    """Clicks Start and waits until the counter is at `reached` or above."""
    button(driver, "Start").click()
    wait_for(driver, lambda: counter(driver) >= reached, **wait)


def set_maximum(driver, value):
    field = driver.find_element(By.CSS_SELECTOR, "input[type=number]")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(value))
    field.send_keys(Keys.TAB)


def test_start_counts_about_twice_a_second_and_stops_at_the_maximum(browser, counter_app):
    open_app(browser, counter_app)
    assert counter(browser) == 0
    assert browser.find_element(By.CSS_SELECTOR, "input[type=number]").get_attribute("value") == "10"
    start(browser, 1)
    start_count, start_time = counter(browser), time.monotonic()
    time.sleep(3)
    rate = (counter(browser) - start_count) / (time.monotonic() - start_time)
    # 0.5 s per step: about 2 a second; generous bounds for a loaded machine.
    assert 0.5 <= rate <= 2.6, f"counted {rate:.2f} per second"
    assert button(browser, "Stop")
    wait_for(browser, lambda: counter(browser) == 10, timeout=20)
    wait_for(browser, lambda: browser.find_elements(By.XPATH, "//button[normalize-space()='Start']"))
    time.sleep(1.2)
    assert counter(browser) == 10
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "background-task.png"))


def test_reset_and_a_new_maximum_take_effect_while_it_runs(browser, counter_app):
    open_app(browser, counter_app)
    start(browser, 3)
    button(browser, "Reset").click()
    wait_for(browser, lambda: counter(browser) <= 1, message="Reset did not set the counter to 0")
    wait_for(browser, lambda: counter(browser) >= 2, message="counting did not go on after Reset")
    set_maximum(browser, 4)
    wait_for(browser, lambda: browser.find_elements(By.XPATH, "//button[normalize-space()='Start']"),
             message="the new maximum did not stop the counter")
    assert counter(browser) == 4


def test_stop_stops_it(browser, counter_app):
    open_app(browser, counter_app)
    start(browser, 2)
    button(browser, "Stop").click()
    wait_for(browser, lambda: browser.find_elements(By.XPATH, "//button[normalize-space()='Start']"))
    stopped = counter(browser)
    time.sleep(1.5)
    assert counter(browser) in (stopped, stopped + 1)
    settled = counter(browser)
    time.sleep(1.2)
    assert counter(browser) == settled


def test_two_tabs_count_independently_and_a_reload_keeps_the_counter(browser, counter_app):
    open_app(browser, counter_app)
    first = browser.current_window_handle
    set_maximum(browser, 1000)   # keeps counting however slow the rest of the test is
    time.sleep(0.3)
    start(browser, 2)

    browser.switch_to.new_window("tab")
    open_app(browser, counter_app)
    assert counter(browser) == 0
    time.sleep(1)
    assert counter(browser) == 0, "the second tab counted along with the first"
    set_maximum(browser, 3)
    button(browser, "Start").click()
    wait_for(browser, lambda: counter(browser) == 3)

    browser.switch_to.window(first)
    button(browser, "Stop").click()
    wait_for(browser, lambda: browser.find_elements(By.XPATH, "//button[normalize-space()='Start']"))
    time.sleep(0.7)
    kept = counter(browser)
    assert kept >= 2
    token = browser.execute_script("return window.__rill.token")
    browser.refresh()
    connected(browser)
    wait_for(browser, lambda: counter(browser) == kept, message="the reload lost the counter")
    assert browser.execute_script("return window.__rill.token") == token


def test_reflex_steps_clear_then_type_a_maximum(browser, counter_app):
    """Reflex's own background-task test steps: clear() the maximum, type 50, start, and the
    counter runs past the old maximum of 10 (clear() changes the value without an input event)."""
    open_app(browser, counter_app)
    field = browser.find_element(By.CSS_SELECTOR, "input[type=number]")
    field.clear()
    field.send_keys("50")
    field.send_keys(Keys.TAB)
    wait_for(browser, lambda: browser.execute_script("return window.__rill.state.my_task_state.max_counter") == 50,
             message="the typed maximum did not reach the state")
    assert field.get_attribute("value") == "50"
    start(browser, 12, timeout=30, message="counting stopped at the old maximum")
    button(browser, "Stop").click()
    wait_for(browser, lambda: browser.find_elements(By.XPATH, "//button[normalize-space()='Start']"))
    assert browser.execute_script("return window.__rill.state.my_task_state.max_counter") == 50


@pytest.fixture
def low_level_app():
    with served("LowLevel") as example:
        yield example


def test_fetch_data_shows_the_fetched_text(browser, low_level_app):
    open_app(browser, low_level_app)
    button(browser, "Fetch Data").click()
    wait_for(browser, lambda: re.search(r"[A-Z][a-z].*\.$", browser.find_element(By.CSS_SELECTOR, ".rill-text").text or ""),
             message="no fetched text appeared")
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "low-level.png"))
