"""The status page HTML, rendered from real rows in SQLite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html

from db.repository import ArticleRecord, Repository
from monitor.sources import list_sources
from monitor.status_page import CHART_RUNS, render_status
from scraper.config import Config
from tests.monitor.conftest import record_run

HOSTILE = '<script>alert("x")</script> & "quotes"'


def make_config(tmp_path: Path, db_url: str) -> Config:
    return Config(data_dir=tmp_path / "data", database_url=db_url)


def page(config: Config, repository: Repository) -> tuple[str, Any]:
    body = render_status(config, repository)
    return body, lxml.html.document_fromstring(body)


def test_one_row_per_source_with_verdict_and_feed_links(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    config = make_config(tmp_path, db_url)
    body, doc = page(config, repository)
    assert body.startswith("<!DOCTYPE html>")
    names = [s.name for s in list_sources(config)]
    rows = doc.xpath("//table[@id='sources']/tbody/tr")
    assert [row.get("id") for row in rows] == [f"source-{name}" for name in names]
    for name in names:
        row = doc.get_element_by_id(f"source-{name}")
        assert row.xpath(".//span[contains(@class, 'verdict')]/text()") == ["pending"]
        links = row.xpath(".//a/@href")
        assert f"/feeds/{name}.xml" in links and f"/feeds/{name}.atom" in links
    assert doc.xpath("//a[@href='/feeds/all.xml']") and doc.xpath("//a[@href='/feeds/all.atom']")
    assert "No announcements yet" in body


def test_run_details_log_link_and_chart(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=10)
    for n in range(CHART_RUNS + 3):
        last = record_run(
            repository,
            "openpr",
            started_at=started,
            finished_at=started + timedelta(seconds=75),
            article_links=5,
            items_new=n,
        )
    record_run(repository, "clib", finish_reason="killed", errors=3)
    _, doc = page(make_config(tmp_path, db_url), repository)

    row = doc.get_element_by_id("source-openpr")
    assert f"/runs/{last}/log" in row.xpath(".//a/@href")
    text = row.text_content()
    assert "1m" in text and "finished" in text and "healthy" in text
    bars = row.xpath(".//svg[contains(@class, 'chart')]//rect")
    assert len(bars) == CHART_RUNS  # only the last runs, oldest left
    heights = [int(bar.get("height")) for bar in bars]
    assert heights == sorted(heights) and heights[-1] > heights[0]

    clib = doc.get_element_by_id("source-clib")
    assert clib.xpath(".//span[contains(@class, 'verdict')]/text()") == ["unhealthy"]
    reasons = clib.xpath(".//ul[@class='reasons']/li/text()")
    assert any("'killed'" in reason for reason in reasons), reasons
    assert clib.xpath(".//svg//rect[@class='bad']")

    never = doc.get_element_by_id("source-bmwe")
    assert "no runs yet" in never.text_content() and not never.xpath(".//svg")


def test_newest_announcements_linked_and_escaped(
    tmp_path: Path,
    db_url: str,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
) -> None:
    add_article(
        source="openpr",
        url="https://www.openpr.de/news/1/",
        title="Clusterwoche 2026",
        published_at=datetime(2026, 3, 5, 23, 30, tzinfo=UTC),  # 6 March in Berlin
    )
    add_article(source="clib", url="https://www.clib-cluster.de/x?a=1&b=2", title=HOSTILE)
    add_article(source="clib", url="javascript:alert(1)", title="Sneaky")
    body, doc = page(make_config(tmp_path, db_url), repository)

    rows = doc.xpath("//table[@id='newest']/tbody/tr")
    assert len(rows) == 3
    first = doc.xpath("//table[@id='newest']//a[text()='Clusterwoche 2026']")[0]
    assert first.get("href") == "https://www.openpr.de/news/1/"
    row_text = first.getparent().getparent().text_content()
    assert "2026-03-06" in row_text and "openPR" in row_text
    # Hostile text stays text: escaped in the markup, intact for the reader.
    assert HOSTILE not in body and "<script" not in body
    assert doc.xpath("//a[@href='https://www.clib-cluster.de/x?a=1&b=2']/text()") == [HOSTILE]
    assert not doc.xpath("//a[starts-with(@href, 'javascript:')]")
    assert "Sneaky" in body


def test_page_is_self_contained(tmp_path: Path, db_url: str, repository: Repository) -> None:
    record_run(repository, "openpr", article_links=5, items_new=2)
    _, doc = page(make_config(tmp_path, db_url), repository)
    assert not doc.xpath("//script | //link[@rel='stylesheet'] | //*[@src] | //iframe")
    assert doc.xpath("//style")
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp and "default-src 'none'" in csp[0]
    # Only the icon, and it is inline: the browser asks no server for /favicon.ico.
    assert doc.xpath("//link/@href") == ["data:,"]


def test_named_feeds_are_listed_with_their_query_and_formats(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    config = make_config(tmp_path, db_url).model_copy(
        update={
            "feeds": Config(
                feeds={
                    "bio-nrw": {
                        "title": "Biotech in NRW <&>",
                        "topics": ["Biotechnologie"],
                        "regions": {"all": ["Nordrhein-Westfalen"]},
                        "keywords": {"not": ["Stellenanzeige"]},
                        "min_score": 3,
                    }
                }
            ).feeds
        }
    )
    body, doc = page(config, repository)
    row = doc.get_element_by_id("feed-bio-nrw")
    assert "Biotech in NRW <&>" in row.text_content()  # escaped in the HTML, intact as text
    assert "<&>" not in body
    text = row.text_content()
    assert "topics any of: Biotechnologie" in text
    assert "regions all of: Nordrhein-Westfalen" in text
    assert "keywords not: Stellenanzeige" in text and "score ≥ 3" in text
    assert set(row.xpath(".//a/@href")) == {f"/feeds/bio-nrw.{s}" for s in ("xml", "atom", "json")}
    assert doc.xpath("//a[@href='/feeds.opml']") and doc.xpath("//a[@href='/feeds/all.json']")


def test_operator_details_cause_last_success_next_run_berlin_times_and_scale(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    ok_start = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Berlin (summer time)
    record_run(
        repository,
        "openpr",
        started_at=ok_start,
        finished_at=ok_start,
        article_links=5,
        items_new=7,
    )
    failing = {
        "clusterwatch/entry/attempted": 1,
        "clusterwatch/entry/ok": 0,
        "clusterwatch/entry/failures": [
            {
                "url": "https://www.openpr.de/rss/openpr.xml",
                "kind": "feed",
                "cause": "feed answered HTTP 503",
            }
        ],
    }
    later = ok_start + timedelta(hours=1)
    record_run(repository, "openpr", started_at=later, finished_at=later, errors=1, stats=failing)
    scheduled = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)
    config = make_config(tmp_path, db_url)
    body = render_status(
        config,
        repository,
        now=later + timedelta(minutes=5),
        next_run=lambda source: scheduled if source == "openpr" else None,
    )
    doc = lxml.html.document_fromstring(body)
    row = doc.get_element_by_id("source-openpr")
    cause = row.xpath(".//ul[@class='reasons']/li[@data-rule='entry.unreachable']")[0]
    assert "feed answered HTTP 503" in cause.text_content()
    assert "entry.unreachable" in cause.text_content()  # the rule id is cited
    times = {t.get("datetime"): (t.text, t.get("title")) for t in row.xpath(".//time")}
    # Last success (the run at 08:00 UTC) and the scheduled next run, in Berlin time.
    assert times[ok_start.isoformat()] == ("2026-07-01 10:00 CEST", "2026-07-01 08:00 UTC")
    assert times[scheduled.isoformat()] == ("2026-07-01 12:30 CEST", "2026-07-01 10:30 UTC")
    scale = row.xpath(".//svg[contains(@class, 'chart')]/text[@class='scale']/text()")
    assert scale == ["7", "0"]  # the peak at the top, zero at the base line


def test_degraded_source_is_shown_as_such(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    stats = {
        "clusterwatch/articles/fetched": 4,
        "clusterwatch/provenance/title/declared": 4,
        "clusterwatch/provenance/body/declared": 4,
        "clusterwatch/provenance/date/htmldate": 4,
    }
    record_run(repository, "clib", article_links=4, items_new=4, stats=stats)
    body, doc = page(make_config(tmp_path, db_url), repository)
    row = doc.get_element_by_id("source-clib")
    assert row.xpath(".//span[contains(@class, 'verdict')]/text()") == ["degraded"]
    assert row.xpath(".//li[@data-rule='extraction.drift']")
    assert "1 degraded of 4 sources" in body
