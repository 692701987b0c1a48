"""Client actions in Chromium: steps the page runs by itself, kept across server updates, and the event after them."""

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from browsing import app, browser, connected, wait_for  # noqa: F401 (app and browser are fixtures)


def state(driver, name):
    return driver.execute_script("return window.__rill.state.client_state[arguments[0]]", name)


def open_client(driver, app):
    driver.get(app.url("/client"))
    connected(driver)


def test_a_toggle_runs_in_the_page_and_survives_server_updates(browser, app):
    open_client(browser, app)
    menu = browser.find_element(By.ID, "menu")
    assert not menu.is_displayed()
    browser.find_element(By.ID, "menu-button").click()
    wait_for(browser, lambda: menu.is_displayed())
    browser.find_element(By.ID, "tick").click()
    wait_for(browser, lambda: browser.find_element(By.ID, "ticks").text == "Ticks: 1")
    assert menu.is_displayed(), "a server update undid the client's toggle"
    browser.find_element(By.ID, "menu-button").click()
    wait_for(browser, lambda: not menu.is_displayed())
    assert state(browser, "events") == 0


def test_steps_run_in_order_then_the_event_is_sent(browser, app):
    open_client(browser, app)
    browser.find_element(By.ID, "details-button").click()
    wait_for(browser, lambda: browser.execute_script("return document.activeElement.id") == "details-input")
    box = browser.find_element(By.ID, "box")
    browser.find_element(By.ID, "mark").click()
    wait_for(browser, lambda: state(browser, "events") == 1)
    assert "marked" in box.get_attribute("class").split() and box.get_attribute("title") == "marked"


def test_an_unsafe_address_is_not_set_and_hover_classes_come_and_go(browser, app):
    open_client(browser, app)
    browser.find_element(By.ID, "spoil").click()
    link = browser.find_element(By.ID, "link")
    wait_for(browser, lambda: link.get_attribute("href") is None)
    hover = browser.find_element(By.ID, "hover")
    ActionChains(browser).move_to_element(hover).perform()
    wait_for(browser, lambda: "hovered" in hover.get_attribute("class").split())
    ActionChains(browser).move_to_element(browser.find_element(By.ID, "tick")).perform()
    wait_for(browser, lambda: "hovered" not in hover.get_attribute("class").split())
