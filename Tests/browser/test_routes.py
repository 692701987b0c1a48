"""Pages and navigation in Chromium: links that keep the socket, back and forward, dynamic routes, onLoad once per arrival, 404s."""

import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By

from browsing import app, browser, connected, wait_for  # noqa: F401 (app and browser are fixtures)


def text(driver, id):
    return driver.find_element(By.ID, id).get_attribute("textContent")


def on(driver, id, timeout=15):
    wait_for(driver, lambda: driver.find_elements(By.ID, id), timeout=timeout, message=f"#{id} did not show")


def socket_count(driver):
    return driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/_rill/socket')).length")


def test_a_link_swaps_the_page_keeping_the_socket_and_on_load_runs_once(browser, app):
    browser.get(app.url("/routes"))
    connected(browser)
    browser.execute_script("window.notReloaded = true")
    browser.find_element(By.ID, "to-post").click()
    on(browser, "heading")
    wait_for(browser, lambda: text(browser, "heading") == "Post 7 on tab 2", message="onLoad did not read the route")
    wait_for(browser, lambda: text(browser, "comments") == "comments of 7", message="the task onLoad chained did not run")
    assert text(browser, "post-id") == "7"
    assert browser.current_url == app.url("/post/7?tab=2")
    assert browser.title == "Post"
    assert browser.execute_script("return window.notReloaded") is True, "the link reloaded the page"
    assert browser.execute_script("return window.__rill.connected")
    assert text(browser, "visits") == "1"

    # The socket drops and comes back: the same arrival, so onLoad does not run again.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    wait_for(browser, lambda: not browser.execute_script("return window.__rill.connected"), timeout=20)
    browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    connected(browser)
    assert text(browser, "visits") == "1", "a reconnect ran onLoad again"

    # Back and forward are navigations: each arrival at the post runs onLoad once.
    browser.back()
    on(browser, "routes")
    assert browser.current_url == app.url("/routes")
    browser.forward()
    on(browser, "visits")
    wait_for(browser, lambda: text(browser, "visits") == "2", message="forward did not run onLoad once")
    assert browser.execute_script("return window.notReloaded") is True

    # A reload is a new arrival too.
    browser.refresh()
    connected(browser)
    wait_for(browser, lambda: text(browser, "visits") == "3", message="a reload did not run onLoad once")


def test_a_literal_page_wins_over_a_parameter_and_an_unknown_path_is_a_404(browser, app):
    browser.get(app.url("/routes"))
    connected(browser)
    browser.find_element(By.ID, "to-new").click()
    on(browser, "new-post")
    browser.back()
    on(browser, "routes")
    browser.find_element(By.ID, "to-nowhere").click()
    wait_for(browser, lambda: browser.title == "Page not found")
    assert browser.current_url == app.url("/nowhere")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(app.url("/nowhere"))
    assert refused.value.code == 404
    assert b"Page not found" in refused.value.read()


def test_an_on_load_redirect_lands_on_the_other_page(browser, app):
    browser.get(app.url("/guarded"))
    on(browser, "routes")
    wait_for(browser, lambda: browser.current_url == app.url("/routes?from=guarded"))
    wait_for(browser, lambda: text(browser, "from") == "from guarded")


def test_a_link_to_a_plain_route_loads_it(browser, app):
    browser.get(app.url("/routes"))
    connected(browser)
    browser.find_element(By.ID, "to-plain").click()
    wait_for(browser, lambda: browser.current_url == app.url("/plain"))
    wait_for(browser, lambda: "a plain route" in browser.find_element(By.TAG_NAME, "body").text)
