"""Page commands sent by handlers (toast, focus, redirect, download, clipboard, title, scroll), run by the real runtime in Chromium."""

from selenium.webdriver.common.by import By

from browsing import app, browser, connected, wait_for  # noqa: F401 (app and browser are fixtures)


def open_commands(driver, app):
    driver.get(app.url("/commands"))
    connected(driver)


def click(driver, id):
    driver.find_element(By.ID, id).click()


def test_a_toast_shows_with_its_kind_and_focus_moves_to_the_field(browser, app):
    open_commands(browser, app)
    click(browser, "save")
    toast = wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".rill-toast-success"))[0]
    assert toast.get_attribute("textContent") == "Saved 1"
    wait_for(browser, lambda: browser.execute_script("return document.activeElement.id") == "note",
             message="focus did not move to the note field")


def test_a_redirect_loads_the_other_page_and_the_tab_keeps_its_state(browser, app):
    open_commands(browser, app)
    field = browser.find_element(By.ID, "note")
    field.clear()
    field.send_keys("kept")
    wait_for(browser, lambda: browser.execute_script("return window.__rill.state.commands_state.note") == "kept")
    click(browser, "leave")
    wait_for(browser, lambda: browser.current_url.endswith("/elsewhere?from=commands"), message="no redirect")
    connected(browser)
    wait_for(browser, lambda: browser.find_element(By.ID, "elsewhere").text == "Elsewherekept",
             message="the other page does not show the tab's state")


def test_a_redirect_to_script_is_refused_by_the_server_and_the_page_stays(browser, app):
    open_commands(browser, app)
    click(browser, "leave-badly")
    toast = wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".rill-toast-error"))[0]
    assert "cannot redirect" in toast.get_attribute("textContent")
    assert browser.current_url == app.url("/commands")


def test_a_download_saves_the_file(browser, app):
    open_commands(browser, app)
    click(browser, "export")
    saved = browser.downloads / "note.txt"
    wait_for(browser, lambda: saved.exists() and saved.read_text() == "hello", message="note.txt was not downloaded")


def test_the_title_changes_and_the_page_scrolls_to_an_element(browser, app):
    open_commands(browser, app)
    assert browser.execute_script("return window.scrollY") == 0
    click(browser, "rename")
    wait_for(browser, lambda: browser.title == "Renamed: hello")
    click(browser, "to-bottom")
    wait_for(browser, lambda: browser.execute_script(
        "const r = document.getElementById('bottom').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight + 1"),
        message="the end of the page was not scrolled into view")


def test_the_clipboard_gets_the_text(browser, app):
    open_commands(browser, app)
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": app.url("").rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    click(browser, "copy")

    def clipboard():
        return browser.execute_async_script(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, (e) => done('error: ' + e))")
    wait_for(browser, lambda: clipboard() == "hello", message="the clipboard does not hold the note")
