"""The playground in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium, with no browser download at run time. Skips, saying why, when either is missing; CI installs them.

    SYMGRAPH_SCREENSHOT=docs/serve.png python -m pytest tests/test_serve_browser.py  # refreshes the README picture
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from symgraph.serve import PlaygroundServer, make_server

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never download a driver or a browser
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (pip install selenium)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no Chromium: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]


@pytest.fixture(scope="module")
def server() -> Iterator[PlaygroundServer]:
    srv = make_server(port=0, workers=2)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()
    srv.pool.close()


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def text_of(driver: Any, element_id: str, timeout: float = 20) -> str:
    """The text of an element once it is shown (waits for the page's request to come back)."""
    wait = WebDriverWait(driver, timeout)
    return str(wait.until(lambda d: d.find_element(By.ID, element_id).text or False))


def wait_text(driver: Any, element_id: str, expected: str, timeout: float = 20) -> None:
    WebDriverWait(driver, timeout).until(
        lambda d: d.find_elements(By.ID, element_id) and d.find_element(By.ID, element_id).text == expected,
        message=f"#{element_id} never showed {expected!r}",
    )


def type_into(driver: Any, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def test_shared_link_typing_and_a_marked_error(server: PlaygroundServer, browser: Any, tmp_path: Path) -> None:
    browser.get(server.url + "?" + urlencode({"formula": "((x+5)^3+1)^2", "x": "-3"}))
    wait_text(browser, "value", "81")
    wait_text(browser, "grad-x", "216")
    assert "df/dt2 = df/dt4 * dt4/dt2 = 18 * 12 = 216" in text_of(browser, "explain")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#graph img"))
    WebDriverWait(browser, 30).until(lambda d: "agree" in d.find_element(By.ID, "check-verdict").text)
    shot = os.environ.get("SYMGRAPH_SCREENSHOT")
    if shot:  # the README's picture, taken of this very page
        browser.save_screenshot(shot)
    browser.save_screenshot(str(tmp_path / "shared-link.png"))

    type_into(browser, "formula", "(x+y)*z")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "input-z"))
    for name, value in (("x", "1"), ("y", "3"), ("z", "-3")):
        type_into(browser, f"input-{name}", value)
    wait_text(browser, "value", "-12")
    assert [text_of(browser, f"grad-{n}") for n in "xyz"] == ["-3", "-3", "4"]
    assert "x=1" in browser.current_url and "z=-3" in browser.current_url  # the address stays shareable

    type_into(browser, "formula", "x +* y")
    error = WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error")
    )
    assert "expected an operand after '+', found '*'" in error.text and "line 1, column 4" in error.text
    assert "Traceback" not in browser.page_source
    mark = browser.find_element(By.ID, "error-mark")
    assert mark.text == "*" or mark.get_attribute("textContent") == "*"  # the position, marked in the formula box
    assert browser.find_element(By.ID, "formula").get_attribute("aria-invalid") == "true"
    error.click()  # selects the position in the formula box
    start = browser.execute_script("return document.getElementById('formula').selectionStart")
    assert start == 3
    browser.save_screenshot(str(tmp_path / "error.png"))
    assert (tmp_path / "error.png").stat().st_size > 0
