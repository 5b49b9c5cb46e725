"""Sources that fall due together run in one crawl process (``python -m scraper.crawl_many``),
launched by the service's scheduler against the replay server: each source still has its own
crawl-log row, log file, counts and outcome; a failing or hanging member loses nothing of the
others; a group process killed with -9 leaves no run open."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from db.migrate import upgrade
from db.models import CrawlRun
from db.repository import Repository
from monitor.replay import ReplayServer
from monitor.scheduler import CrawlScheduler, close_dead_runs
from monitor.sources import list_sources
from scraper.config import Config
from scraper.evaluation import load_expected, spider_classes
from tests.conftest import EXPECTED, REPO_ROOT, copy_sites, crawl_env
from tests.faults import add_faults
from tests.monitor.test_scheduler import wait_for

pytestmark = pytest.mark.e2e


class Service:
    """The service's scheduler with its real launcher (``scrapy crawl`` / ``crawl_many``)."""

    def __init__(self, tmp_path: Path, mirror: str, **config: Any):
        self.config = Config(data_dir=tmp_path / "data", mirror=mirror, jitter_seconds=0, **config)
        upgrade(self.config.db_url)
        self.repository = Repository(self.config.db_url)
        self.finished: list[tuple[str, float]] = []
        self.scheduler: CrawlScheduler | None = None

    def start(self, *names: str) -> CrawlScheduler:
        sources = [s for s in list_sources(self.config) if s.name in names]
        assert sorted(s.name for s in sources) == sorted(names)
        self.scheduler = CrawlScheduler(
            self.config,
            sources,
            self.repository,
            on_run_finished=lambda s: self.finished.append((s, time.monotonic())),
            kill_grace_seconds=5.0,
        )
        self.scheduler.start()  # never ran: every source is due now, together
        return self.scheduler

    def runs(self, *names: str) -> dict[str, CrawlRun]:
        found = {}
        for name in names:
            run = self.repository.last_run(name)
            assert run is not None, name
            found[name] = run
        return found

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.hurry()
            self.scheduler.shutdown()


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[ReplayServer]:
    with ReplayServer(copy_sites(tmp_path / "sites")) as server:
        yield server


@pytest.fixture
def service(tmp_path: Path, sites: ReplayServer) -> Iterator[Service]:
    running = Service(tmp_path, sites.url)
    yield running
    running.stop()


def _stored_as_expected(repository: Repository, source: str) -> None:
    spider = spider_classes()[source]()
    wanted = {spider.canonical(e.url) for e in load_expected(EXPECTED, source)}
    assert {a.canonical_url for a in repository.articles(source)} == wanted, source


def _own_log(run: CrawlRun) -> str:
    assert run.log_path and Path(run.log_path).is_file(), run.spider
    text = Path(run.log_path).read_text("utf-8")
    assert set(re.findall(r"crawl run (\d+) of (\w+)", text)) == {(str(run.id), run.spider)}
    return text


def _hang(server: ReplayServer, source: str) -> None:
    """Every request for the source's hosts (robots.txt included) stalls."""
    hosts = spider_classes()[source].hosts
    add_faults(server, [{"fault": "stall", "host": h, "seconds": 300} for h in hosts])


def test_sources_due_together_run_in_one_process_each_with_its_own_run(
    service: Service,
) -> None:
    names = ("clusterplattform", "openpr", "clib")
    service.start(*names)
    wait_for(lambda: len(service.finished) == 3, 120, "the three crawls to finish")
    runs = service.runs(*names)
    assert len({run.pid for run in runs.values()}) == 1  # one crawl process for the three
    assert len({run.id for run in runs.values()}) == 3
    assert len({run.log_path for run in runs.values()}) == 3
    hosts = {s: spider_classes()[s].hosts[0] for s in names}
    for name, run in runs.items():
        assert (run.trigger, run.finish_reason) == ("startup", "finished"), name
        counted = run.items_new + run.items_duplicate + run.items_irrelevant
        assert run.items_new > 0 and counted == len(load_expected(EXPECTED, name)), name
        assert run.errors == 0, name
        text = _own_log(run)
        for other, host in hosts.items():
            assert (host in text) == (other == name), (name, other)
        _stored_as_expected(service.repository, name)


