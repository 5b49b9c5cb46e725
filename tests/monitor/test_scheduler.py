"""The scheduler on an accelerated clock: intervals of seconds, a fake crawl process.

The fake crawl is a small script that records its run through ``Repository`` as the real
``CrawlLog`` extension does, and appends start/end events (with wall-clock times) to a file,
so the tests can check what the scheduler did from the outside. Its behaviour per source
(how long it runs, whether it ignores SIGTERM, …) comes from a JSON control file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import pytest

from db.migrate import upgrade
from db.repository import Repository
from monitor.scheduler import CrawlScheduler
from scraper.config import Config
from tests.conftest import REPO_ROOT
from tests.reliability import Recorder

T = TypeVar("T")

FAKE_CRAWL = """
import json, os, signal, sys, time

name, control, events_path = sys.argv[1], sys.argv[2], sys.argv[3]

def event(kind, **extra):
    record = {"source": name, "kind": kind, "t": time.time(), "pid": os.getpid(),
              "trigger": os.environ.get("CLUSTERWATCH_TRIGGER"), **extra}
    with open(events_path, "a") as out:
        out.write(json.dumps(record) + "\\n")

def earlier_starts():
    if not os.path.exists(events_path):
        return 0
    with open(events_path) as f:
        return sum(1 for line in f if '"kind": "start"' in line and f'"{name}"' in line)

