"""Bound inputs in Chromium: each sets its var, shows the state, and takes typing, scripts and dragging."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browsing import app, browser, connected, wait_for  # noqa: F401 (app and browser are fixtures)


def open_inputs(driver, app):
    driver.get(app.url("/inputs"))
    connected(driver)


def state(driver, name):
    return driver.execute_script("return window.__rill.state.inputs_state[arguments[0]]", name)


def until_state(driver, name, value):
    wait_for(driver, lambda: state(driver, name) == value, message=f"{name} is {state(driver, name)!r}, not {value!r}")


def test_text_area_password_and_date_set_their_vars(browser, app):
    open_inputs(browser, app)
    browser.find_element(By.ID, "bio").send_keys("two\nlines")
    until_state(browser, "bio", "two\nlines")
    browser.find_element(By.ID, "secret").send_keys("hunter2")
    until_state(browser, "secret", "hunter2")
    assert browser.find_element(By.ID, "secret").get_attribute("type") == "password"
    # A date picked programmatically fires only `change`; it is sent all the same.
    browser.execute_script(
        "const d = document.getElementById('day'); d.value = '2027-01-31'; d.dispatchEvent(new Event('change', {bubbles: true}))")
    until_state(browser, "day", "2027-01-31")


def test_lists_offer_fixed_var_and_enum_options(browser, app):
    open_inputs(browser, app)
    color = Select(browser.find_element(By.ID, "color"))
    assert color.first_selected_option.text == "red"
    color.select_by_visible_text("Blue!")
    until_state(browser, "color", "blue")
    city = Select(browser.find_element(By.ID, "city"))
    assert [o.text for o in city.options] == ["Oslo", "Lima"]
    assert city.first_selected_option.text == "Lima", "the list does not show the var's value"
    browser.find_element(By.ID, "add-city").click()
    wait_for(browser, lambda: [o.text for o in city.options] == ["Oslo", "Lima", "Kyoto"])
    assert city.first_selected_option.text == "Lima", "new options moved the choice"
    city.select_by_visible_text("Kyoto")
    until_state(browser, "city", "Kyoto")
    size = Select(browser.find_element(By.ID, "size"))
    assert [o.text for o in size.options] == ["SMALL", "MEDIUM", "LARGE"]
    assert size.first_selected_option.text == "MEDIUM"
    size.select_by_visible_text("LARGE")
    until_state(browser, "size", "large")


def test_radios_and_the_switch(browser, app):
    open_inputs(browser, app)
    radios = browser.find_elements(By.CSS_SELECTOR, "#answer input[type=radio]")
    assert [r.is_selected() for r in radios] == [False, True, False]
    radios[0].click()
    until_state(browser, "answer", "yes")
    switch = browser.find_element(By.ID, "dark")
    assert switch.get_attribute("role") == "switch" and not switch.is_selected()
    switch.click()
    until_state(browser, "dark", True)


def test_a_dragged_slider_sends_a_few_values_and_always_the_last(browser, app):
    open_inputs(browser, app)
    # Sixty moves in one burst, as a fast drag makes, then the release.
    browser.execute_script("""
        const s = document.getElementById('volume');
        for (let v = 31; v <= 90; v++) { s.value = String(v); s.dispatchEvent(new Event('input', {bubbles: true})); }
        s.dispatchEvent(new Event('change', {bubbles: true}));
    """)
    until_state(browser, "volume", 90)
    assert browser.find_element(By.ID, "volume-shown").text == "90"
    slides = state(browser, "slides")
    assert 1 <= slides <= 4, f"{slides} sends for one burst of 60 moves"
