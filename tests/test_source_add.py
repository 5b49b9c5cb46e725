"""``clusterwatch source add URL`` against three replayed cluster sites that have no rules
(a WordPress site, a TYPO3 news list, a static site with a sitemap only): the proposed TOML
block, crawled by the real ``scrapy crawl``, finds every article of the site (recall 1.0)
and no other page, and extracts them with F1 >= 0.95."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from db.repository import Repository
from monitor.replay import ReplayServer
from scraper.evaluation import load_expected, token_f1
from scraper.extract import BERLIN
from scraper.registry import spider_class
from scraper.sources import registry
from tests.conftest import REPO_ROOT, copy_sites, crawl_env, manifest, run_crawl
from tests.sources import EXPECTED_CONFIG, SITES_CONFIG

SITES = {
    "biooekonomie_mitte": "WordPress",
    "leichtbau_sachsen": "TYPO3",
    "medizintechnik_nord": None,
}
MIN_F1 = 0.95


def _source_add(
    url: str, name: str, toml: Path, mirror: str, data_dir: Path, *flags: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", "source", "add", url, "--name", name,
         "--config", str(toml), *flags],
        cwd=REPO_ROOT,
        env={**crawl_env(data_dir, mirror), "COLUMNS": "200"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("source", sorted(SITES))
def test_source_add_proposes_a_source_that_finds_every_article(source: str, tmp_path: Path) -> None:
    sites = copy_sites(tmp_path / "sites", SITES_CONFIG)
    data_dir = tmp_path / "data"
    toml = tmp_path / "cw.toml"
    given = manifest(source, EXPECTED_CONFIG)["given_url"]
    expected = load_expected(EXPECTED_CONFIG, source)
    with ReplayServer(sites) as server:
        result = _source_add(given, source, toml, server.url, data_dir, "--yes")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        cms = SITES[source]
        assert f"CMS: {cms}" if cms else "CMS: not recognised" in result.stdout
        proposed = tomllib.loads(toml.read_text("utf-8"))["sources"]
        spec = registry(proposed)[source]
        spider = spider_class(spec)()
        print(f"\n{source}: proposed\n{toml.read_text('utf-8')}")  # the closing note's figures
        for item in expected:
            assert spider.is_article_url(item.url), item.url
        for url in manifest(source, EXPECTED_CONFIG)["non_articles"]:
            assert not spider.is_article_url(url), url
        run_crawl(source, data_dir, server.url, CLUSTERWATCH_CONFIG=str(toml))
    stored = {
        a.canonical_url: a
        for a in Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}").articles(source)
    }
    wanted = {spider.canonical(e.url): e for e in expected}
    recall = len(set(stored) & set(wanted)) / len(wanted)
    assert recall == 1.0, sorted(set(wanted) - set(stored))
    assert set(stored) == set(wanted), sorted(set(stored) - set(wanted))  # no other page
    scores = []
    for canonical, item in wanted.items():
        article = stored[canonical]
        assert article.title == item.data["title"]
        gold = str(item.data["published_local"])
        assert article.published_at is not None
        local = article.published_at.astimezone(BERLIN)
        assert local.strftime("%Y-%m-%dT%H:%M" if "T" in gold else "%Y-%m-%d") == gold
        for phrase in item.data["must_not_contain"]:
            assert phrase not in article.text, (canonical, phrase)
        scores.append(token_f1(article.text, str(item.data["text"])))
    mean = sum(scores) / len(scores)
    print(f"{source}: recall {recall:.2f}, F1 min {min(scores):.3f}, mean {mean:.3f}")
    assert min(scores) >= MIN_F1, scores


def test_source_add_asks_before_writing(tmp_path: Path) -> None:
    toml = tmp_path / "cw.toml"
    given = manifest("leichtbau_sachsen", EXPECTED_CONFIG)["given_url"]
    with ReplayServer(SITES_CONFIG) as server:
        refused = _source_add(given, "leichtbau", toml, server.url, tmp_path, stdin="n\n")
        assert refused.returncode == 1 and not toml.exists()
        assert "article_pattern = " in refused.stdout  # shown before the question
        accepted = _source_add(given, "leichtbau", toml, server.url, tmp_path, stdin="y\n")
        assert accepted.returncode == 0 and "[sources.leichtbau]" in toml.read_text("utf-8")
        again = _source_add(given, "leichtbau", toml, server.url, tmp_path, "--yes")
        assert again.returncode == 2 and "exists already" in again.stderr


def test_source_add_refuses_a_site_without_articles(tmp_path: Path) -> None:
    with ReplayServer(SITES_CONFIG) as server:
        result = _source_add(
            "https://www.medizintechnik-cluster-nord.de/kontakt.html".replace(
                "medizintechnik-cluster-nord", "nowhere-cluster"
            ),
            "nowhere",
            tmp_path / "cw.toml",
            server.url,
            tmp_path,
            "--yes",
        )
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert not (tmp_path / "cw.toml").exists()