behaviour = json.load(open(control)).get(name, {})
sleeps = behaviour.get("sleeps", [0.1])
sleep = sleeps[min(earlier_starts(), len(sleeps) - 1)]
event("start")
if behaviour.get("ignore_term"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if behaviour.get("exit_code"):
    sys.exit(behaviour["exit_code"])  # dies before it could record a run

sys.path.insert(0, REPO_ROOT)
from db.repository import Repository

repository = Repository(os.environ["CLUSTERWATCH_DATABASE_URL"])
run_id = repository.start_run(name, os.environ.get("CLUSTERWATCH_TRIGGER", "manual"),
                              None, os.getpid())

def graceful(signum, frame):  # what Scrapy does on SIGTERM
    repository.finish_run(run_id, finish_reason="shutdown")
    event("end", reason="shutdown")
    sys.exit(0)

if not behaviour.get("ignore_term"):
    signal.signal(signal.SIGTERM, graceful)
time.sleep(sleep)
repository.finish_run(run_id, finish_reason="finished", items_new=behaviour.get("items_new", 0))
event("end", reason="finished")
"""


@dataclass(frozen=True)
class Source:
    name: str
    interval_seconds: float
    enabled: bool = True
    hosts: tuple[str, ...] = ()

    @property
    def interval_minutes(self) -> float:
        return self.interval_seconds / 60


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Poll until ``predicate`` returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Harness:
    """A migrated database, the fake crawl, and schedulers that are always shut down."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.config = Config(
            data_dir=tmp_path / "data",
            jitter_seconds=0,
            crawl_timeout_minutes=1,
            feed_rebuild_minutes=10,
        )
        upgrade(self.config.db_url)
        self.repository = Repository(self.config.db_url)
        self.script = tmp_path / "fake_crawl.py"
        self.script.write_text(f"REPO_ROOT = {str(REPO_ROOT)!r}\n" + FAKE_CRAWL)
        self.control = tmp_path / "control.json"
        self.control.write_text("{}")
        self.events_path = tmp_path / "events.jsonl"
        self.finished: list[str] = []
        self.feed_builds = 0
        self.schedulers: list[CrawlScheduler] = []

    def behave(self, **behaviour: dict[str, Any]) -> None:
        self.control.write_text(json.dumps(behaviour))

    def command(self, source: str) -> list[str]:
        return [sys.executable, str(self.script), source, str(self.control), str(self.events_path)]

    def on_run_finished(self, source: str) -> None:
        self.finished.append(source)

    def rebuild_feeds(self) -> None:
        self.feed_builds += 1

    def scheduler(self, *sources: Source, **config: Any) -> CrawlScheduler:
        scheduler = CrawlScheduler(
            self.config.model_copy(update=config),
            sources,
            self.repository,
            command_for=self.command,
            on_run_finished=self.on_run_finished,
            rebuild_feeds=self.rebuild_feeds,
            kill_grace_seconds=1.0,
            poll_seconds=0.05,
        )
        self.schedulers.append(scheduler)
        return scheduler

    def events(self, source: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.events_path.exists():
            return []
        found = []
        for line in self.events_path.read_text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line being written right now
            if (source is None or event["source"] == source) and (
                kind is None or event["kind"] == kind
            ):
                found.append(event)
        return found

    def runs_of(self, source: str) -> list[Any]:
        return sorted(self.repository.runs(spider=source, limit=100), key=lambda r: r.id)

    def close(self) -> None:
        for scheduler in self.schedulers:
            scheduler.hurry()
            scheduler.shutdown()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


def spans(events: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """(start, end) per process, from its start and end events."""
    starts = {e["pid"]: e["t"] for e in events if e["kind"] == "start"}
    ends = {e["pid"]: e["t"] for e in events if e["kind"] == "end"}
    return sorted((starts[pid], ends[pid]) for pid in starts if pid in ends)


def test_runs_on_interval_and_calls_hooks(harness: Harness) -> None:
    scheduler = harness.scheduler(Source("alpha", 1.5), feed_rebuild_minutes=1 / 60)
    scheduler.start()

    wait_for(lambda: len(harness.events("alpha", "end")) >= 3, 15, "three runs of alpha")
    starts = [e["t"] for e in harness.events("alpha", "start")]
    gaps = [b - a for a, b in pairwise(starts)]
    # Never ran: the first run is the catch-up at start, the later ones follow the interval.
    assert [e["trigger"] for e in harness.events("alpha", "start")][:3] == [
        "startup",
        "scheduled",
        "scheduled",
    ]
    # One interval apart; two when a slow machine made a run outlast its tick (skipped).
    assert all(1.2 < gap < 3.4 for gap in gaps[:2]), gaps
    runs = harness.runs_of("alpha")
    assert [r.finish_reason for r in runs[:3]] == ["finished"] * 3
    wait_for(lambda: harness.finished.count("alpha") >= 3, 5, "on_run_finished per run")
    wait_for(lambda: harness.feed_builds >= 1, 5, "the periodic feed rebuild")


def test_never_two_runs_of_one_source_at_once(harness: Harness) -> None:
    # Each run lasts longer than the interval: the ticks in between must not start another.
    harness.behave(slow={"sleeps": [0.6]})
    scheduler = harness.scheduler(Source("slow", 1))
    scheduler.start()

    wait_for(lambda: len(harness.events("slow", "end")) >= 3, 20, "three runs of slow")
    runs = spans(harness.events("slow"))
    for (_, end), (next_start, _) in pairwise(runs):
        assert next_start >= end, f"overlapping runs: {runs}"


def test_two_schedulers_on_one_store_never_run_a_source_twice(harness: Harness) -> None:
    # Two services sharing the database (say, after a failover that left the old one up):
    # the claim in the store lets only one of them run the source at a time.
    harness.behave(shared={"sleeps": [0.8]})
    first = harness.scheduler(Source("shared", 1))
    second = harness.scheduler(Source("shared", 1))
    first.start()
    second.start()

    wait_for(lambda: len(harness.events("shared", "end")) >= 4, 25, "four runs of shared")
    runs = spans(harness.events("shared"))
    for (_, end), (next_start, _) in pairwise(runs):
        assert next_start >= end, f"overlapping runs: {runs}"


def test_one_domain_is_never_crawled_by_two_sources_at_once(harness: Harness) -> None:
    # Two sources on one site: politeness per domain holds across sources (and workers).
    harness.behave(north={"sleeps": [0.7]}, south={"sleeps": [0.7]})
    scheduler = harness.scheduler(
        Source("north", 1, hosts=("www.example.de",)),
        Source("south", 1, hosts=("WWW.example.de", "alias.example.de")),
    )
    scheduler.start()

    wait_for(
        lambda: min(len(harness.events(s, "end")) for s in ("north", "south")) >= 2,
        25,
        "two runs of each source",
    )
    runs = spans(harness.events())
    for (_, end), (next_start, _) in pairwise(runs):
        assert next_start >= end, f"one domain crawled twice at once: {runs}"


def test_missed_runs_coalesce_into_one(harness: Harness) -> None:
    # The first run spans two ticks; afterwards the runs must follow the 2 s rhythm, not
    # replay the missed ticks back to back (a burst would start runs ~1 s apart).
    harness.behave(burst={"sleeps": [3.5, 0.0]})
    scheduler = harness.scheduler(Source("burst", 2))
    scheduler.start()

    wait_for(lambda: len(harness.events("burst", "start")) >= 4, 20, "four runs of burst")
    runs = spans(harness.events("burst"))
    long_end = runs[0][1]
    starts = [e["t"] for e in harness.events("burst", "start")]
    assert starts[1] - long_end < 2.5  # the coalesced run: at the first tick after the long one
    gaps = [b - a for a, b in pairwise(starts[1:])]
    assert all(gap > 1.6 for gap in gaps), f"burst of queued runs: gaps {gaps}"


@pytest.mark.parametrize("ignores_sigterm", [False, True], ids=["graceful", "hung"])
def test_hung_crawl_is_killed_and_recorded(harness: Harness, ignores_sigterm: bool) -> None:
    harness.behave(hang={"sleeps": [60], "ignore_term": ignores_sigterm})
    scheduler = harness.scheduler(Source("hang", 600), crawl_timeout_minutes=2 / 60)
    started = time.monotonic()
    scheduler.start()

    # The hook comes after the scheduler recorded the kill.
    wait_for(lambda: harness.finished == ["hang"], 10, "on_run_finished after the kill")
    assert 2 <= time.monotonic() - started < 8
    [run] = harness.runs_of("hang")
    assert run.finish_reason == "killed" and run.finished_at is not None
    assert not _alive(run.pid)


def test_crawl_that_dies_before_recording_gets_a_run(harness: Harness) -> None:
    harness.behave(broken={"exit_code": 3})
    scheduler = harness.scheduler(Source("broken", 600))
    scheduler.start()

    # The scheduler creates the row, then closes it: wait for the closed row.
    run = wait_for(
        lambda: next((r for r in harness.runs_of("broken") if r.finished_at), None),
        10,
        "a recorded run",
    )
    assert (run.finish_reason, run.trigger) == ("crashed", "startup")
    assert run.finished_at is not None


def test_catch_up_on_start(harness: Harness) -> None:
    now = datetime.now(UTC)
    _recorded_run(harness.repository, "stale", now - timedelta(seconds=30))
    _recorded_run(harness.repository, "fresh", now - timedelta(seconds=1))
    scheduler = harness.scheduler(Source("stale", 3), Source("fresh", 3))
    started = time.time()
    scheduler.start()

    stale = wait_for(lambda: harness.events("stale", "start"), 5, "the stale source to run")
    assert stale[0]["trigger"] == "startup"
    assert stale[0]["t"] - started < 1.5  # at once, not after an interval
    due = scheduler.next_run_time("fresh")
    assert due is not None and abs((due - (now + timedelta(seconds=2))).total_seconds()) < 0.5
    fresh = wait_for(lambda: harness.events("fresh", "start"), 8, "the fresh source's run")
    # It waits until its interval has passed since its last run, then runs as scheduled.
    assert fresh[0]["trigger"] == "scheduled"
    assert fresh[0]["t"] >= (now - timedelta(seconds=1)).timestamp() + 3 - 0.1


@pytest.mark.parametrize(
    ("ignores_sigterm", "reason"), [(False, "shutdown"), (True, "killed")], ids=["graceful", "hung"]
)
def test_shutdown_terminates_running_crawls(
    harness: Harness, ignores_sigterm: bool, reason: str
) -> None:
    harness.behave(long={"sleeps": [60], "ignore_term": ignores_sigterm})
    scheduler = harness.scheduler(Source("long", 1))
    scheduler.start()
    wait_for(lambda: [r for r in harness.runs_of("long")], 10, "the crawl to start")

    started = time.monotonic()
    scheduler.shutdown()
    assert time.monotonic() - started < 5  # grace is 1 s
    runs = harness.runs_of("long")
    assert [(r.finish_reason, r.finished_at is not None) for r in runs] == [(reason, True)]
    assert not _alive(runs[0].pid)
    assert scheduler.running == []
    time.sleep(1.5)  # one interval: nothing starts after shutdown
    assert len(harness.events("long", "start")) == 1


def test_disabled_sources_are_not_scheduled(harness: Harness) -> None:
    scheduler = harness.scheduler(Source("off", 1, enabled=False))
    scheduler.start()
    assert scheduler.next_run_time("off") is None


@pytest.mark.e2e
def test_real_scheduled_crawl_against_replay(
    harness: Harness, replay: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The real ``scrapy crawl`` launched by the scheduler sees the service's environment."""
    monkeypatch.setenv("CLUSTERWATCH_MIRROR", replay.url)
    monkeypatch.setenv("CLUSTERWATCH_DATA_DIR", str(tmp_path / "data"))
    config = Config(jitter_seconds=0)
    assert config.db_url == harness.config.db_url
    # A run a moment ago: no catch-up, so the next run is a regular scheduled one.
    _recorded_run(harness.repository, "bmwe", datetime.now(UTC))
    finished: list[str] = []
    scheduler = CrawlScheduler(
        config, [Source("bmwe", 2)], harness.repository, on_run_finished=finished.append
    )
    harness.schedulers.append(scheduler)
    scheduler.start()

    wait_for(lambda: finished, 40, "the scheduled crawl to finish")
    run = harness.runs_of("bmwe")[-1]
    assert (run.trigger, run.finish_reason) == ("scheduled", "finished")
    assert run.items_new > 0 and run.pid is not None
    assert run.log_path and Path(run.log_path).is_file()
    assert any(entry.host for entry in replay.log)  # it crawled the mirror, not the web


def _recorded_run(repository: Repository, source: str, started_at: datetime) -> None:
    run_id = repository.start_run(source, "manual", None, None)
    repository.finish_run(run_id, finish_reason="finished")
    repository.update_run(run_id, started_at=started_at)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- restart safety ----------------------------------------------------------------------------


def test_a_source_whose_last_run_was_stopped_is_caught_up_at_once(harness: Harness) -> None:
    # SIGTERM during the start-up crawls: the runs say "shutdown" although they are recent.
    now = datetime.now(UTC)
    for source, reason in (("stopped", "shutdown"), ("killed", "killed"), ("fine", "finished")):
        run_id = harness.repository.start_run(source, "startup", None, None)
        harness.repository.finish_run(run_id, finish_reason=reason)
        harness.repository.update_run(run_id, started_at=now - timedelta(seconds=1))
    scheduler = harness.scheduler(Source("stopped", 60), Source("killed", 60), Source("fine", 60))
    started = time.time()
    scheduler.start()
    for source in ("stopped", "killed"):
        first = wait_for(lambda s=source: harness.events(s, "start"), 5, f"{source} to catch up")
        assert first[0]["trigger"] == "startup" and first[0]["t"] - started < 1.5
    due = scheduler.next_run_time("fine")
    assert due is not None and due > datetime.now(UTC) + timedelta(seconds=50)


def test_runs_left_open_by_a_dead_process_are_closed_as_interrupted(harness: Harness) -> None:
    from monitor.scheduler import close_dead_runs

    repository = harness.repository
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = repository.start_run("alpha", "scheduled", None, dead.pid)
    no_pid = repository.start_run("beta", "scheduled", None, None)
    alive = repository.start_run("gamma", "manual", None, os.getpid())  # a crawl still running
    old = repository.start_run("delta", "scheduled", None, os.getpid())
    # Another machine's run (shared PostgreSQL): its process cannot be checked here …
    elsewhere = repository.start_run("epsilon", "scheduled", None, dead.pid)
    repository.update_run(elsewhere, stats={"clusterwatch/host": "other-host"})
    # … but nothing runs longer than the crawl timeout (1 minute in the harness).
    repository.update_run(old, started_at=datetime.now(UTC) - timedelta(minutes=2))

    closed = close_dead_runs(repository, harness.config.crawl_timeout_minutes * 60)
    assert sorted(run.id for run in closed) == sorted([orphan, no_pid, old])
    for run_id in (orphan, no_pid, old):
        run = repository.run(run_id)
        assert run is not None and run.finish_reason == "interrupted" and run.finished_at
    for run_id in (alive, elsewhere):
        run = repository.run(run_id)
        assert run is not None and run.finished_at is None


def test_remote_runs_are_closed_when_their_worker_no_longer_has_the_job(harness: Harness) -> None:
    from monitor.scheduler import close_dead_runs

    repository = harness.repository
    gone = repository.start_run("alpha", "scheduled", None, 4242)
    running = repository.start_run("beta", "scheduled", None, 4242)
    for run_id, job in ((gone, "job-gone"), (running, "job-running")):
        # The pid is the worker's, meaningless here: only the worker can say.
        repository.update_run(run_id, launcher="scrapyd", worker="http://worker:6800", job_id=job)
    asked: list[str | None] = []

    def alive(run: Any) -> bool:
        asked.append(run.job_id)
        return bool(run.job_id == "job-running")

    closed = close_dead_runs(repository, 3600, remote_alive=alive)
    assert [run.id for run in closed] == [gone]
    assert sorted(asked) == ["job-gone", "job-running"]
    still = repository.run(running)
    assert still is not None and still.finished_at is None


def test_a_reused_pid_does_not_keep_a_dead_run_open(
    harness: Harness, reliability: Recorder
) -> None:
    """After a container restart the same small pids come back: a run whose pid is alive
    but belongs to another process now (its recorded identity differs) is dead."""
    from monitor.scheduler import close_dead_runs
    from scraper.extensions import PROCESS_STAT, process_identity

    repository = harness.repository
    reused = repository.start_run("alpha", "scheduled", None, os.getpid())
    repository.update_run(reused, stats={PROCESS_STAT: "another-boot:12345"})
    ours = repository.start_run("beta", "scheduled", None, os.getpid())
    repository.update_run(ours, stats={PROCESS_STAT: process_identity(os.getpid())})

    closed = close_dead_runs(repository, harness.config.crawl_timeout_minutes * 60)
    assert [run.id for run in closed] == [reused]
    still = repository.run(ours)
    assert still is not None and still.finished_at is None
    reliability.record(
        "crash", "run whose pid was reused by another process", "closed as interrupted"
    )


def test_a_crawl_killed_outside_the_scheduler_is_closed_while_the_service_runs(
    harness: Harness, reliability: Recorder
) -> None:
    """A hand-started crawl killed with -9 while the service runs: closed within the
    dead-runs interval, not only at the next service start."""
    from scraper.extensions import PROCESS_STAT, process_identity

    repository = harness.repository
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    run_id = repository.start_run("alpha", "manual", None, victim.pid)
    repository.update_run(run_id, stats={PROCESS_STAT: process_identity(victim.pid)})
    scheduler = CrawlScheduler(
        harness.config, [], repository, command_for=harness.command, dead_runs_seconds=0.3
    )
    harness.schedulers.append(scheduler)
    scheduler.start()
    time.sleep(1)
    run = repository.run(run_id)
    assert run is not None and run.finished_at is None  # alive: left alone
    victim.kill()
    victim.wait()
    wait_for(
        lambda: (repository.run(run_id) or run).finish_reason == "interrupted",
        10,
        "the killed crawl's run to be closed",
    )
    reliability.record(
        "crash",
        "kill -9 of a hand-started crawl while the service runs",
        "closed as interrupted within the service's dead-runs check",
    )


def test_threads_stay_bounded_over_many_group_runs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group runs reuse the scheduler's threads: over 60 runs (≥ 20 groups) it starts no more
    threads than its pools hold, not one per group — every new thread may take a malloc
    arena of its own, and the service's memory grew with each run (issue 11)."""
    started: list[str] = []
    start = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    true = shutil.which("true") or "/bin/true"
    sources = [Source(name, 0.5) for name in ("alpha", "beta", "gamma")]
    scheduler = CrawlScheduler(
        harness.config.model_copy(update={"crawl_group_wait_seconds": 0.2}),
        sources,
        harness.repository,
        command_for=lambda source: [true],
        group_command_for=lambda names: [true],  # due together: one process, as the service
        on_run_finished=harness.on_run_finished,
        poll_seconds=0.05,
    )
    harness.schedulers.append(scheduler)
    scheduler.start()
    wait_for(lambda: len(harness.finished) >= 60, 50, "60 runs")
    # The clock's thread, APScheduler's workers (sources + 2), the supervisors (2 × sources
    # + 1), each started at most once; one group per run would be ≥ 20 more.
    assert len(started) <= 1 + (len(sources) + 2) + (2 * len(sources) + 1), started
    assert len(harness.finished) >= 60
