"""Two crawls at once never create a duplicate; entry points follow the operator's TOML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from db.repository import Repository
from monitor.replay import ReplayServer
from scraper.evaluation import load_expected
from tests.conftest import EXPECTED, REPO_ROOT, crawl_env, run_crawl


def test_two_crawls_at_once_store_each_article_once(replay: ReplayServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "openpr"],
            cwd=REPO_ROOT,
            env=crawl_env(data, replay.url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    repo = Repository(f"sqlite:///{data / 'clusterwatch.db'}")
    stored = [a.canonical_url for a in repo.articles("openpr")]
    assert len(stored) == len(set(stored)) == len(load_expected(EXPECTED, "openpr"))
    runs = repo.runs("openpr")
    assert len(runs) == 2 and all(r.finish_reason == "finished" for r in runs)
    assert sum(r.items_new + r.items_irrelevant for r in runs) == len(stored)


def test_entry_points_are_overridable_from_toml(replay: ReplayServer, tmp_path: Path) -> None:
    toml = tmp_path / "cw.toml"
    toml.write_text(
        "[sources.clib]\nfeeds = []\nlistings = []\n"
        'sitemaps = ["https://www.clib-cluster.de/wp-sitemap.xml"]\n',
        "utf-8",
    )
    run_crawl("clib", tmp_path / "data", replay.url, CLUSTERWATCH_CONFIG=str(toml))
    paths = {e.path for e in replay.log}
    assert "/wp-sitemap.xml" in paths and "/wp-sitemap-posts-post-1.xml" in paths
    assert "/de/feed/" not in paths and "/de/news/" not in paths
    repo = Repository(f"sqlite:///{tmp_path / 'data' / 'clusterwatch.db'}")
    assert len(repo.articles("clib")) >= 6  # the sitemap alone still finds the posts


ROUNDS = 20
PAIR = ("bmwe", "clusterplattform")


def test_copies_crawled_at_the_same_moment_are_one_story(backend_url: str, tmp_path: Path) -> None:
    """Two sources that both hold copies of the same announcements (the story set), crawled
    by two real ``scrapy crawl`` processes started together, 20 times, each into an empty
    database: every announcement is one story, published once."""
    import json

    from db.migrate import upgrade
    from tests.conftest import SITES_STORIES, copy_sites
    from tests.pg import fresh_database

    labels = json.loads((REPO_ROOT / "tests" / "story_set" / "labels.json").read_text("utf-8"))
    spanning = [
        s["members"]
        for s in labels["stories"]
        if {_source_of(u) for u in s["members"]} == set(PAIR)
    ]
    assert len(spanning) >= 4, "the story set holds copies across the two sources"
    sites = copy_sites(tmp_path / "sites", SITES_STORIES)
    with ReplayServer(sites) as server:
        for round_ in range(ROUNDS):
            if backend_url.startswith("sqlite"):
                url = f"sqlite:///{tmp_path / f'round{round_}.db'}"
            else:
                url = fresh_database(backend_url.rsplit("/", 1)[0] + "/postgres")
            upgrade(url)
            data = tmp_path / f"data{round_}"
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "scrapy", "crawl", source],
                    cwd=REPO_ROOT,
                    env=crawl_env(data, server.url, DATABASE_URL=url),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for source in PAIR
            ]
            for proc in procs:
                _, err = proc.communicate(timeout=300)
                assert proc.returncode == 0, err[-2000:]
            repo = Repository(url)
            for members in spanning:
                story = repo.story_of(_canonical(members[0]))
                assert story is not None, f"round {round_}: {members[0]} not stored"
                found = {story.lead.canonical_url} | {a.canonical_url for a in story.others}
                assert found == {_canonical(u) for u in members}, f"round {round_}"
            touching = [
                s for s in labels["stories"] if {_source_of(u) for u in s["members"]} & set(PAIR)
            ]
            assert len(repo.stories()) == len(touching), f"round {round_}"


def _source_of(url: str) -> str:
    from scraper.registry import spider_classes

    return next(n for n, s in spider_classes().items() if s().is_article_url(url))


def _canonical(url: str) -> str:
    from scraper.registry import spider_classes

    return spider_classes()[_source_of(url)]().canonical(url)
