"""The todo example as a person would use it: add with a mistake, fix it, tick, edit, open a task, import samples."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browsing import OUTPUT, browser, connected, served, wait_for  # noqa: F401 (browser is a fixture)


@pytest.fixture
def todo():
    with served("Todo") as example:
        yield example


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#todos tbody tr")


def titles(driver):
    return [row.find_elements(By.TAG_NAME, "td")[1].text for row in rows(driver)]


def test_a_session_with_the_todo_list(browser, todo):
    browser.get(todo.url("/"))
    connected(browser)
    assert browser.find_element(By.ID, "empty").text == "Nothing to do."

    # A title too short: the form says so under the field, and nothing is added.
    title = browser.find_element(By.ID, "new-title")
    title.send_keys("ab", Keys.ENTER)
    error = wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".rill-field-error"))[0]
    assert error.text == "Give the task a title of at least 3 characters"
    title.send_keys("c shopping")
    browser.find_element(By.ID, "new-notes").send_keys("Milk, **eggs**")
    browser.find_element(By.ID, "add").click()
    wait_for(browser, lambda: titles(browser) == ["abc shopping"])
    wait_for(browser, lambda: browser.find_element(By.ID, "new-title").get_attribute("value") == "")
    assert browser.find_element(By.ID, "open-count").text == "1 open"

    # Tick it, then edit its title in the dialog.
    rows(browser)[0].find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    wait_for(browser, lambda: browser.find_element(By.ID, "open-count").text == "0 open")
    rows(browser)[0].find_element(By.XPATH, ".//button[normalize-space()='Edit']").click()
    field = browser.find_element(By.ID, "edit-title")
    wait_for(browser, lambda: field.is_displayed() and browser.execute_script("return document.activeElement.id") == "edit-title")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("Shopping", Keys.ENTER)
    wait_for(browser, lambda: titles(browser) == ["Shopping"] and not field.is_displayed())

    # Open the task's page through its link, then come back.
    rows(browser)[0].find_element(By.LINK_TEXT, "Shopping").click()
    wait_for(browser, lambda: browser.find_elements(By.ID, "detail-title") and browser.find_element(By.ID, "detail-title").text == "Shopping")
    assert browser.current_url == todo.url("/todo/1")
    assert browser.find_element(By.CSS_SELECTOR, "#detail-notes strong").text == "eggs"
    browser.find_element(By.ID, "back").click()
    wait_for(browser, lambda: titles(browser) == ["Shopping"])

    # Import the samples in the background while the list stays usable.
    browser.find_element(By.ID, "import").click()
    wait_for(browser, lambda: browser.find_elements(By.ID, "stop-import"), message="the import did not start")
    rows(browser)[0].find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    wait_for(browser, lambda: browser.find_element(By.ID, "open-count").text.endswith(" open") and
             rows(browser)[0].find_element(By.CSS_SELECTOR, "input[type=checkbox]").is_selected() is False)
    wait_for(browser, lambda: len(titles(browser)) == 6, timeout=20, message="the samples were not imported")
    wait_for(browser, lambda: browser.find_element(By.ID, "import-progress").get_attribute("value") == "5")
    assert not browser.find_elements(By.ID, "stop-import")
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "todo.png"))


def test_a_missing_task_page_says_so(browser, todo):
    browser.get(todo.url("/todo/42"))
    connected(browser)
    wait_for(browser, lambda: browser.find_elements(By.ID, "missing"))
