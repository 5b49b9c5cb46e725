"""Two real Scrapyd workers (from PyPI, started here on 127.0.0.1 with their own directories
and ports), the session's real PostgreSQL and the replay server: the egg is deployed with
``clusterwatch workers deploy``, ``clusterwatch run`` with ``launcher = "scrapyd"`` crawls
every source on the workers, and the guarantees of the launcher seam are checked from the
outside — in the crawl log, the replay server's request log and the workers' own APIs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import pytest

from db.migrate import upgrade
from db.models import CrawlRun
from db.repository import Repository
from monitor.replay import LoggedRequest, ReplayServer
from monitor.scheduler import CrawlScheduler
from scraper.config import Config
from scraper.evaluation import spider_classes
from tests.conftest import copy_sites
from tests.pg import fresh_database

T = TypeVar("T")
PROJECT = "clusterwatch"
SOURCES = ("bmwe", "clib", "clusterplattform", "openpr")
# A source declared only in the TOML: it exists on a worker only if the egg carries the TOML.
TOML_ONLY = """
[sources.toml_only]
hosts = ["toml-only.example"]
listings = ["https://toml-only.example/news/"]
article_pattern = "/news/.+"
enabled = false
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


class Worker:
    """One Scrapyd daemon in its own directory, process group and port."""

    def __init__(self, root: Path, name: str, database_url: str):
        self.dir = root / name
        self.dir.mkdir(parents=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (self.dir / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            "max_proc = 2\n"
            "poll_interval = 0.2\n"
            "logs_dir = logs\n"
            "eggs_dir = eggs\n"
            "dbs_dir = dbs\n"
            "jobs_to_keep = 50\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERWATCH_")}
        env.pop("DATABASE_URL", None)
        env["CLUSTERWATCH_DATABASE_URL"] = database_url
        env["CLUSTERWATCH_DATA_DIR"] = str(self.dir / "data")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd"],
            cwd=self.dir,
            env=env,
            stdout=(self.dir / "scrapyd.out").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its crawls die with it when the "machine" goes
        )
        wait_for(self._answers, 30, f"scrapyd {name} to answer")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"scrapyd exited: {(self.dir / 'scrapyd.out').read_text()[-2000:]}")
        try:
            return bool(_get(f"{self.url}/daemonstatus.json", 1.0)["status"] == "ok")
        except OSError:
            return False

    def spiders(self) -> list[str]:
        answer = _get(f"{self.url}/listspiders.json?project={PROJECT}", 30)
        return list(answer["spiders"])

    def kill(self) -> None:
        """The machine goes: Scrapyd and its crawl processes, at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class Stall(socketserver.ThreadingTCPServer):
    """A mirror that accepts every connection and never answers (a hung site)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.release = threading.Event()
        release = self.release

        class Hold(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                release.wait(120)

        super().__init__(("127.0.0.1", 0), Hold)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


@dataclass
class Cluster:
    tmp: Path
    database_url: str
    replay: ReplayServer
    workers: list[Worker]
    config_file: Path
    repository: Repository
    deploy_output: str

    def config(self, **update: Any) -> Config:
        base = Config(
            data_dir=self.tmp / "service",
            database_url=self.database_url,
            mirror=self.replay.url,
            launcher="scrapyd",
            scrapyd_urls=[w.url for w in self.workers],
            scrapyd_slots=2,
            jitter_seconds=0,
            crawl_timeout_minutes=2,
        )
        return base.model_copy(update=update)

    def runs(self, source: str | None = None) -> list[CrawlRun]:
        return sorted(self.repository.runs(spider=source, limit=500), key=lambda r: r.id)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str
) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("workers")
    database_url = fresh_database(postgres_server_url)
    upgrade(database_url)
    workers: list[Worker] = []
    with ReplayServer(copy_sites(tmp / "sites")) as replay:
        try:
            workers = [Worker(tmp, "worker-a", database_url), Worker(tmp, "worker-b", database_url)]
            config_file = tmp / "clusterwatch.toml"
            config_file.write_text(
                f'database_url = "{database_url}"\nlauncher = "scrapyd"\n'
                f"scrapyd_urls = {json.dumps([w.url for w in workers])}\n" + TOML_ONLY
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERWATCH_")}
            env["CLUSTERWATCH_CONFIG"] = str(config_file)
            deployed = subprocess.run(
                [sys.executable, "-m", "monitor.cli", "workers", "deploy"],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert deployed.returncode == 0, deployed.stderr[-2000:] + deployed.stdout[-2000:]
            yield Cluster(
                tmp,
                database_url,
                replay,
                workers,
                config_file,
                Repository(database_url),
                deployed.stdout,
            )
        finally:
            for worker in workers:
                worker.kill()


def _overlaps(runs: list[CrawlRun]) -> list[tuple[int, int]]:
    """Pairs of runs of which the later started before the earlier finished."""
    never = datetime.max.replace(tzinfo=UTC)
    spans = sorted((r.started_at, r.finished_at or never, r.id) for r in runs)
    return [(a[2], b[2]) for a, b in pairwise(spans) if b[0] < a[1]]


def test_the_egg_carries_the_toml_sources_to_every_worker(cluster: Cluster) -> None:
    for worker in cluster.workers:
        assert worker.url in cluster.deploy_output
        spiders = worker.spiders()
        assert set(SOURCES) <= set(spiders)
        assert "toml_only" in spiders  # only in the TOML: the egg carried it


def test_run_crawls_every_source_on_the_workers(cluster: Cluster) -> None:
    """`clusterwatch run`: catch-up at start dispatches every source to some worker."""
    port = _free_port()
    service_file = cluster.tmp / "service.toml"
    service_file.write_text(
        f'mirror = "{cluster.replay.url}"\nhttp_port = {port}\njitter_seconds = 0\n'
        f'data_dir = "{cluster.tmp / "service"}"\n' + cluster.config_file.read_text()
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERWATCH_")}
    env["CLUSTERWATCH_CONFIG"] = str(service_file)
    service = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run"],
        cwd=cluster.tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(cluster.tmp / "service.err").open("wb"),
    )
    try:

        def all_finished() -> bool:
            if service.poll() is not None:
                pytest.fail((cluster.tmp / "service.err").read_text()[-3000:])
            runs = cluster.runs()
            return {r.spider for r in runs if r.finish_reason == "finished"} >= set(SOURCES)

        wait_for(all_finished, 150, "a finished run of every source")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(60)
    runs = [r for r in cluster.runs() if r.spider in SOURCES]
    workers = {w.url for w in cluster.workers}
    for run in runs:
        assert run.launcher == "scrapyd" and run.job_id, run.id
        assert run.worker in workers
        assert run.finish_reason == "finished", (run.spider, run.finish_reason)
        stored = run.items_new + run.items_duplicate + run.items_irrelevant
        assert stored > 0, (run.spider, run.requests, run.errors, run.stats)
    # Four sources, two slots per worker, dispatched at once: both workers took some.
    assert {r.worker for r in runs} == workers
    for source in SOURCES:
        assert not _overlaps([r for r in runs if r.spider == source])
    # Health and status read remote runs like local ones.
    status = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "status", "--format", "json"],
        cwd=cluster.tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(status.stdout)
    assert status.returncode in (0, 1), status.stderr
    assert {s["source"] for s in report["sources"]} >= set(SOURCES)

    # The log of a remote run, through `clusterwatch log`, from the worker that ran it.
    run = runs[0]
    shown = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "log", str(run.id)],
        cwd=cluster.tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert f"crawl run {run.id} of {run.spider}" in shown.stdout
    assert "Spider closed (finished)" in shown.stdout


