"""Display components in Chromium, and a page with every component rendering under the strict CSP."""

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browsing import ROOT, Example, browser, connected, wait_for  # noqa: F401 (browser is a fixture)


@pytest.fixture(scope="module")
def app():
    example = Example("RillFixtures", "--assets", str(ROOT / "Tests" / "Fixtures" / "Assets"))
    yield example
    example.stop()


def open_everything(driver, app):
    # Installed before any script of the page runs, so no violation goes unseen.
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    """})
    driver.get(app.url("/everything"))
    connected(driver)


def state(driver, name):
    return driver.execute_script("return window.__rill.state.showcase_state[arguments[0]]", name)


def test_every_component_renders_with_no_csp_violation(browser, app):
    open_everything(browser, app)
    wait_for(browser, lambda: browser.execute_script("return document.getElementById('dot').naturalWidth") == 40,
             message="the image from the assets folder did not load")
    for selector in (".rill-badge", ".rill-spinner", ".rill-callout", ".rill-tooltip", ".rill-code", ".rill-table",
                     ".rill-tabs", "dialog", "form", ".rill-radio-group", ".rill-switch", ".rill-slider", "svg"):
        assert browser.find_elements(By.CSS_SELECTOR, selector), f"{selector} did not render"
    assert browser.execute_script("return window.__violations") == []


def test_markdown_becomes_elements_and_never_html(browser, app):
    open_everything(browser, app)
    static = browser.find_element(By.ID, "static-markdown")
    assert static.find_element(By.TAG_NAME, "h1").text == "Static"
    assert [li.text for li in static.find_elements(By.TAG_NAME, "li")] == ["one", "two"]
    assert static.find_element(By.TAG_NAME, "em").text == "emphasis"
    assert static.find_elements(By.TAG_NAME, "script") == [] and static.find_elements(By.TAG_NAME, "b") == []
    assert "alert(1)" in static.text and "raw" in static.text
    live = browser.find_element(By.ID, "live-markdown")
    assert live.find_element(By.TAG_NAME, "strong").text == "bold"
    assert live.find_element(By.TAG_NAME, "a").get_attribute("href") == app.url("/routes")
    notes = browser.find_element(By.ID, "notes")
    notes.send_keys(Keys.CONTROL, "a")
    notes.send_keys("## Changed [bad](javascript:alert(1))")
    wait_for(browser, lambda: live.find_elements(By.TAG_NAME, "h2") and live.find_element(By.TAG_NAME, "h2").text.startswith("Changed"))
    assert live.find_element(By.TAG_NAME, "a").get_attribute("href") is None, "a javascript: link kept its address"
    assert browser.execute_script("return window.__violations") == []


def test_table_rows_follow_the_array_by_key(browser, app):
    open_everything(browser, app)
    rows = lambda: browser.find_elements(By.CSS_SELECTOR, "#orders tbody tr")  # noqa: E731
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows()] == ["Ada", "Grace"]
    assert [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#orders th")] == ["Order", "Customer", "Total", ""]
    first = rows()[0]
    browser.find_element(By.ID, "add-order").click()
    wait_for(browser, lambda: len(rows()) == 3)
    assert rows()[0].find_elements(By.TAG_NAME, "td")[1].text == "Linus"
    assert rows()[1] == first, "an existing row was rebuilt instead of kept"
    ship = rows()[1].find_element(By.TAG_NAME, "button")
    assert ship.is_enabled() and not rows()[2].find_element(By.TAG_NAME, "button").is_enabled()
    ship.click()
    wait_for(browser, lambda: not rows()[1].find_element(By.TAG_NAME, "button").is_enabled())


def test_tabs_show_the_selected_panel(browser, app):
    open_everything(browser, app)
    one, two = browser.find_element(By.ID, "panel-one"), browser.find_element(By.ID, "panel-two")
    assert one.is_displayed() and not two.is_displayed()
    tab_two = browser.find_element(By.ID, "rill-tab-two")
    assert tab_two.get_attribute("aria-selected") == "false"
    tab_two.click()
    wait_for(browser, lambda: two.is_displayed() and not one.is_displayed())
    assert tab_two.get_attribute("aria-selected") == "true"
    assert state(browser, "tab") == "two"
    # The arrow keys move between tabs, and only the selected one is a Tab stop.
    tab_one = browser.find_element(By.ID, "rill-tab-one")
    assert (tab_one.get_attribute("tabindex"), tab_two.get_attribute("tabindex")) == ("-1", "0")
    tab_two.send_keys(Keys.ARROW_RIGHT)  # past the last: back to the first
    wait_for(browser, lambda: one.is_displayed() and state(browser, "tab") == "one")
    assert browser.execute_script("return document.activeElement.id") == "rill-tab-one"


def test_the_dialog_opens_from_the_state_and_escape_or_a_button_closes_it(browser, app):
    open_everything(browser, app)
    dialog = browser.find_element(By.TAG_NAME, "dialog")
    assert not dialog.is_displayed()
    browser.find_element(By.ID, "open-dialog").click()
    wait_for(browser, lambda: dialog.is_displayed())
    assert browser.execute_script("return document.querySelector('dialog').matches(':modal')")
    browser.find_element(By.ID, "dialog-name").send_keys("Zed", Keys.ESCAPE)
    wait_for(browser, lambda: state(browser, "closes") == 1 and not dialog.is_displayed())
    assert state(browser, "editing") is False and state(browser, "name") == "Zed"
    browser.find_element(By.ID, "open-dialog").click()
    wait_for(browser, lambda: dialog.is_displayed())
    browser.find_element(By.ID, "dialog-done").click()
    wait_for(browser, lambda: not dialog.is_displayed())
    assert state(browser, "closes") == 2, "closing from the state sent the close event again"


def test_a_tooltip_shows_on_hover(browser, app):
    open_everything(browser, app)
    tip = browser.find_element(By.CSS_SELECTOR, ".rill-tip")
    assert tip.value_of_css_property("visibility") == "hidden"
    ActionChains(browser).move_to_element(browser.find_element(By.CSS_SELECTOR, ".rill-tooltip button")).perform()
    wait_for(browser, lambda: tip.value_of_css_property("visibility") == "visible")
    assert tip.get_attribute("role") == "tooltip" and tip.text == "More about this"


@pytest.mark.parametrize("path", ["/assets/../../../Package.swift", "/assets/%2e%2e/%2e%2e/%2e%2e/Package.swift",
                                  "/assets/..%2f..%2f..%2fPackage.swift", "/assets/nope.svg"])
def test_nothing_outside_the_assets_folder_is_served(app, path):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    assert response.status in (400, 404), f"{path} answered {response.status}"
    assert b"swift-tools-version" not in body
