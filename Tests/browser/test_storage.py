"""Vars kept in the browser: written on change, restored into a new tab's state, refused when they do not fit."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browsing import app, browser, connected, wait_for  # noqa: F401 (app and browser are fixtures)


def shown(driver):
    return driver.find_element(By.ID, "shown").get_attribute("textContent")


def new_tab_state(driver):
    """The same browser, a new tab's state: a fresh token, with the browser's storage kept."""
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    connected(driver)


def test_changes_are_kept_and_a_new_tab_starts_from_them(browser, app):
    browser.get(app.url("/prefs"))
    connected(browser)
    assert shown(browser) == "light en 0"
    theme = browser.find_element(By.ID, "theme")
    theme.send_keys(Keys.CONTROL, "a")
    theme.send_keys("dark")
    browser.find_element(By.ID, "french").click()
    browser.find_element(By.ID, "visit").click()
    wait_for(browser, lambda: shown(browser) == "dark fr 1")
    wait_for(browser, lambda: browser.execute_script("return localStorage.getItem('theme')") == '"dark"')
    assert browser.get_cookie("lang")["value"] == "%22fr%22"
    token = browser.execute_script("return window.__rill.token")

    new_tab_state(browser)
    assert browser.execute_script("return window.__rill.token") != token
    wait_for(browser, lambda: shown(browser) == "dark fr 1", message="the new tab did not start from the stored values")


def test_a_stored_value_that_does_not_fit_is_refused_and_changes_nothing(browser, app):
    browser.get(app.url("/prefs"))
    connected(browser)
    browser.execute_script("localStorage.setItem('visits', '\"many\"'); localStorage.setItem('theme', '\"blue\"')")
    new_tab_state(browser)
    toast = wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".rill-toast"))[0]
    assert "prefs_state.visits" in toast.get_attribute("textContent")
    assert shown(browser).endswith(" 0"), "a refused value was half applied"
    assert shown(browser).startswith("light "), "the values were applied one by one"