def _requests_during(server: ReplayServer, action: Callable[[], None]) -> list[LoggedRequest]:
    before = len(server.log)
    action()
    return server.log[before:]


def _run_once(cluster: Cluster, source: str, config: Config, timeout: float) -> CrawlRun:
    """One scheduled run of ``source`` (catch-up at start) through the scheduler."""
    known = {r.id for r in cluster.runs(source)}
    spec = config.source_specs()[source]
    scheduler = CrawlScheduler(config, [spec], cluster.repository, kill_grace_seconds=3)
    scheduler.start()
    scheduler.run_now(source)
    try:

        def finished() -> CrawlRun | None:
            new = [r for r in cluster.runs(source) if r.id not in known]
            return next((r for r in new if r.finished_at is not None), None)

        run = wait_for(finished, timeout, f"a recorded run of {source}")
    finally:
        scheduler.hurry()
        scheduler.shutdown()
    return run


def test_recrawl_on_the_other_worker_makes_only_conditional_requests(cluster: Cluster) -> None:
    source = "clib"
    last = cluster.runs(source)[-1]
    other = next(w for w in cluster.workers if w.url != last.worker)
    spider = spider_classes()[source]()
    requests = _requests_during(
        cluster.replay,
        lambda: _run_once(cluster, source, cluster.config(scrapyd_urls=[other.url]), 90),
    )
    run = cluster.runs(source)[-1]
    assert run.worker == other.url and run.finish_reason == "finished"
    assert not [e.url for e in requests if spider.is_article_url(e.url)]
    entry = [e for e in requests if e.host in spider.hosts and e.path != "/robots.txt"]
    assert entry
    for request in entry:
        assert request.conditional, f"{request.url} sent no validator"
        assert request.status == 304, f"{request.url} answered {request.status}"


