"""Event triggers in Chromium: key filters, focus and blur, hovering, double clicks, mount and unmount, debounce."""

import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browsing import app, browser, connected, wait_for  # noqa: F401 (app and browser are fixtures)


def state(driver, name):
    return driver.execute_script("return window.__rill.state.trigger_state[arguments[0]]", name)


def log_is(driver, expected):
    wait_for(driver, lambda: state(driver, "log") == expected, message=f"log is {state(driver, 'log')}, not {expected}")


def test_keys_focus_and_blur_send_their_events(browser, app):
    browser.get(app.url("/triggers"))
    connected(browser)
    log_is(browser, ["loaded"])
    draft = browser.find_element(By.ID, "draft")
    draft.click()
    log_is(browser, ["loaded", "focus"])
    draft.send_keys("milk")
    wait_for(browser, lambda: state(browser, "draft") == "milk")
    draft.send_keys("x", Keys.ENTER)
    log_is(browser, ["loaded", "focus", "commit milkx"])
    draft.send_keys(Keys.ESCAPE)
    log_is(browser, ["loaded", "focus", "commit milkx", "clear"])
    wait_for(browser, lambda: draft.get_attribute("value") == "")
    draft.send_keys("eggs")
    # The pointer enters the text, then the press there takes focus from the field.
    browser.find_element(By.ID, "hover").click()
    log_is(browser, ["loaded", "focus", "commit milkx", "clear", "hover", "blur eggs"])


def test_double_click_and_a_panel_mounting_and_unmounting(browser, app):
    browser.get(app.url("/triggers"))
    connected(browser)
    log_is(browser, ["loaded"])
    ActionChains(browser).double_click(browser.find_element(By.ID, "double")).perform()
    # Two clicks toggle the panel twice (shown, hidden), and the double click is its own event.
    wait_for(browser, lambda: "double" in state(browser, "log"))
    wait_for(browser, lambda: state(browser, "log").count("unmount") == 1)
    log = state(browser, "log")
    assert log.count("mount") == 1 and log.index("mount") < log.index("unmount"), log
    assert not browser.find_elements(By.ID, "panel")


def test_a_debounced_key_trigger_sends_once_after_typing_pauses(browser, app):
    browser.get(app.url("/triggers"))
    connected(browser)
    browser.find_element(By.ID, "typing").send_keys("abcdefghij")
    wait_for(browser, lambda: state(browser, "keys") == 1, message="the debounced trigger never sent")
    time.sleep(0.8)
    assert state(browser, "keys") == 1, "ten quick keys sent more than once"
