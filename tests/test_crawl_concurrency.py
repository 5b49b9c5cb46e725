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
