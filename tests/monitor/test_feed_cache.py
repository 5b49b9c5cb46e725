"""The feed builder's cache of rendered entries holds what the last build used, not every
story ever published: a service that stores a new story per run keeps a flat memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from db.migrate import upgrade
from db.repository import ArticleRecord, Repository
from monitor import feeds
from monitor.sources import list_sources
from scraper.config import Config


def test_entries_that_left_every_feed_leave_the_cache(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data", feed_max_entries=5)
    upgrade(config.db_url)
    repository = Repository(config.db_url)
    sources = list_sources(config)
    source = sources[0].name
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sizes = []
    for n in range(40):
        repository.add_article(
            ArticleRecord(
                canonical_url=f"https://{source}.example/news/{n}",
                source=source,
                url=f"https://{source}.example/news/{n}",
                title=f"Meldung {n} aus dem Cluster Nummer {n}",
                text=f"Neue Meldung {n} aus dem Innovationscluster, Runde {n}. " * 20,
                html="",
                content_hash=f"h{n}",
                relevance="relevant",
                published_at=start + timedelta(hours=n),
            )
        )
        feeds.build_feeds(config, repository, sources)
        sizes.append(max(len(feeds._PARTS), len(feeds._ENTRIES)))
    written = (config.feeds_dir / "all.xml").read_text("utf-8")
    assert "Meldung 39 aus dem Cluster" in written and "Meldung 30 aus" not in written
    # The newest five, in the feeds that show them (a story's parts are shared by its
    # feeds); an archive page's entries are not kept (it is rendered again only when it
    # changes), though a page was written every fifth build.
    assert (config.feeds_dir / "archive" / "all" / "7.atom").exists()
    assert max(sizes[5:]) == 5
