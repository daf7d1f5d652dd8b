"""Debian's headless Chromium driven by Selenium, for tests that open HTML pages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


@contextmanager
def headless_chromium(profile: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Chrome WebDriver on a throw-away profile, offline, console logs kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager fetch a driver
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def severe_errors(driver: Any) -> list[dict[str, Any]]:
    """The page's console errors so far; raises if the console channel itself does not work."""
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    driver.execute_script("console.error('smcluster-probe')")
    probe = [e for e in driver.get_log("browser") if "smcluster-probe" in e["message"]]
    assert probe, "the browser's console log is not readable"
    return errors
