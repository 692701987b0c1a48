"""A real browser behind nginx round robin over two Rill processes that share Redis; one process dies."""

import re
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait



@pytest.fixture
def nginx(pair, nginx_over):
    a, b = pair("BackgroundTask")
    return nginx_over(a, b), a, b


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=900,500"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def counter(driver):
    match = re.match(r"(\d+) /", driver.find_element(By.CSS_SELECTOR, "h2").text)
    return int(match.group(1)) if match else -1


def set_maximum(driver, value):
    field = driver.find_element(By.CSS_SELECTOR, "input[type=number]")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(value))
    field.send_keys(Keys.TAB)


def wait_for(driver, condition, timeout=30, message=""):
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition(), message)


def test_a_tab_behind_nginx_keeps_its_state_when_a_process_dies(browser, nginx):
    url, a, b = nginx
    browser.get(url)
    wait_for(browser, lambda: browser.execute_script("return window.__rill && window.__rill.connected"))
    set_maximum(browser, 3)
    time.sleep(0.3)
    browser.find_element(By.XPATH, "//button[normalize-space()='Start']").click()
    wait_for(browser, lambda: counter(browser) == 3, message="the counter did not reach 3")
    wait_for(browser, lambda: browser.find_elements(By.XPATH, "//button[normalize-space()='Start']"))

    a.kill()
    for _ in range(3):  # round robin would hand some of these to the dead process
        browser.refresh()
        wait_for(browser, lambda: browser.execute_script("return window.__rill && window.__rill.connected"),
                 message="no live process took the tab")
        wait_for(browser, lambda: counter(browser) == 3, message="the tab lost its state")

    # The surviving process runs the tab's events and tasks: count on to a higher maximum.
    set_maximum(browser, 5)
    time.sleep(0.3)
    browser.find_element(By.XPATH, "//button[normalize-space()='Start']").click()
    wait_for(browser, lambda: counter(browser) == 5, message="counting did not go on after the failover")
