"""Crash safety: ``kill -9`` of crawls and of the service at random moments, in a loop.

After every kill: ``PRAGMA integrity_check`` is ok and every feed file is a complete, valid
document. At the end the service is started again: it closes the runs the killed processes
left open and crawls every source, which must complete the picture — exactly the articles a
clean crawl stores, none twice — with no run left "running".

The moments come from a seeded random generator; the seed is printed (``-s``) and recorded,
and ``CW_CRASH_SEED`` replays a run. 3 kills by default, 50 under ``--long``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from db.migrate import NoDatabase, SchemaOutOfDate, check_schema
from db.repository import Repository
from monitor.replay import ReplayServer
from tests.conftest import REPO_ROOT, crawl_env
from tests.reliability import Recorder

CLUSTERWATCH = Path(sys.executable).with_name("clusterwatch")
SOURCES = ("bmwe", "clib", "clusterplattform", "openpr")
KILLED_REASONS = {"interrupted", "crashed", "killed"}


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the service's crawls run in sessions of their own, so
    a signal to its process group would not reach them)."""
    found = []
    try:
        direct = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    for child in map(int, direct):
        found += [child, *_children(child)]
    return found


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process and everything it started, as a crashing machine would."""
    for pid in [process.pid, *_children(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service_env(data_dir: Path, mirror: str, port: int) -> dict[str, str]:
    return crawl_env(
        data_dir,
        mirror,
        CLUSTERWATCH_HTTP_PORT=str(port),
        CLUSTERWATCH_JITTER_SECONDS="0",
        CLUSTERWATCH_SHUTDOWN_GRACE_SECONDS="5",
    )


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def broken_feed_files(feeds: Path) -> list[str]:
    """Feed files (not the builder's temp files) that are not complete documents."""
    broken = []
    if not feeds.exists():
        return broken
    for path in feeds.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            if path.suffix == ".json":
                json.loads(path.read_bytes())
            elif path.suffix in (".xml", ".atom", ".opml"):
                etree.fromstring(path.read_bytes())
        except (ValueError, etree.XMLSyntaxError) as error:
            broken.append(f"{path.relative_to(feeds)}: {error}")
    return broken


def stored(db_url: str, sources: tuple[str, ...]) -> dict[str, list[str]]:
    repository = Repository(db_url)
    return {s: sorted(a.canonical_url for a in repository.articles(s)) for s in sources}


def duplicates(db_url: str) -> int:
    """Articles stored twice: the same text (content hash) or URL within one source."""
    repository = Repository(db_url)
    count = 0
    for source in SOURCES:
        articles = repository.articles(source)
        hashes = Counter(a.content_hash for a in articles)
        urls = Counter(a.canonical_url for a in articles)
        count += sum(n - 1 for n in hashes.values()) + sum(n - 1 for n in urls.values())
    return count


def heal_with_the_service(data_dir: Path, mirror: str, timeout: float = 300) -> float:
    """Start ``clusterwatch run``: it closes the dead runs and crawls every source at once
    (none finished its last run); stop it once every source has finished a run."""
    db_url = f"sqlite:///{data_dir / 'clusterwatch.db'}"
    started = time.time()
    service = subprocess.Popen(
        [str(CLUSTERWATCH), "run"],
        cwd=data_dir.parent,
        env=_service_env(data_dir, mirror, _free_port()),
        stdout=subprocess.DEVNULL,
        stderr=(data_dir.parent / "service.log").open("ab"),
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = (data_dir.parent / "service.log").read_text("utf-8", "replace")
            assert service.poll() is None, f"the service died: {log[-2000:]}"
            try:
                check_schema(db_url)  # the service migrates first
            except (NoDatabase, SchemaOutOfDate):
                time.sleep(0.5)
                continue
            repository = Repository(db_url)
            # Healed: no run left open, and every source's newest run finished. A source whose
            # newest run finished before this start (the kill came after the crawl ended) is
            # not due and is rightly not crawled again.
            runs = repository.runs(limit=200)
            newest: dict[str, Any] = {}
            for run in sorted(runs, key=lambda r: (r.started_at, r.id)):
                newest[run.spider] = run
            open_runs = [run for run in runs if run.finished_at is None]
            done = {s for s, run in newest.items() if run.finish_reason == "finished"}
            if not open_runs and done >= set(SOURCES):
                break
            time.sleep(1)
        else:
            runs = [
                (r.id, r.spider, r.trigger, r.finish_reason, str(r.started_at))
                for r in Repository(db_url).runs(limit=50)
            ]
            log = (data_dir.parent / "service.log").read_text("utf-8", "replace")[-3000:]
            raise AssertionError(f"no finished run of every source: {runs}\n{log}")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=120)
    return started


@pytest.fixture(scope="module")
def clean_crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """What a clean crawl of every source stores (no fault): the set to complete."""
    from tests.conftest import copy_sites

    tmp = tmp_path_factory.mktemp("clean")
    data_dir = tmp / "data"
    with ReplayServer(copy_sites(tmp / "sites")) as server:
        heal_with_the_service(data_dir, server.url)
    return stored(f"sqlite:///{data_dir / 'clusterwatch.db'}", SOURCES)


def test_kill_9_in_a_loop(
    replay: ReplayServer,
    tmp_path: Path,
    long_mode: bool,
    clean_crawl: dict[str, list[str]],
    reliability: Recorder,
) -> None:
    seed = int(os.environ.get("CW_CRASH_SEED", random.randrange(2**32)))
    print(f"crash-safety seed {seed} (CW_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    db = data_dir / "clusterwatch.db"
    db_url = f"sqlite:///{db}"
    rounds = 50 if long_mode else 3
    kinds: Counter[str] = Counter()
    for round_ in range(rounds):
        # The first round is a crawl (a database to kill the service over afterwards).
        kind = "crawl" if round_ == 0 else rng.choice(["crawl", "crawl", "service"])
        delay = rng.uniform(0.5, 8.0)
        if kind == "crawl":
            source = rng.choice(SOURCES)
            process = subprocess.Popen(
                [sys.executable, "-m", "scrapy", "crawl", source],
                cwd=REPO_ROOT,
                env=crawl_env(data_dir, replay.url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        else:
            process = subprocess.Popen(
                [str(CLUSTERWATCH), "run"],
                cwd=tmp_path,
                env=_service_env(data_dir, replay.url, _free_port()),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=delay)
        _kill_tree(process)
        kinds[kind] += 1
        if db.exists():
            assert integrity(db) == "ok", f"round {round_} (seed {seed})"
        assert broken_feed_files(data_dir / "feeds") == [], f"round {round_} (seed {seed})"

    started = heal_with_the_service(data_dir, replay.url)

    assert integrity(db) == "ok"
    assert broken_feed_files(data_dir / "feeds") == []
    repository = Repository(db_url)
    runs = repository.runs(limit=1000)
    assert [r.id for r in runs if r.finished_at is None] == [], "runs left running"
    killed = [r for r in runs if r.started_at.timestamp() < started - 1]
    assert all(r.finish_reason in KILLED_REASONS | {"finished"} for r in killed), [
        (r.id, r.finish_reason) for r in killed
    ]
    healed = stored(db_url, SOURCES)
    lost = sum(len(set(clean_crawl[s]) - set(healed[s])) for s in SOURCES)
    extra = sum(len(set(healed[s]) - set(clean_crawl[s])) for s in SOURCES)
    twice = duplicates(db_url)
    assert (lost, extra, twice) == (0, 0, 0), {
        s: (sorted(set(clean_crawl[s]) ^ set(healed[s]))) for s in SOURCES
    }
    closed = Counter(r.finish_reason for r in killed if r.finish_reason != "finished")
    reliability.record(
        "crash",
        f"kill -9 at random moments: {kinds['crawl']} crawls, {kinds['service']} services "
        f"(with their crawls), seed {seed}",
        "integrity_check ok and every feed file complete after each kill; the next service "
        f"start closed {sum(closed.values())} dead runs ({', '.join(sorted(closed))}) and "
        "completed exactly the clean crawl's articles",
        lost=lost,
        duplicates=twice,
    )
