"""The status page in a real headless Chromium (Debian's ``chromium``, driven by Playwright),
served by the real server (``monitor.server.create_app`` under uvicorn)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db.repository import ArticleRecord, Repository
from monitor.server import BackgroundServer
from monitor.sources import list_sources
from scraper.config import Config
from tests.monitor.conftest import record_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = "install Debian package chromium (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} missing on CI: {message}")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def served(
    tmp_path: Path,
    db_url: str,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
) -> Iterator[tuple[str, Config]]:
    """A server over a DB with healthy, unhealthy and never-run sources and a few items."""
    config = Config(data_dir=tmp_path / "data", database_url=db_url)
    started = datetime.now(UTC) - timedelta(minutes=30)
    for n in range(5):
        run_id = record_run(
            repository, "openpr", started_at=started, article_links=9, items_new=n % 3
        )
    log = tmp_path / "data" / "logs" / "openpr.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("INFO crawl run finished\n", encoding="utf-8")
    repository.update_run(run_id, log_path=str(log))
    record_run(repository, "clib", finish_reason="killed", errors=4)
    add_article(source="openpr", url="https://www.openpr.de/news/1/", title="Clusterwoche 2026")
    add_article(source="clib", url="https://www.clib-cluster.de/a", title='<b>"CLIB" & Co</b>')
    with BackgroundServer(config, host="127.0.0.1", port=0) as server:
        yield server.url, config


def test_status_page_in_headless_chromium(chromium_path: Path, served: tuple[str, Config]) -> None:
    from playwright.sync_api import sync_playwright

    url, config = served
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on(
                "response",
                lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
            )
            response = page.goto(url + "/", wait_until="load")
            assert response is not None and response.status == 200

            for source in list_sources(config):
                row = page.locator(f"#source-{source.name}")
                assert row.is_visible(), source.name
                assert source.name in row.inner_text()
            assert page.locator("#source-openpr .verdict").inner_text() == "healthy"
            assert page.locator("#source-clib .verdict").inner_text() == "unhealthy"

            chart = page.locator("#source-openpr svg.chart")
            assert chart.is_visible()
            assert chart.locator("rect").count() == 5
            box = chart.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0

            assert page.get_by_role("link", name="Clusterwoche 2026").is_visible()
            assert page.get_by_role("link", name='<b>"CLIB" & Co</b>').is_visible()

            assert problems == []

            # The run's log link leads to the log the server serves (a plain-text page, on
            # which Chromium's own /favicon.ico probe may 404: not the status page's doing).
            page.locator("#source-openpr a", has_text="log of run").click()
            page.wait_for_load_state("load")
            assert "crawl run finished" in page.inner_text("body")
        finally:
            browser.close()
