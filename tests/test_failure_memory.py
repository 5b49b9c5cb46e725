"""Failure memory end to end: real ``scrapy crawl`` processes against the replay server.

A page that fails (a 200 maintenance page instead of the article; an article answering
503) is stored as failed with its reason, counted, never published, not fetched again on
the next crawl, fetched again once its back-off is over, and published when it succeeds.
A failed page whose stored body extracts under changed rules is recovered without a request.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from db.models import Article
from db.repository import Repository
from monitor.replay import LoggedRequest, ReplayServer, ReplayTree
from scraper.evaluation import spider_classes
from tests.conftest import copy_sites, run_crawl

SOURCE = "clib"
BROKEN = "https://www.clib-cluster.de/de/clib-begruesst-start-des-biooekonomie-rats-nrw/"
DOWN = "https://www.clib-cluster.de/de/sechs-neue-mitglieder-staerken-das-clib-netzwerk/"
MAINTENANCE = (
    "<html><head><title>Wartungsarbeiten - CLIB</title></head><body>"
    "<h1>Wartungsarbeiten</h1><p>Diese Seite ist bald wieder da.</p></body></html>"
)


def _article_requests(server: ReplayServer, start: int) -> list[str]:
    spider = spider_classes()[SOURCE]()
    return [e.url for e in server.log[start:] if spider.is_article_url(e.url)]


def _crawl(server: ReplayServer, data_dir: Path) -> list[str]:
    start = len(server.log)
    run_crawl(SOURCE, data_dir, server.url)
    return _article_requests(server, start)


def _canonical(url: str) -> str:
    return spider_classes()[SOURCE]().canonical(url)


def test_failed_pages_are_remembered_not_refetched_then_retried_and_published(
    tmp_path: Path,
) -> None:
    sites = copy_sites(tmp_path / "sites")
    tree = ReplayTree(sites)
    broken_file = tree.resolve_url(BROKEN).file
    assert broken_file is not None
    original = broken_file.read_bytes()
    broken_file.write_text(MAINTENANCE, "utf-8")
    routes_file = sites / "www.clib-cluster.de" / "_routes.json"
    routes = json.loads(routes_file.read_text("utf-8"))
    down_path = "/de/sechs-neue-mitglieder-staerken-das-clib-netzwerk/"
    routes[down_path] = {"status": 503, "file": f"{down_path.strip('/')}/index.html"}
    routes_file.write_text(json.dumps(routes), "utf-8")
    data_dir = tmp_path / "data"
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")

    with ReplayServer(sites) as server:
        # 1. Both fail: remembered with their reason, counted, not published.
        first = _crawl(server, data_dir)
        assert BROKEN in first
        failed = {a.canonical_url: a for a in repository.failures(SOURCE)}
        assert set(failed) == {_canonical(BROKEN), _canonical(DOWN)}
        assert "extraction failed" in (failed[_canonical(BROKEN)].fail_reason or "")
        assert "HTTP 503" in (failed[_canonical(DOWN)].fail_reason or "")
        assert failed[_canonical(BROKEN)].raw_html  # the body that arrived is kept
        run = repository.runs(SOURCE, limit=1)[0]
        assert run.items_failed == 2
        assert run.stats["clusterwatch/articles/failed"] == 1
        published = {a.canonical_url for a in repository.feed_articles(SOURCE, 100)}
        assert not published & set(failed)

        # 2. An unchanged recrawl makes no article request at all, failures included.
        assert _crawl(server, data_dir) == []

        # 3. The site heals; the back-off is not over yet: still no article request.
        broken_file.write_bytes(original)
        del routes[down_path]
        routes_file.write_text(json.dumps(routes), "utf-8")
        assert _crawl(server, data_dir) == []

        # 4. The clock moves past the back-off: exactly the two are fetched and published.
        with repository.session() as s, s.begin():
            s.execute(
                update(Article)
                .where(Article.state == "failed")
                .values(retry_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        retried = _crawl(server, data_dir)
        assert sorted(retried) == sorted([BROKEN, DOWN])
        assert repository.failures(SOURCE) == []
        published = {a.canonical_url for a in repository.feed_articles(SOURCE, 100)}
        assert {_canonical(BROKEN), _canonical(DOWN)} <= published
        assert repository.runs(SOURCE, limit=1)[0].items_new == 2

        # 5. Nothing left to do: the next crawl fetches no article.
        assert _crawl(server, data_dir) == []


def test_failed_page_is_recovered_by_reextraction_after_a_rule_change(tmp_path: Path) -> None:
    """A page that failed under older rules is re-extracted from its stored body at the
    next crawl start — no request — and published."""
    sites = copy_sites(tmp_path / "sites")
    data_dir = tmp_path / "data"
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    tree = ReplayTree(sites)
    with ReplayServer(sites) as server:
        run_crawl(SOURCE, data_dir, server.url)
        canonical = _canonical(BROKEN)
        page = tree.resolve_url(BROKEN).file
        assert page is not None
        # As if an older rule set had failed on this page: its row is a failure, with the
        # real body stored, and its back-off far away.
        with repository.session() as s, s.begin():
            s.execute(
                update(Article)
                .where(Article.canonical_url == canonical)
                .values(
                    state="failed",
                    title="",
                    text="",
                    content_hash="",
                    duplicate_of=None,
                    fail_reason="extraction failed: no title found",
                    rules_version="0ld",
                    raw_html=zlib.compress(page.read_bytes()),
                    retry_at=datetime.now(UTC) + timedelta(days=20),
                )
            )
        assert _crawl(server, data_dir) == []
        article = repository.article(canonical)
        assert article is not None and article.state == "stored"
        assert article.title and article.text and article.title_source == "declared"
        assert canonical in {a.canonical_url for a in repository.feed_articles(SOURCE, 100)}
        run = repository.runs(SOURCE, limit=1)[0]
        assert run.stats["clusterwatch/articles/recovered"] == 1


def test_logged_requests_are_comparable() -> None:
    # The helper above compares URLs as the replay server logs them (https://host/path).
    entry = LoggedRequest("GET", "www.clib-cluster.de", "/de/x/", "", 200, None, None)
    assert entry.url == "https://www.clib-cluster.de/de/x/"