def test_hung_crawl_is_cancelled_and_recorded(cluster: Cluster) -> None:
    stall = Stall()
    try:
        config = cluster.config(mirror=stall.url, crawl_timeout_minutes=0.15)
        run = _run_once(cluster, "bmwe", config, 90)
    finally:
        stall.close()
    assert run.finish_reason == "killed"
    assert run.launcher == "scrapyd" and run.job_id
    # The worker no longer has the job.
    state = _get(f"{run.worker}/status.json?job={run.job_id}&project={PROJECT}")
    assert state["currstate"] in ("finished", None)


def test_a_slow_schedule_answer_does_not_start_the_job_twice(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker takes longer to answer schedule.json than the launcher waits (it lists the
    # spiders first): the job is queued there all the same and must go nowhere else.
    from db.coordination import Coordination
    from monitor.launchers import Dispatch
    from monitor.launchers import scrapyd as launchers

    monkeypatch.setattr(launchers, "SCHEDULE_TIMEOUT", 0.001)
    launcher = launchers.ScrapydLauncher(cluster.config(), Coordination(cluster.database_url))
    job = launcher.start(Dispatch(("clusterplattform",), "scheduled", "slow-answer-job"))
    assert job is not None
    try:
        holding = [
            w.url
            for w in cluster.workers
            if _get(f"{w.url}/status.json?job=slow-answer-job&project={PROJECT}")["currstate"]
        ]
        assert holding == [job.worker]
    finally:
        launcher.cancel(job, force=True)
        wait_for(lambda: launcher.ended(job), 60, "the cancelled job to end")


def test_killed_worker_leaves_a_failed_run_and_the_other_completes(cluster: Cluster) -> None:
    source = "openpr"
    articles_before = {a.canonical_url for a in cluster.repository.articles(source)}
    stall = Stall()
    victim_url: list[str] = []
    try:
        config = cluster.config(mirror=stall.url, crawl_timeout_minutes=5)
        known = {r.id for r in cluster.runs(source)}
        scheduler = CrawlScheduler(
            config, [config.source_specs()[source]], cluster.repository, kill_grace_seconds=3
        )
        scheduler.start()
        scheduler.run_now(source)
        try:

            def started() -> CrawlRun | None:
                new = [r for r in cluster.runs(source) if r.id not in known and r.worker]
                return new[0] if new else None

            running = wait_for(started, 60, "the crawl to start on a worker")
            victim = next(w for w in cluster.workers if w.url == running.worker)
            victim_url.append(victim.url)
            victim.kill()

            def recorded() -> CrawlRun | None:
                run = cluster.repository.run(running.id)
                return run if run is not None and run.finished_at is not None else None

            failed = wait_for(recorded, 60, "the lost run to be recorded")
        finally:
            scheduler.hurry()
            scheduler.shutdown()
    finally:
        stall.close()
    assert failed.finish_reason == "worker lost"
    # The next run goes to the worker that is left and completes the picture.
    survivor = next(w for w in cluster.workers if w.url != victim_url[0])
    run = _run_once(cluster, source, cluster.config(), 90)
    assert run.worker == survivor.url and run.finish_reason == "finished"
    articles = cluster.repository.articles(source)
    urls = [a.canonical_url for a in articles]
    assert len(urls) == len(set(urls))
    assert set(urls) >= articles_before
