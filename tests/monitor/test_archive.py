"""The archive (``/archive``) and permalink pages (``/stories/<id>``) over the crawled story
set: paging, every filter, full-text search (umlauts, compounds), the permalink page; and
both loaded in the real headless Chromium without console errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from starlette.testclient import TestClient

from monitor.server import BackgroundServer, create_app
from tests.monitor.conftest import Crawled
from tests.monitor.test_named_feeds import (
    BIOLOOP_EU,
    POSITIONSPAPIER,
    SENSORIK_KI,
    SENSORIK_LAB,
)
from tests.monitor.test_status_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401


@pytest.fixture(scope="module")
def client(crawled: Crawled) -> Iterator[TestClient]:
    with TestClient(create_app(crawled.config)) as test_client:
        yield test_client


def titles(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/archive{query}")
    assert response.status_code == 200
    doc = lxml.html.document_fromstring(response.text)
    return [a.text_content() for a in doc.xpath("//ol[@id='stories']/li/a[@class='permalink']")]


def test_paging_newest_first(client: TestClient, crawled: Crawled) -> None:
    everything = [fs.lead.title for fs in crawled.repository.feed_stories(None, 1000)]
    assert len(everything) > 20
    first, second = titles(client, ""), titles(client, "?page=2")
    assert first + second == everything  # 20 a page, the same order as the feed
    body = client.get("/archive?page=2").text
    assert f"page 2 of 2 · {len(everything)} stories" in body
    assert 'rel="prev" href="/archive"' in body and 'rel="next"' not in body
    assert titles(client, "?page=99") == []
    assert titles(client, "?page=abc") == first  # a bad value is ignored


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?region=Bayern", [SENSORIK_KI, SENSORIK_LAB]),
        ("?programme=go-cluster&region=Bayern", [SENSORIK_KI, SENSORIK_LAB]),
        ("?source=clib&topic=field:Ern%C3%A4hrung", ["CLIB begrüßt drei", BIOLOOP_EU]),
        ("?q=Bio%C3%B6konomie", [POSITIONSPAPIER]),  # umlaut, start of a compound
        ("?q=BIO%C3%96KONOMIESTRATEGIE", [POSITIONSPAPIER]),  # any case
        ("?q=Pr%C3%BCflabor", [SENSORIK_LAB]),
        ("?q=Wasserstoff&source=bmwe", ["Sechs Wasserstoff-Reallabore"]),
        ("?q=Quantencomputer+Marsmission", []),
    ],
)
def test_filters_and_search(client: TestClient, query: str, expected: list[str]) -> None:
    found = titles(client, query)
    assert len(found) == len(expected), found
    for title, start in zip(found, expected, strict=True):
        assert title.startswith(start)


def test_search_inside_a_compound_on_sqlite(client: TestClient) -> None:
    # FTS5's trigram tokenizer finds the end of a compound too ("…strategie").
    assert any(t.startswith(POSITIONSPAPIER) for t in titles(client, "?q=strategie"))


def test_unknown_filter_values_are_ignored_and_escaped(client: TestClient) -> None:
    response = client.get('/archive?source=<script>&q="><script>alert(1)</script>')
    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_permalink_page(client: TestClient, crawled: Crawled) -> None:
    story = next(fs for fs in crawled.repository.feed_stories(None, 100) if len(fs.others) >= 1)
    archive = client.get(f"/archive?q={story.lead.title.split()[0]}").text
    assert f'href="/stories/{story.story.id}"' in archive  # the archive links the permalink
    response = client.get(f"/stories/{story.story.id}")
    assert response.status_code == 200
    doc = lxml.html.document_fromstring(response.text)
    assert doc.xpath("//h1")[0].text_content() == story.lead.title
    places = doc.xpath("//ul[@id='places']/li/a/@href")
    assert places == [story.lead.url, *[a.url for a in story.others]]
    tags = [s.text_content() for s in doc.xpath("//p[@class='tags']/span")]
    assert tags == list(story.story.topics)
    assert doc.xpath("//time") and "lead version" in response.text
    assert story.lead.text.split("\n")[0][:40] in doc.text_content()
    assert client.get("/stories/999999").status_code == 404


def test_archive_and_permalink_in_headless_chromium(
    chromium_path: Path,  # noqa: F811
    crawled: Crawled,
) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with (
        BackgroundServer(crawled.config, host="127.0.0.1", port=0) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "response",
                lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
            )
            response = page.goto(server.url + "/archive", wait_until="load")
            assert response is not None and response.status == 200
            assert page.locator("#stories li").count() == 20
            # Search through the form, as a reader would: no JavaScript involved.
            page.fill("input[name=q]", "Bioökonomie")
            page.click("button[type=submit]")
            page.wait_for_load_state("load")
            assert page.locator("#stories li").count() == 1
            page.locator("#stories a.permalink").click()
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text().startswith(POSITIONSPAPIER)
            assert page.locator("#places li").count() >= 1
            page.go_back()
            page.select_option("select[name=region]", "Bayern")
            page.fill("input[name=q]", "")
            page.click("button[type=submit]")
            page.wait_for_load_state("load")
            assert page.locator("#stories li").count() == 2
            assert problems == []
        finally:
            browser.close()