def test_a_failing_and_a_hanging_member_lose_nothing_of_the_others(
    tmp_path: Path, sites: ReplayServer
) -> None:
    """openpr answers 503 to everything, clib never answers: clusterplattform's run is
    recorded (and its follow-ups run) while the group still hangs; at the crawl timeout
    the group is stopped and only the hanging member is recorded as killed."""
    add_faults(sites, [{"fault": "status", "status": 503, "host": "www.openpr.de"}])
    _hang(sites, "clib")
    service = Service(tmp_path, sites.url, crawl_timeout_minutes=0.5)
    try:
        started = time.monotonic()
        service.start("clusterplattform", "openpr", "clib")
        wait_for(lambda: len(service.finished) == 3, 90, "the three runs to be recorded")
        ended = dict(service.finished)
        runs = service.runs("clusterplattform", "openpr", "clib")
    finally:
        service.stop()
    assert len({run.pid for run in runs.values()}) == 1
    good, failing, hung = runs["clusterplattform"], runs["openpr"], runs["clib"]
    assert good.finish_reason == "finished" and good.items_new > 0
    _stored_as_expected(service.repository, "clusterplattform")
    # Recorded and released as soon as its own crawl ended, not at the group's timeout.
    assert ended["clusterplattform"] < ended["clib"] - 5
    assert ended["clib"] - started >= 30  # the crawl timeout
    assert failing.finish_reason == "finished" and failing.items_new == 0
    assert failing.errors > 0 and "503" in _own_log(failing)
    assert hung.finish_reason == "killed" and hung.items_new == 0
    assert service.repository.articles("openpr") == []
    assert service.repository.articles("clib") == []
    _own_log(hung)


def test_a_group_killed_with_minus_9_leaves_no_run_open(
    service: Service, sites: ReplayServer
) -> None:
    _hang(sites, "clib")
    _hang(sites, "openpr")
    service.start("clusterplattform", "openpr", "clib")
    wait_for(lambda: service.finished, 60, "clusterplattform's crawl to finish")
    assert [name for name, _ in service.finished] == ["clusterplattform"]
    runs = service.runs("clusterplattform", "openpr", "clib")
    pid = runs["clusterplattform"].pid
    assert pid is not None and {run.pid for run in runs.values()} == {pid}
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: len(service.finished) == 3, 30, "the killed group's runs to be recorded")
    runs = service.runs("clusterplattform", "openpr", "clib")
    assert runs["clusterplattform"].finish_reason == "finished"
    assert runs["openpr"].finish_reason == runs["clib"].finish_reason == "crashed"
    assert all(run.finished_at is not None for run in runs.values())


def test_a_hand_started_group_killed_with_minus_9_is_closed_by_the_dead_runs_check(
    tmp_path: Path, sites: ReplayServer
) -> None:
    _hang(sites, "clib")
    _hang(sites, "openpr")
    data_dir = tmp_path / "data"
    upgrade(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    group = subprocess.Popen(
        [sys.executable, "-m", "scraper.crawl_many", "openpr", "clib"],
        cwd=REPO_ROOT,
        env=crawl_env(data_dir, sites.url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(repository.unfinished_runs()) == 2, 60, "both runs to be recorded")
        assert close_dead_runs(repository, 1800) == []  # alive: left alone
    finally:
        group.kill()
        group.wait()
    closed = close_dead_runs(repository, 1800)
    assert sorted(run.spider for run in closed) == ["clib", "openpr"]
    for name in ("clib", "openpr"):
        run = repository.last_run(name)
        assert run is not None and run.finish_reason == "interrupted"
