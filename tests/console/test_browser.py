"""The console in a real browser: the bot runs against mastodon-mock, answers
mentions, and headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by selenium) reads the rows, filters them, opens a trace, looks at a
plot and asks the preview box. Skipped where Chromium is not installed;
``.ci/run`` installs it.

With ``FILROUGE_UPDATE_SCREENSHOT=1`` the screenshot is also written to
``docs/console.png`` (the README's).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.console.app import PREFIX, Console
from bot.ops.server import OpsServer
from tests.scenarios.test_live import AFFICHES, SHARED_LINK, Live, live

__all__ = ["live"]

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"

if CHROMIUM is None or DRIVER is None:
    pytest.skip("Chromium and chromedriver are not installed", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def replaced(element: object) -> Callable[[object], bool]:
    """A wait condition: ``element``'s page has been replaced by the next.
    Selenium's ``staleness_of``, but chromedriver, asked about an element
    while the next page loads, may also answer that its node "does not
    belong to the document": gone too."""

    def gone(_driver: object) -> bool:
        try:
            element.is_enabled()  # type: ignore[attr-defined]
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return gone


@pytest.fixture
def browser() -> Iterator[object]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=str(DRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_moderators_read_filter_trace_plot_and_preview_in_a_browser(
    live: Callable[..., Live], browser: object, tmp_path: Path
) -> None:
    driver: object = browser
    harness = live(console=True)
    bot = harness.start()
    for who, text in (
        ("alice", f"@carol @filrouge {AFFICHES}"),
        ("bob", "@filrouge <script>alert(1)</script> une recette de crêpes ?"),
        ("maiwann", "@filrouge ta gueule le bot"),
    ):
        mention = harness.thread(("carol", f"À lire : {SHARED_LINK}"), (who, text))
        harness.outcome(mention)
    console = Console(
        settings=harness.settings, config=bot.current_config, self_id=lambda: str(bot.me.id)
    )
    server = OpsServer(
        host="127.0.0.1",
        port=0,
        health=bot.health,
        metrics=bot.metrics,
        db_check=lambda: True,
        max_age=60,
        pages={PREFIX: console},
    ).start()
    try:
        d: object = driver
        get = d.get  # type: ignore[attr-defined]
        find = d.find_element  # type: ignore[attr-defined]
        finds = d.find_elements  # type: ignore[attr-defined]

        get(f"{server.url}/console")
        rows = finds(By.CSS_SELECTOR, "table.mentions tbody tr")
        assert len(rows) == 3
        body = find(By.TAG_NAME, "body").text
        assert "<script>alert(1)</script>" in body  # shown as text, never run
        assert "@alice" in body
        d.save_screenshot(str(tmp_path / "console.png"))  # type: ignore[attr-defined]
        if os.environ.get("FILROUGE_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(tmp_path / "console.png", SCREENSHOT)

        def submit(selector: str) -> None:
            """Click and wait until the next page has replaced this one: a
            click does not wait for the page it loads."""
            page = find(By.TAG_NAME, "main")
            find(By.CSS_SELECTOR, selector).click()
            WebDriverWait(driver, 10).until(replaced(page))

        # filters: the skipped one (an insult), then the quote rule's
        Select(find(By.NAME, "outcome")).select_by_value("skipped")
        submit("form.filters button")
        skipped = finds(By.CSS_SELECTOR, "table.mentions tbody tr")
        assert len(skipped) == 1 and "hostile" in skipped[0].text
        Select(find(By.NAME, "outcome")).select_by_value("")
        Select(find(By.NAME, "rule")).select_by_value("citation-par-defaut")
        submit("form.filters button")
        replied = finds(By.CSS_SELECTOR, "table.mentions tbody tr")
        assert len(replied) == 1 and "petites-voix" in replied[0].text

        # a trace
        page = find(By.TAG_NAME, "main")
        replied[0].find_element(By.TAG_NAME, "a").click()
        WebDriverWait(driver, 10).until(replaced(page))
        assert "Trace" in find(By.TAG_NAME, "h2").text
        steps = finds(By.CSS_SELECTOR, "table.trace tbody tr")
        assert any("evidence" in step.text for step in steps)

        # a plot
        get(f"{server.url}/console/plots")
        assert len(finds(By.CSS_SELECTOR, "figure svg")) == 7
        assert finds(By.CSS_SELECTOR, "figure svg rect")

        # the preview
        get(f"{server.url}/console/preview")
        find(By.NAME, "text").send_keys("@filrouge source")
        submit("form.preview button")
        result = find(By.CSS_SELECTOR, "section.result").text
        assert "It would reply" in result and "mail.paulineharmange.fr" in result
    finally:
        server.stop()
