"""Fundus-style coverage: every registered source — built-in, or declared only in
tests/sources.toml — is what `scrapy list` knows, and has replayed pages and an expected output
per article. A new source cannot land untested."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.replay import ReplayTree
from scraper.evaluation import load_expected
from scraper.registry import spider_class
from tests.conftest import REPO_ROOT, manifest
from tests.sources import SOURCES_TOML, builtin_specs, registered, trees_of

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
SPECS = registered()
SPIDERS = sorted(SPECS)


def _scrapy_list(config: Path | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERWATCH_")}
    if config is not None:
        env["CLUSTERWATCH_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def test_scrapy_list_matches_the_sources_under_test() -> None:
    assert _scrapy_list(SOURCES_TOML) == SPIDERS
    assert _scrapy_list(None) == sorted(builtin_specs())
    assert {"clusterplattform", "openpr", "bmwe", "clib"} <= set(SPIDERS)
    assert set(SPIDERS) - set(builtin_specs()), "no config-only source under test"


@pytest.mark.parametrize("source", SPIDERS)
def test_source_has_replayed_site_and_expected_articles(source: str) -> None:
    spec = SPECS[source]
    sites, expected = trees_of(source)
    assert (sites / spec.hosts[0]).is_dir(), f"no replayed site {sites.name}/{spec.hosts[0]}"
    assert (expected / source / "manifest.json").is_file(), f"no manifest for {source}"
    items = load_expected(expected, source)
    assert len(items) >= MIN_ARTICLES, f"{source}: {len(items)} expected articles"
    tree = ReplayTree(sites)
    for item in items:
        missing = REQUIRED_KEYS - item.data.keys()
        assert not missing, f"{item.path.name} lacks {missing}"
        assert tree.resolve_url(item.url).status in (200, 301, 302), item.url
        assert len(item.data["must_not_contain"]) >= 1, item.path.name


@pytest.mark.parametrize("source", SPIDERS)
def test_entry_points_are_replayed(source: str) -> None:
    spec = SPECS[source]
    sites, expected = trees_of(source)
    tree = ReplayTree(sites)
    assert spec.entry_points, f"{source} declares no entry point"
    for url in spec.entry_points:
        assert tree.resolve_url(url).status == 200, url
    assert manifest(source, expected)["hosts"][0] == spec.hosts[0]


@pytest.mark.parametrize("source", SPIDERS)
def test_article_pattern_recognises_every_expected_article(source: str) -> None:
    spec = SPECS[source]
    spider = spider_class(spec)()
    _sites, expected = trees_of(source)
    for item in load_expected(expected, source):
        assert spider.is_article_url(item.url), item.url
    for url in spec.entry_points:
        assert not spider.is_article_url(url), f"entry point taken for an article: {url}"
    for url in manifest(source, expected).get("non_articles", []):
        assert not spider.is_article_url(url), f"non-article page taken for an article: {url}"
