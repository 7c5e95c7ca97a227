"""Headless Chromium for the browser tests: Debian's chromium through Selenium and the system
chromedriver (Selenium Manager never downloads anything: the driver path is given), with a
throw-away profile. Tests skip when /usr/bin/chromium or /usr/bin/chromedriver is missing."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


def skip_without_chromium(what: str = "this browser test") -> None:
    """Skip the calling test when Debian's chromium or chromium-driver is not installed."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"{what} needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
                    "/usr/bin/chromedriver): apt-get install chromium chromium-driver")


@contextmanager
def headless_chromium(*flags: str) -> Iterator[Any]:
    """A Selenium Chrome driver on headless Chromium (``FLAGS`` plus ``flags``), quit and its
    profile removed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="perksim-chromium-")
    for flag in (*FLAGS, *flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
