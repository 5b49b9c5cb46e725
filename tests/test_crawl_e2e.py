"""End to end: the real ``scrapy crawl`` against the replay server into a temp database,
on both replayed trees (v1, and the independently written v2 redesign).

Per source: exactly the expected articles, variants and alias hosts folded, robots.txt
obeyed, the Windows-1252 page decoded, irrelevant releases marked; a second crawl makes no
article request and revalidates entry points with 304; a new article is picked up alone.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from db.repository import Repository
from monitor.replay import LoggedRequest, ReplayServer, ReplayTree
from scraper.evaluation import load_expected, spider_classes
from scraper.extract import BERLIN
from scraper.spiders import SourceSpider
from tests.conftest import (
    NEW_TITLE,
    TREES,
    copy_sites,
    manifest,
    publish_article,
    run_crawl,
)

SOURCES = sorted(spider_classes())
CASES = [(tree, source) for tree in TREES for source in SOURCES]


@dataclass
class Crawled:
    tree: str
    expected: Path
    source: str
    spider: SourceSpider
    server: ReplayServer
    sites: Path
    repository: Repository
    data_dir: Path
    first: list[LoggedRequest]
    second: list[LoggedRequest]


def _requests_during(server: ReplayServer, action: object) -> list[LoggedRequest]:
    start = len(server.log)
    action()  # type: ignore[operator]
    return list(server.log[start:])


@pytest.fixture(scope="module", params=CASES, ids=[f"{t}-{s}" for t, s in CASES])
def crawled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    tree, source = request.param
    root, expected = TREES[tree]
    base = tmp_path_factory.mktemp(f"{tree}-{source}")
    sites = copy_sites(base / "sites", root)
    data_dir = base / "data"
    with ReplayServer(sites) as server:
        first = _requests_during(server, lambda: run_crawl(source, data_dir, server.url))
        second = _requests_during(server, lambda: run_crawl(source, data_dir, server.url))
        yield Crawled(
            tree,
            expected,
            source,
            spider_classes()[source](),
            server,
            sites,
            Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}"),
            data_dir,
            first,
            second,
        )


def _is_article(spider: SourceSpider, entry: LoggedRequest) -> bool:
    return spider.is_article_url(entry.url)


def test_first_crawl_stores_exactly_the_expected_articles(crawled: Crawled) -> None:
    expected = {
        crawled.spider.canonical(e.url): e.data
        for e in load_expected(crawled.expected, crawled.source)
    }
    stored = {a.canonical_url: a for a in crawled.repository.articles(crawled.source)}
    assert set(stored) == set(expected)
    for canonical, data in expected.items():
        article = stored[canonical]
        assert article.title == data["title"]
        if crawled.tree == "v1" or data["relevant"]:  # v2's other-sense "Cluster": see below
            assert article.relevance == ("relevant" if data["relevant"] else "irrelevant")
        gold = str(data["published_local"])
        assert article.published_at is not None
        local = article.published_at.astimezone(BERLIN)
        assert local.strftime("%Y-%m-%dT%H:%M" if "T" in gold else "%Y-%m-%d") == gold
        assert article.raw_html and article.content_hash and article.text
        assert article.raw_encoding and article.rules_version and article.title_source


def test_variants_fold_into_one_article(crawled: Crawled) -> None:
    variants: dict[str, list[str]] = manifest(crawled.source, crawled.expected).get("variants", {})
    stored = {a.canonical_url for a in crawled.repository.articles(crawled.source)}
    for url, others in variants.items():
        canonical = crawled.spider.canonical(url)
        assert canonical in stored
        for variant in others:
            if crawled.spider.canonical(variant) == canonical:
                continue
            # Otherwise a redirect to the article (a WordPress /?p=N shortlink, a bmwk.de
            # 301) that is no article URL itself: it is never fetched as one of its own.
            resolved = ReplayTree(crawled.sites).resolve_url(variant)
            assert resolved.status in (301, 302) and not crawled.spider.is_article_url(variant), (
                variant
            )
    # Each article was requested at most once, whichever variants the site linked.
    fetched = [
        crawled.spider.canonical(e.url)
        for e in crawled.first
        if _is_article(crawled.spider, e) and e.status == 200
    ]
    assert len(fetched) == len(set(fetched))


def test_robots_txt_is_obeyed(crawled: Crawled) -> None:
    disallowed = manifest(crawled.source, crawled.expected).get("robots_disallowed", [])
    assert disallowed, "every replayed site has a robots.txt-disallowed article"
    tree = ReplayTree(crawled.sites)
    stored = {a.canonical_url for a in crawled.repository.articles(crawled.source)}
    requested = {urlsplit(e.url).path for e in crawled.first + crawled.second}
    for url in disallowed:
        assert tree.resolve_url(url).status == 200, "the disallowed page exists"
        assert crawled.spider.is_article_url(url), "…and looks like an article"
        assert urlsplit(url).path not in requested
        assert crawled.spider.canonical(url) not in stored
    assert any(e.path == "/robots.txt" for e in crawled.first)


def test_alias_hosts_fold_to_the_canonical_host(crawled: Crawled) -> None:
    aliases = manifest(crawled.source, crawled.expected).get("alias_host_articles", [])
    stored = {a.canonical_url: a for a in crawled.repository.articles(crawled.source)}
    for url in aliases:
        canonical = crawled.spider.canonical(url)
        assert urlsplit(canonical).hostname == crawled.spider.hosts[0]
        assert canonical in stored
    if crawled.source in ("bmwe", "clib"):
        assert aliases, f"{crawled.source} has articles on alias hosts"


def test_windows_1252_pages_are_decoded(crawled: Crawled) -> None:
    pages = manifest(crawled.source, crawled.expected).get("windows_1252", [])
    if isinstance(pages, str):
        pages = [pages]
    stored = {a.canonical_url: a for a in crawled.repository.articles(crawled.source)}
    for url in pages:
        text = stored[crawled.spider.canonical(url)].text
        assert "\ufffd" not in text and "Ã" not in text
        assert re.search("[äöüÄÖÜß„“–]", text)


def test_irrelevant_releases_are_stored_as_such(crawled: Crawled) -> None:
    expected_irrelevant = {
        crawled.spider.canonical(e.url)
        for e in load_expected(crawled.expected, crawled.source)
        if not e.data["relevant"]
    }
    stored = {
        a.canonical_url
        for a in crawled.repository.articles(crawled.source)
        if a.relevance == "irrelevant"
    }
    if crawled.tree == "v2":
        # v2 holds releases using "Cluster" in another sense (Kubernetes "Server-Cluster",
        # GPU "Rechencluster") that the keyword filter takes for cluster news: a known gap
        # (scored relevance with negative contexts is issue 8), pinned in quality_floors.toml.
        # What must hold already: no cluster announcement is marked irrelevant.
        assert stored <= expected_irrelevant
        return
    assert stored == expected_irrelevant
    if crawled.spider.relevance == "keywords":
        assert len(expected_irrelevant) >= 3
    published = {a.canonical_url for a in crawled.repository.feed_articles(crawled.source, 1000)}
    assert not published & expected_irrelevant


def test_crawl_log_rows(crawled: Crawled) -> None:
    runs = crawled.repository.runs(crawled.source)
    assert len(runs) >= 2
    second, first = runs[0], runs[1]
    assert first.finish_reason == "finished" and first.trigger == "manual"
    assert first.items_new + first.items_duplicate + first.items_irrelevant == len(
        load_expected(crawled.expected, crawled.source)
    )
    assert first.requests == len(crawled.first)
    assert first.log_path and Path(first.log_path).is_file()
    assert "crawl run" in Path(first.log_path).read_text("utf-8")
    assert second.items_new == second.items_duplicate == second.items_irrelevant == 0
    # Every article link found again was skipped as known (robots.txt keeps the rest out);
    # pagination stopped early, so fewer links were seen than on the first crawl.
    forbidden = int(second.stats.get("robotstxt/forbidden", 0))
    assert second.items_skipped == second.article_links - forbidden > 0
    assert second.article_links <= first.article_links


def test_second_crawl_revalidates_and_fetches_no_article(crawled: Crawled) -> None:
    assert not [e.url for e in crawled.second if _is_article(crawled.spider, e)]
    entry_requests = [e for e in crawled.second if e.path != "/robots.txt"]
    assert entry_requests, "the entry points were asked again"
    for entry in entry_requests:
        assert entry.conditional, f"{entry.url} sent no If-None-Match/If-Modified-Since"
        assert entry.status == 304, f"{entry.url} answered {entry.status}"


def test_new_article_is_picked_up_alone(crawled: Crawled) -> None:
    new_url = publish_article(crawled.sites, crawled.source, crawled.expected)
    before = {a.canonical_url for a in crawled.repository.articles(crawled.source)}
    lock = threading.Lock()
    with lock:
        third = _requests_during(
            crawled.server, lambda: run_crawl(crawled.source, crawled.data_dir, crawled.server.url)
        )
    articles_fetched = [e.url for e in third if _is_article(crawled.spider, e)]
    assert articles_fetched == [new_url]
    after = {a.canonical_url: a for a in crawled.repository.articles(crawled.source)}
    assert set(after) - before == {crawled.spider.canonical(new_url)}
    assert after[crawled.spider.canonical(new_url)].title == NEW_TITLE
    assert crawled.repository.runs(crawled.source, limit=1)[0].items_new == 1
