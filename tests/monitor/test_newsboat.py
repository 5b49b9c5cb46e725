"""A real feed reader: Debian's newsboat reloads the feeds our uvicorn server serves.

newsboat keeps its cache in SQLite (table ``rss_item``), so the titles it understood are
read back from there. Everything stays on 127.0.0.1; HOME points into the test directory so
the developer's own newsboat configuration and cache are never touched.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.repository import ArticleRecord, Repository
from monitor.feeds import build_feeds
from monitor.server import BackgroundServer, create_app
from scraper.config import Config
from tests.monitor.conftest import FEED_SOURCES

INSTALL_HINT = "install Debian package newsboat (apt-get install newsboat)"
TITLES = [
    "Wasserstoff & Energie: Cluster gegründet",
    "Kompetenznetz <Bioökonomie> startet Förderrunde",
    "Zukunftscluster „Quantum“ wächst",
]


def require_newsboat() -> str:
    """newsboat's path; skipped locally without it, but a failure on CI (CI=true)."""
    path = shutil.which("newsboat")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"newsboat missing on CI: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return path


class Reader:
    """One newsboat profile (urls, config, cache) in a directory of its own."""

    def __init__(self, executable: str, home: Path, feed_urls: list[str]):
        self.executable = executable
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        (home / "urls").write_text("".join(f"{url}\n" for url in feed_urls), encoding="utf-8")
        (home / "config").write_text("download-timeout 20\nreload-threads 1\n", encoding="utf-8")
        self.cache = home / "cache.db"

    def reload(self) -> None:
        self.run("-x", "reload")

    def run(self, *command: str) -> None:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(HOME=str(self.home), NO_PROXY="*", no_proxy="*")
        args = ["-u", "urls", "-C", "config", "-c", str(self.cache), *command]
        result = subprocess.run(
            [self.executable, *args],
            cwd=self.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def titles(self) -> set[str]:
        with sqlite3.connect(self.cache) as db:
            return {title for (title,) in db.execute("SELECT title FROM rss_item")}

    def feed_titles(self) -> dict[str, str]:
        with sqlite3.connect(self.cache) as db:
            return dict(db.execute("SELECT rssurl, title FROM rss_feed"))

    def feed_validators(self, url: str) -> tuple[str, int]:
        with sqlite3.connect(self.cache) as db:
            row = db.execute(
                "SELECT etag, lastmodified FROM rss_feed WHERE rssurl = ?", (url,)
            ).fetchone()
        assert row is not None, f"newsboat has no feed {url}"
        return str(row[0]), int(row[1])


class StatusRecorder:
    """ASGI wrapper noting (path, status) of every answer: what did newsboat get?"""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.answers: list[tuple[str, int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.answers.append((scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, recording_send)

    def last_status(self, path: str) -> int:
        return [status for answered, status in self.answers if answered == path][-1]


def test_newsboat_lists_the_served_titles(
    tmp_path: Path,
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
) -> None:
    newsboat = require_newsboat()
    for day, title in enumerate(TITLES, start=1):
        add_article(title=title, source="alpha", published_at=datetime(2024, 4, day, tzinfo=UTC))
    add_article(title="Nur im Beta-Feed", source="beta")
    build_feeds(feed_config, repository, FEED_SOURCES)
    recorder = StatusRecorder(create_app(feed_config))

    with BackgroundServer(feed_config, host="127.0.0.1", port=0, app=recorder) as server:
        rss, atom = f"{server.url}/feeds/alpha.xml", f"{server.url}/feeds/alpha.atom"
        reader = Reader(newsboat, tmp_path / "newsboat", [rss, atom])
        reader.reload()
        assert reader.titles() == set(TITLES)
        assert recorder.last_status("/feeds/alpha.xml") == 200

        # newsboat 2.21 stores a new feed's ETag/Last-Modified only from its second fetch
        # on; after that, reloads are conditional GETs answered with 304.
        reader.reload()
        reader.reload()
        assert reader.feed_validators(rss)[0].startswith('"')
        assert recorder.last_status("/feeds/alpha.xml") == 304
        assert recorder.last_status("/feeds/alpha.atom") == 304
        assert reader.titles() == set(TITLES)

        # A new article and a rebuild: the next reload must fetch it despite the validators.
        add_article(title="Neues Netzwerk für Batterieforschung", source="alpha")
        build_feeds(feed_config, repository, FEED_SOURCES)
        reader.reload()
        assert recorder.last_status("/feeds/alpha.xml") == 200
        assert reader.titles() == {*TITLES, "Neues Netzwerk für Batterieforschung"}


def test_newsboat_imports_the_opml_and_reads_every_feed(
    tmp_path: Path,
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
) -> None:
    newsboat = require_newsboat()
    add_article(title=TITLES[0], source="alpha")
    add_article(title=TITLES[1], source="beta")
    with BackgroundServer(feed_config, host="127.0.0.1", port=0) as server:
        # The OPML names the feeds by feed_base_url: here, where the server really listens.
        served = feed_config.model_copy(update={"feed_base_url": server.url})
        build_feeds(served, repository, FEED_SOURCES)
        opml = tmp_path / "subscriptions.opml"
        opml.write_bytes(httpx.get(f"{server.url}/feeds.opml", timeout=10).content)
        reader = Reader(newsboat, tmp_path / "newsboat", [])
        reader.run("-i", str(opml))
        expected = {f"{server.url}/feeds/{stem}.xml" for stem in ("all", "alpha", "beta")}
        assert set((reader.home / "urls").read_text("utf-8").split()) >= expected
        reader.reload()
        assert reader.titles() == {TITLES[0], TITLES[1]}
        assert reader.feed_titles() == {
            f"{server.url}/feeds/all.xml": "clusterwatch: all cluster announcements",
            f"{server.url}/feeds/alpha.xml": "clusterwatch: Alpha Cluster",
            f"{server.url}/feeds/beta.xml": "clusterwatch: Beta Netzwerk",
        }


def test_newsboat_reads_a_named_filtered_feed(
    tmp_path: Path,
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
) -> None:
    newsboat = require_newsboat()
    add_article(title=TITLES[0], source="alpha", topics=["field:Energie"])
    add_article(title=TITLES[2], source="beta", topics=["region:Sachsen", "field:Energie"])
    add_article(title="Kein Energiethema", source="alpha", topics=["field:Chemie"])
    config = feed_config.model_copy(
        update={
            "feeds": Config(feeds={"energie": {"title": "Energie", "topics": ["Energie"]}}).feeds
        }
    )
    build_feeds(config, repository, FEED_SOURCES)
    with BackgroundServer(config, host="127.0.0.1", port=0) as server:
        reader = Reader(newsboat, tmp_path / "newsboat", [f"{server.url}/feeds/energie.xml"])
        reader.reload()
        assert reader.titles() == {TITLES[0], TITLES[2]}
