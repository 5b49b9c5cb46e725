"""The real ``clusterwatch run`` process against the replay server (issue 3).

One source, crawled every few seconds: its items appear in the served feed; an article
published on the replayed site appears after the next run; conditional GETs on the feed
answer 304 until it changes; SIGTERM stops the service cleanly with every run recorded.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import feedparser
import httpx
import pytest

from db.repository import Repository
from monitor.replay import ReplayServer, Resolved
from scraper.evaluation import load_expected, spider_classes
from tests.conftest import EXPECTED, NEW_TITLE, crawl_env, publish_article

SOURCE = "clusterplattform"
# 6 s between scheduled crawls (a crawl of the replayed site takes about 5 s).
INTERVAL_MINUTES = 0.1
STARTUP_TIMEOUT = 30.0
FEED_TIMEOUT = 60.0
STOP_TIMEOUT = 45.0

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(path: Path, data_dir: Path, mirror: str, port: int) -> Path:
    lines = [
        f'data_dir = "{data_dir}"',
        f'mirror = "{mirror}"',
        'http_host = "127.0.0.1"',
        f"http_port = {port}",
        "jitter_seconds = 0",
        # Feeds are rebuilt by the run-finished hook, not by the periodic job.
        "feed_rebuild_minutes = 60",
        "",
        f"[sources.{SOURCE}]",
        f"interval_minutes = {INTERVAL_MINUTES}",
    ]
    for name in sorted(spider_classes()):
        if name != SOURCE:
            lines += ["", f"[sources.{name}]", "enabled = false"]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float) -> T:
        """Poll ``probe`` until it returns something; fail at the deadline or if we died."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"service exited ({self.process.returncode}) waiting for {what}:\n"
                    + self.log()[-4000:]
                )
            try:
                result = probe()
            except httpx.TransportError as error:  # not listening yet
                result, last_error = None, error
            if result is not None:
                return result
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no {what} after {timeout:.0f} s (last error: {last_error!r}):\n"
                    + self.log()[-4000:]
                )
            time.sleep(0.2)


class ReplayGate:
    """Holds the replay server's answers while closed, so a crawl is caught in mid-run.

    Blocking inside the handler stalls the replay server's event loop: every request of the
    crawl waits until the gate opens again.
    """

    def __init__(self, server: ReplayServer, monkeypatch: pytest.MonkeyPatch):
        self._resolve = server.replay.tree.resolve
        self._open = threading.Event()
        self._open.set()
        self.holding = threading.Event()  # a request is waiting at the closed gate
        monkeypatch.setattr(server.replay.tree, "resolve", self._gated_resolve)

    def _gated_resolve(self, host: str, raw_path: str, raw_query: str = "") -> Resolved:
        if not self._open.is_set():
            self.holding.set()
            self._open.wait(timeout=120)
        return self._resolve(host, raw_path, raw_query)

    def close(self) -> None:
        self.holding.clear()
        self._open.clear()

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def gate(replay: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplayGate]:
    gate = ReplayGate(replay, monkeypatch)
    try:
        yield gate
    finally:
        gate.open()  # before the replay server stops


