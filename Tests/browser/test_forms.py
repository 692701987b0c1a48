"""Forms in Chromium: typed fields in one payload, Enter submits, the handler's field errors, waiting, and reset."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from browsing import app, browser, connected, wait_for  # noqa: F401 (app and browser are fixtures)


def open_form(driver, app):
    driver.get(app.url("/forms"))
    connected(driver)


def field(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f"form [name='{name}']")


def set_value(driver, el, value):
    """Sets a value as a script (or autofill) would, then fires the events a person's edit fires."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el, value)


def fill_valid(driver):
    field(driver, "email").send_keys("ada@example.com")
    field(driver, "password").send_keys("s3cret")
    field(driver, "age").send_keys("36")
    driver.find_element(By.CSS_SELECTOR, "form [name='plan'][value='pro']").click()
    Select(field(driver, "size")).select_by_visible_text("large")
    field(driver, "terms").click()
    field(driver, "news").click()  # on by default: now off
    field(driver, "bio").send_keys("Counts\nthings")
    set_value(driver, field(driver, "start"), "2026-12-24")
    set_value(driver, field(driver, "volume"), "8")


def test_enter_submits_every_field_typed_and_the_form_resets(browser, app):
    open_form(browser, app)
    fill_valid(browser)
    field(browser, "email").send_keys(Keys.ENTER)
    welcome = browser.find_element(By.ID, "welcome")
    wait_for(browser, lambda: welcome.text != "", message="the form's event did not run")
    assert welcome.get_attribute("textContent") == "Ada|ada@example.com|36|pro|large|true|false|Counts\nthings|2026-12-24|8"
    # Reset: every field back to its initial value.
    wait_for(browser, lambda: field(browser, "email").get_attribute("value") == "")
    assert field(browser, "name").get_attribute("value") == "Ada"
    assert field(browser, "size").get_attribute("value") == "medium"
    assert field(browser, "news").is_selected() and not field(browser, "terms").is_selected()
    assert field(browser, "volume").get_attribute("value") == "5"
    assert browser.find_elements(By.CSS_SELECTOR, ".rill-toast") == []


def test_the_handlers_field_errors_show_under_their_fields_and_change_nothing(browser, app):
    open_form(browser, app)
    field(browser, "email").send_keys("not an address")
    browser.find_element(By.ID, "submit").click()
    wait_for(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, ".rill-field-error")) == 4,
             message="the four field errors did not show")
    shown = {el.get_attribute("aria-describedby"): el for el in browser.find_elements(By.CSS_SELECTOR, "form [aria-invalid='true']")}
    notes = {n.get_attribute("id"): n.text for n in browser.find_elements(By.CSS_SELECTOR, ".rill-field-error")}
    messages = {el.get_attribute("name"): notes[note] for note, el in shown.items()}
    assert messages == {"email": "Enter an email address", "terms": "Accept the terms", "plan": "Pick a plan",
                        "password": "Use at least 4 characters"}
    assert browser.find_elements(By.CSS_SELECTOR, ".rill-toast") == [], "field errors also went to a toast"
    assert browser.find_element(By.ID, "submissions").text == "0"
    # What was typed stays for fixing; editing a field clears its message.
    assert field(browser, "email").get_attribute("value") == "not an address"
    assert browser.execute_script("return document.activeElement.name") in messages
    field(browser, "email").send_keys("x")
    wait_for(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, ".rill-field-error")) == 3)
    assert field(browser, "email").get_attribute("aria-invalid") is None


def test_the_form_waits_for_its_answer_and_a_second_enter_sends_nothing(browser, app):
    open_form(browser, app)
    fill_valid(browser)
    name = field(browser, "name")
    name.clear()
    name.send_keys("slow")
    name.send_keys(Keys.ENTER)
    fieldset = browser.find_element(By.CSS_SELECTOR, "form > fieldset")

    def disabled():
        return browser.execute_script("return arguments[0].disabled", fieldset)
    wait_for(browser, disabled, message="the form was not disabled while its event ran")
    assert browser.find_element(By.CSS_SELECTOR, "form").get_attribute("aria-busy") == "true"
    browser.execute_script("arguments[0].requestSubmit()", browser.find_element(By.CSS_SELECTOR, "form"))
    wait_for(browser, lambda: not disabled(), timeout=20, message="the form stayed disabled")
    assert browser.find_element(By.ID, "welcome").text.startswith("slow|")
    assert browser.find_element(By.ID, "submissions").text == "1", "the second submit ran too"
