"""The RFC 5005 archive built incrementally (from the store's revision, migration 0012) is
the archive a build from nothing writes: after every step of a seeded sequence of store
changes — new stories at the end and in the middle, withdrawn and re-published stories,
copies joining old stories, changed topics — every archive document is byte-identical to
a fresh build's, on both backends. And in the steady state (new stories at the end) a
build reads only the keys from the last archived page on, not every story."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from db.migrate import upgrade
from db.repository import ArticleRecord, Classification, Repository, StoryKey
from monitor.feeds import ARCHIVE_DIR, build_feeds
from scraper.config import Config
from tests.monitor.conftest import FEED_SOURCES

PAGE = 3
DAY = datetime(2024, 1, 1, tzinfo=UTC)


def _record(n: int, source: str, day: int, content_hash: str | None = None) -> ArticleRecord:
    return ArticleRecord(
        canonical_url=f"https://{source}.example/news/{n}",
        source=source,
        url=f"https://{source}.example/news/{n}",
        title=f"Meldung {n} aus dem Cluster",
        text=f"Meldung Nummer {n} über Cluster {n * 7} und Netzwerk {n * 13} in der Region.",
        html="",
        content_hash=content_hash or f"hash-{n}",
        relevance="relevant",
        published_at=DAY + timedelta(days=day),
    )


def _archive(feeds_dir: Path) -> dict[str, bytes]:
    root = feeds_dir / ARCHIVE_DIR
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".xml", ".atom")
    }


class _Counting(Repository):
    """The repository, counting the story keys the archive reads."""

    read: list[int]

    def feed_story_keys(self, *args: Any, **kwargs: Any) -> list[StoryKey]:
        keys = super().feed_story_keys(*args, **kwargs)
        self.read.append(len(keys))
        return keys


def _config(tmp_path: Path, url: str, name: str) -> Config:
    return Config(
        data_dir=tmp_path / name,
        database_url=url,
        feed_base_url="https://feeds.example",
        feed_max_entries=PAGE,
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_archive_equals_a_fresh_build_after_every_change(
    backend_url: str, tmp_path: Path, seed: int
) -> None:
    upgrade(backend_url)
    repo = _Counting(backend_url)
    repo.read = []
    rng = random.Random(seed)
    incremental = _config(tmp_path, backend_url, "incremental")
    n, newest = 0, 0
    stored: list[tuple[int, str]] = []  # (n, source)

    def add(day: int, source: str, content_hash: str | None = None) -> None:
        nonlocal n
        n += 1
        repo.add_article(_record(n, source, day, content_hash))
        stored.append((n, source))

    for _ in range(4 * PAGE):  # a few archived pages to begin with
        newest += 1
        add(newest, rng.choice(["alpha", "beta"]))
    for step in range(24):
        kind = rng.choice(["end", "end", "end", "middle", "withdraw", "copy", "topics"])
        if kind == "end":
            newest += 1
            add(newest, rng.choice(["alpha", "beta"]))
        elif kind == "middle":
            add(rng.randint(1, newest), rng.choice(["alpha", "beta"]))
        elif kind == "copy":  # another source's copy of an older story joins it
            original, source = rng.choice(stored)
            add(
                rng.randint(1, newest), "beta" if source == "alpha" else "alpha", f"hash-{original}"
            )
        else:
            original, source = rng.choice(stored)
            article = repo.article(f"https://{source}.example/news/{original}")
            assert article is not None
            relevance = "irrelevant" if kind == "withdraw" and rng.random() < 0.7 else "relevant"
            topics = [rng.choice(["region:Sachsen", "region:Bayern", "field:Energie"])]
            repo.apply_classification(
                [Classification(article.id, relevance, 5.0, [], topics if kind == "topics" else [])]
            )
        build_feeds(incremental, repo, FEED_SOURCES)
        fresh = _config(tmp_path, backend_url, f"fresh-{step}")
        build_feeds(fresh, Repository(backend_url), FEED_SOURCES)
        assert _archive(incremental.feeds_dir) == _archive(fresh.feeds_dir), (step, kind)
    assert _archive(incremental.feeds_dir), "the sequence archived nothing"


def test_a_new_story_at_the_end_reads_only_the_last_archived_page_on(
    backend_url: str, tmp_path: Path
) -> None:
    upgrade(backend_url)
    repo = _Counting(backend_url)
    repo.read = []
    config = _config(tmp_path, backend_url, "data")
    for n in range(1, 10 * PAGE + 1):
        repo.add_article(_record(n, "alpha", n))
    build_feeds(config, repo, FEED_SOURCES)
    total = 10 * PAGE
    assert max(repo.read) == total  # the first build reads every key
    for n in range(total + 1, total + 2 * PAGE + 2):
        repo.read = []
        repo.add_article(_record(n, "alpha", n))
        build_feeds(config, repo, FEED_SOURCES)
        # 'all' and alpha's feed: the last archived page, the subscription window, the new
        # one — never the settled pages before them (beta's feed is empty).
        assert repo.read and max(repo.read) <= 2 * PAGE + 1, repo.read
    repo.read = []
    build_feeds(config, repo, FEED_SOURCES)  # nothing changed: the same small reads
    assert max(repo.read) <= 2 * PAGE + 1
