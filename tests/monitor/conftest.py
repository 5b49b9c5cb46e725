"""Shared fixtures of the monitor tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from db.migrate import upgrade
from db.repository import ArticleRecord, Repository
from scraper.config import Config
from scraper.sources import SourceSpec


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A migrated, empty SQLite database of its own for each test."""
    url = f"sqlite:///{tmp_path / 'data' / 'clusterwatch.db'}"
    upgrade(url)
    return url


@pytest.fixture
def repository(db_url: str) -> Repository:
    return Repository(db_url)


def record_run(
    repository: Repository,
    spider: str,
    started_at: datetime | None = None,
    **fields: Any,
) -> int:
    """A finished crawl_runs row, written the way the crawl log writes it."""
    run_id = repository.start_run(spider, "manual", None, None)
    if started_at is not None:
        repository.update_run(run_id, started_at=started_at)
    fields.setdefault("finish_reason", "finished")
    fields.setdefault("finished_at", (started_at or datetime.now(UTC)))
    repository.finish_run(run_id, **fields)
    return run_id


class AlertEndpoint:
    """A tiny HTTP endpoint recording what Apprise's ``json://`` posts to it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with endpoint._lock:
                    endpoint.messages.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/"

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
    ) -> list[dict[str, Any]]:
        """Poll until ``predicate(messages)`` holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                snapshot = list(self.messages)
            if predicate(snapshot):
                return snapshot
            if time.monotonic() > deadline:
                raise AssertionError(f"alert endpoint: condition not met; received {snapshot!r}")
            time.sleep(0.05)

    def start(self) -> AlertEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever on a server never started
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture
def alert_endpoint() -> Iterator[AlertEndpoint]:
    endpoint = AlertEndpoint().start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


# -- feeds and server (tests/monitor/test_feeds.py, test_server.py, test_newsboat.py) -----

FEED_SOURCES = [
    SourceSpec(
        name="alpha",
        label="Alpha Cluster",
        relevance="all",
        hosts=("alpha.example",),
        feeds=("https://alpha.example/feed/",),
        article_pattern="/news/",
    ),
    SourceSpec(
        name="beta",
        label="Beta Netzwerk",
        relevance="keywords",
        hosts=("beta.example",),
        feeds=("https://beta.example/feed/",),
        article_pattern="/news/",
    ),
]


@pytest.fixture
def feed_config(tmp_path: Path, db_url: str) -> Config:
    """A configuration whose data dir holds the ``db_url`` database and the feeds."""
    return Config(
        data_dir=tmp_path / "data", database_url=db_url, feed_base_url="https://feeds.example"
    )


@pytest.fixture
def add_article(repository: Repository) -> Callable[..., ArticleRecord]:
    """Store an article as the crawl pipeline does; keyword arguments override fields."""
    counter = iter(range(1, 1_000_000))

    def add(**fields: Any) -> ArticleRecord:
        n = next(counter)
        source = fields.get("source", "alpha")
        url = fields.pop("url", f"https://{source}.example/news/{n}")
        record = ArticleRecord(
            canonical_url=fields.pop("canonical_url", url),
            source=source,
            url=url,
            title=fields.pop("title", f"Announcement {n} of {source}"),
            text=fields.pop("text", f"Cluster news number {n}. " * 5),
            html=fields.pop("html", f"<p>Cluster news number {n}.</p>"),
            content_hash=fields.pop("content_hash", f"hash-{source}-{n}"),
            relevance=fields.pop("relevance", "relevant"),
            published_at=fields.pop("published_at", datetime(2024, 1, 1, tzinfo=UTC)),
        )
        for name, value in fields.items():
            setattr(record, name, value)
        repository.add_article(record)
        return record

    return add


# -- the labelled story set crawled once (feed validity, named feeds) --------------------

STORY_SOURCES = ["bmwe", "clib", "clusterplattform", "openpr"]


@dataclass
class Crawled:
    """A data dir holding a crawl of tests/sites_stories by the real spiders."""

    config: Config
    repository: Repository


@pytest.fixture(scope="session")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    from monitor.replay import ReplayServer
    from tests.conftest import SITES_STORIES, copy_sites, run_crawl

    tmp = tmp_path_factory.mktemp("story-crawl")
    data_dir = tmp / "data"
    with ReplayServer(copy_sites(tmp / "sites", SITES_STORIES)) as server:
        for source in STORY_SOURCES:
            run_crawl(source, data_dir, server.url)
    config = Config(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'clusterwatch.db'}")
    return Crawled(config, Repository(config.db_url))
