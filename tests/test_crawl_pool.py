"""The crawl's process pool and batched store change nothing but speed.

* Crawling the replayed trees with article pages extracted in the worker pool and items
  stored in batches stores exactly what the old path stored (extraction on the reactor
  thread, one transaction per item): every column of every row, the stories and their
  leads, and the crawl-log counts (real ``scrapy crawl`` processes, the same sources in the
  same order).
* A crawl killed while its batch is still waiting stores nothing of it and marks nothing as
  known; the next crawl stores exactly what an uninterrupted crawl stores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.engine import create_db_engine
from db.migrate import upgrade
from db.models import FAILED, STORED, Story
from db.repository import Repository
from monitor.replay import ReplayServer
from scraper.evaluation import spider_classes
from tests.conftest import REPO_ROOT, TREES, copy_sites, crawl_env, run_crawl

SOURCES = sorted(spider_classes())
OLD_PATH = {"CLUSTERWATCH_CRAWL_WORKERS": "0", "CLUSTERWATCH_STORE_BATCH": "1"}
NEW_PATH = {
    "CLUSTERWATCH_CRAWL_WORKERS": "2",
    "CLUSTERWATCH_CRAWL_POOL_AFTER": "0",  # the pool from the first page on
    "CLUSTERWATCH_STORE_BATCH": "50",
}
# Columns that differ between any two crawls: ids (storing order), times, the run …
UNCOMPARED = {"id", "first_seen_at", "crawl_run_id", "story_id", "duplicate_of", "retry_at"} | {
    # Which entry point (feed, listing, sitemap) links a page first is decided by the order
    # their responses arrive, in any crawl: the hint the page was requested with varies.
    "feed_date",
    "listing_date",
}
RUN_COUNTS = (
    "requests",
    "items_new",
    "items_duplicate",
    "items_irrelevant",
    "items_skipped",
    "items_failed",
    "article_links",
    "errors",
    "warnings",
)


def _crawl_all(sites: Path, data_dir: Path, path: dict[str, str], sources: list[str]) -> None:
    with ReplayServer(sites) as server:
        for source in sources:
            run_crawl(source, data_dir, server.url, **path)


def _snapshot(data_dir: Path) -> dict[str, Any]:
    repo = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    articles = repo.articles(state=STORED) + repo.articles(state=FAILED)
    url_of = {a.id: a.canonical_url for a in articles}
    members: dict[int | None, set[str]] = {}
    for a in articles:
        members.setdefault(a.story_id, set()).add(a.canonical_url)
    rows = {
        a.canonical_url: {
            column: getattr(a, column)
            for column in a.__table__.columns.keys()  # noqa: SIM118 (a ColumnCollection)
            if column not in UNCOMPARED
        }
        | {"story": frozenset(members[a.story_id])}
        for a in articles
    }
    with repo.session() as s:
        stories = {
            frozenset(members.get(story.id, set())): (
                url_of.get(story.lead_article_id or -1),
                story.published,
                story.guid,
                story.topics,
                story.relevance_score,
            )
            for story in s.scalars(select(Story))
        }
    runs = {
        source: {c: getattr(run, c) for c in RUN_COUNTS}
        for source in SOURCES
        if (run := repo.last_run(source)) is not None
    }
    return {"rows": rows, "stories": stories, "runs": runs}


def test_pool_and_batches_store_what_the_reactor_thread_stored(
    tmp_path: Path, long_mode: bool
) -> None:
    # Two sources (hreflang pairs, irrelevant releases, a cross-source copy) of one tree;
    # every source of both trees under --long.
    sources = SOURCES if long_mode else ["clib", "openpr"]
    for tree in ("v1", "v2") if long_mode else ("v1",):
        sites = copy_sites(tmp_path / tree / "sites", TREES[tree][0])
        _crawl_all(sites, tmp_path / tree / "old", OLD_PATH, sources)
        _crawl_all(sites, tmp_path / tree / "new", NEW_PATH, sources)
        old, new = _snapshot(tmp_path / tree / "old"), _snapshot(tmp_path / tree / "new")
        assert len(old["rows"]) >= 20  # the trees hold dozens of articles
        assert set(new["rows"]) == set(old["rows"])
        for url, row in old["rows"].items():
            assert new["rows"][url] == row, url
        assert new["stories"] == old["stories"]
        assert new["runs"] == old["runs"]


def test_a_crawl_killed_before_its_batch_is_written_loses_nothing(tmp_path: Path) -> None:
    source = "clusterplattform"
    sites = copy_sites(tmp_path / "sites", TREES["v1"][0])
    spider = spider_classes()[source]()
    with ReplayServer(sites) as server:
        # A batch larger than the site, written only at the end: kill the crawl once it
        # fetched article pages (they are extracted and waiting in the batch by then).
        env = crawl_env(
            tmp_path / "killed",
            server.url,
            CLUSTERWATCH_STORE_BATCH="100000",
            CLUSTERWATCH_STORE_BATCH_SECONDS="0",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", source],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while sum(spider.is_article_url(e.url) for e in server.log) < 3:
            assert process.poll() is None, "the crawl ended before it fetched 3 articles"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        killed = Repository(f"sqlite:///{tmp_path / 'killed' / 'clusterwatch.db'}")
        assert killed.articles(source) == []
        fetched = [spider.canonical(e.url) for e in server.log if spider.is_article_url(e.url)]
        assert not any(killed.is_known(url) for url in fetched)

        run_crawl(source, tmp_path / "killed", server.url)
        run_crawl(source, tmp_path / "clean", server.url)
    recovered = _snapshot(tmp_path / "killed")["rows"]
    clean = _snapshot(tmp_path / "clean")["rows"]
    assert recovered == clean
    assert len(clean) >= 5


def test_a_batch_the_store_refuses_is_lost_whole_and_stored_by_the_next_crawl(
    tmp_path: Path,
) -> None:
    # The store's writer thread fails on one batch (a trigger refuses one article's row):
    # nothing of that batch is stored or known, the other batches are, the crawl log counts
    # what was stored and what was not, and the next crawl completes the store.
    source = "clusterplattform"
    sites = copy_sites(tmp_path / "sites", TREES["v1"][0])
    batches = {"CLUSTERWATCH_STORE_BATCH": "3", "CLUSTERWATCH_STORE_BATCH_SECONDS": "0"}
    failing = tmp_path / "failing"
    url = f"sqlite:///{failing / 'clusterwatch.db'}"
    with ReplayServer(sites) as server:
        run_crawl(source, tmp_path / "clean", server.url, **batches)
        clean = _snapshot(tmp_path / "clean")["rows"]
        assert len(clean) >= 5
        refused = sorted(clean)[len(clean) // 2]
        failing.mkdir()
        upgrade(url)
        quoted = refused.replace("'", "''")
        with create_db_engine(url).begin() as connection:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON articles "
                f"WHEN NEW.canonical_url = '{quoted}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        result = run_crawl(source, failing, server.url, **batches)
        assert "could not store" in result.stderr

        repo = Repository(url)
        stored = {a.canonical_url for a in repo.articles(state=STORED)}
        run = repo.last_run(source)
        assert run is not None
        lost = int((run.stats or {}).get("clusterwatch/items/store_failed", 0))
        assert refused not in stored
        assert 1 <= lost <= 3  # one batch, whole
        assert len(stored) + lost == len(clean)
        assert run.items_new + run.items_duplicate + run.items_irrelevant == len(stored)
        assert not any(repo.is_known(u) for u in set(clean) - stored)

        with create_db_engine(url).begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER refuse")
        run_crawl(source, failing, server.url, **batches)
    assert _snapshot(failing)["rows"] == clean
