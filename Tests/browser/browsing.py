"""What the browser tests share: a Swift app binary on a free port, and headless Chromium that fails a test on console errors."""

import contextlib
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
BIN = Path(os.environ.get("RILL_BIN", ROOT / ".build" / "debug"))


class Example:
    """One app binary on a free loopback port."""

    def __init__(self, name, *args):
        self.process = subprocess.Popen(
            [str(BIN / name), "--port", "0", "--log-level", "info", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        self.port = None
        while time.monotonic() < deadline and self.port is None:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode}")
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
        assert self.port, f"{name} did not report its port"

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@contextlib.contextmanager
def served(name, *args):
    """An app binary for the length of a `with`; it must then shut down cleanly on SIGTERM."""
    example = Example(name, *args)
    yield example
    example.stop()
    assert example.process.returncode == 0, f"{name} did not shut down cleanly on SIGTERM"


@pytest.fixture(scope="module")
def app():
    """The fixture app (Tests/Fixtures/App), one per test module."""
    example = Example("RillFixtures")
    yield example
    example.stop()


@pytest.fixture
def browser():
    """Headless Chromium; downloads land in `browser.downloads`. A console error fails the test."""
    downloads = tempfile.mkdtemp(prefix="rill-downloads-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=900,500"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    driver.downloads = Path(downloads)
    yield driver
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    driver.quit()
    assert errors == [], f"console errors: {errors}"


def wait_for(driver, condition, timeout=15, message=""):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition(), message)


def connected(driver):
    wait_for(driver, lambda: driver.execute_script("return window.__rill && window.__rill.connected"),
             message="the socket did not connect")