@pytest.fixture
def service(replay: ReplayServer, tmp_path: Path) -> Iterator[Service]:
    data_dir = tmp_path / "data"
    port = free_port()
    config = write_config(tmp_path / "clusterwatch.toml", data_dir, replay.url, port)
    log_path = tmp_path / "service.log"
    env = crawl_env(data_dir, None, CLUSTERWATCH_CONFIG=str(config))
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Service(process, log_path, f"http://127.0.0.1:{port}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        # Scheduled crawls run in their own process groups; a killed service leaves them
        # to finish on their own (they end within seconds against the replay server).


def _feed_titles(response: httpx.Response) -> set[str]:
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    return {str(entry.title) for entry in parsed.entries}


def _validators(response: httpx.Response) -> tuple[str, str]:
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    assert etag and modified, dict(response.headers)
    return etag, modified


def _conditional_status(client: httpx.Client, etag: str | None, modified: str | None) -> int:
    headers = {}
    if etag is not None:
        headers["If-None-Match"] = etag
    if modified is not None:
        headers["If-Modified-Since"] = modified
    return client.get("/feeds/all.xml", headers=headers).status_code


@pytest.mark.e2e
def test_service_publishes_crawled_items_and_stops_cleanly(
    service: Service, gate: ReplayGate, tmp_path: Path
) -> None:
    expected = {str(e.data["title"]) for e in load_expected(EXPECTED, SOURCE) if e.data["relevant"]}
    assert expected and NEW_TITLE not in expected

    repository = Repository(f"sqlite:///{tmp_path / 'data' / 'clusterwatch.db'}")
    with httpx.Client(base_url=service.base_url, timeout=10) as client:

        def healthy() -> bool | None:
            answer = client.get("/healthz")
            return True if answer.status_code == 200 and answer.json()["status"] == "ok" else None

        service.wait_for("healthy /healthz", healthy, STARTUP_TIMEOUT)

        def feed_with(titles: set[str]) -> Callable[[], httpx.Response | None]:
            def probe() -> httpx.Response | None:
                answer = client.get("/feeds/all.xml")
                if answer.status_code == 200 and _feed_titles(answer) == titles:
                    return answer
                return None

            return probe

        # The startup crawl's items are served.
        first = service.wait_for("feed with the source's items", feed_with(expected), FEED_TIMEOUT)
        old_etag, old_modified = _validators(first)
        # Conditional GETs revalidate while nothing changes, also after a run found nothing.
        assert _conditional_status(client, old_etag, None) == 304
        assert _conditional_status(client, None, old_modified) == 304

        def scheduled_run_done() -> bool | None:
            runs = repository.runs(limit=1000)
            return any(r.trigger == "scheduled" and r.finished_at for r in runs) or None

        service.wait_for("a scheduled run", scheduled_run_done, FEED_TIMEOUT)
        assert _conditional_status(client, old_etag, None) == 304
        assert _conditional_status(client, None, old_modified) == 304

        # An article published on the site shows up after the next scheduled run.
        publish_article(tmp_path / "sites", SOURCE)  # the `replay` fixture's copy
        second = service.wait_for(
            "feed with the new article", feed_with(expected | {NEW_TITLE}), FEED_TIMEOUT
        )
        new_etag, new_modified = _validators(second)
        assert new_etag != old_etag
        assert _conditional_status(client, old_etag, None) == 200
        assert _conditional_status(client, None, old_modified) == 200
        assert _conditional_status(client, new_etag, None) == 304
        assert _conditional_status(client, None, new_modified) == 304

    # Stop while a scheduled crawl is running (held mid-request by the replay server): the
    # crawl must get SIGTERM, close gracefully and be recorded as shut down.
    gate.close()
    service.wait_for("a crawl request", lambda: gate.holding.is_set() or None, FEED_TIMEOUT)
    (running,) = repository.unfinished_runs()
    assert running.log_path
    crawl_log = Path(running.log_path)
    service.process.send_signal(signal.SIGTERM)
    service.wait_for(
        "the crawl to receive SIGTERM",
        lambda: "Received SIGTERM" in crawl_log.read_text("utf-8", errors="replace") or None,
        STOP_TIMEOUT,
    )
    gate.open()
    try:
        code = service.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"service still running {STOP_TIMEOUT:.0f} s after SIGTERM")
    log = service.log()
    assert code == 0, log[-4000:]
    assert "service stopped" in log
    assert "scheduler started: 1 sources, 1 catching up now" in log

    runs = repository.runs(limit=1000)
    assert {r.spider for r in runs} == {SOURCE}, "disabled sources never crawl"
    assert not repository.unfinished_runs()
    for run in runs:
        assert run.finished_at is not None, run.id
        assert run.finish_reason in ("finished", "shutdown"), (run.id, run.finish_reason)
    interrupted = repository.run(running.id)
    assert interrupted is not None and interrupted.finish_reason == "shutdown"
    oldest, *later = sorted(runs, key=lambda r: r.id)
    assert oldest.trigger == "startup" and oldest.finish_reason == "finished"
    assert later and all(r.trigger == "scheduled" for r in later)
    assert [r.items_new for r in later if r.items_new] == [1], "the new article, once"
