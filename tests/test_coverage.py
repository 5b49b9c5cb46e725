"""Fundus-style coverage: every spider `scrapy list` knows has replayed pages and an expected
output per article. A new source cannot land untested."""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.replay import ReplayTree
from scraper.evaluation import load_expected, spider_classes
from tests.conftest import EXPECTED, REPO_ROOT, SITES, manifest

MIN_ARTICLES = 6
REQUIRED_KEYS = {
    "url",
    "title",
    "published_local",
    "language",
    "relevant",
    "text",
    "must_contain",
    "must_not_contain",
}
SPIDERS = sorted(spider_classes())


def test_scrapy_list_matches_the_spiders_under_test() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(listed) == SPIDERS
    assert {"clusterplattform", "openpr", "bmwe", "clib"} <= set(listed)


@pytest.mark.parametrize("source", SPIDERS)
def test_source_has_replayed_site_and_expected_articles(source: str) -> None:
    spider = spider_classes()[source]
    assert (SITES / spider.hosts[0]).is_dir(), f"no replayed site tests/sites/{spider.hosts[0]}"
    assert (EXPECTED / source / "manifest.json").is_file(), f"no manifest for {source}"
    items = load_expected(EXPECTED, source)
    assert len(items) >= MIN_ARTICLES, f"{source}: {len(items)} expected articles"
    tree = ReplayTree(SITES)
    for item in items:
        missing = REQUIRED_KEYS - item.data.keys()
        assert not missing, f"{item.path.name} lacks {missing}"
        assert tree.resolve_url(item.url).status in (200, 301, 302), item.url
        assert len(item.data["must_not_contain"]) >= 1, item.path.name


@pytest.mark.parametrize("source", SPIDERS)
def test_entry_points_are_replayed(source: str) -> None:
    spider = spider_classes()[source]
    tree = ReplayTree(SITES)
    entry_points = [*spider.feeds, *spider.listings, *spider.sitemaps]
    assert entry_points, f"{source} declares no entry point"
    for url in entry_points:
        assert tree.resolve_url(url).status == 200, url
    assert manifest(source)["hosts"][0] == spider.hosts[0]


@pytest.mark.parametrize("source", SPIDERS)
def test_article_pattern_recognises_every_expected_article(source: str) -> None:
    spider_cls = spider_classes()[source]
    spider = spider_cls()
    for item in load_expected(EXPECTED, source):
        assert spider.is_article_url(item.url), item.url
    for url in [*spider_cls.feeds, *spider_cls.listings, *spider_cls.sitemaps]:
        assert not spider.is_article_url(url), f"entry point taken for an article: {url}"
