"""The scheduler: crawls every enabled source on its interval, each run its own process.

Each run is a separate ``scrapy crawl`` process because Twisted's reactor cannot be restarted
in one process, and so a crashing or leaking spider cannot take the service down (DESIGN.md).
APScheduler 3 provides the clock: one interval job per source with ``max_instances=1`` (never
two runs of one source at once) and ``coalesce=True`` (missed runs collapse into one). The job
thread blocks until its crawl process ends, which is what makes ``max_instances`` hold.

Every outcome ends up in ``crawl_runs``: the crawl process records its own row (the
``CrawlLog`` extension); when the scheduler has to kill a hung crawl, or a process dies
without closing its row, the scheduler closes (or creates) the row itself so nothing is
silently lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from db.models import CrawlRun
from db.repository import Repository
from scraper.config import CONFIG_ENV, Config, config_path
from scraper.extensions import HOST_STAT, PROCESS_STAT, process_identity

logger = logging.getLogger(__name__)

TRIGGER_ENV = "CLUSTERWATCH_TRIGGER"  # read by scraper.extensions.CrawlLog
TRIGGER_SCHEDULED = "scheduled"
TRIGGER_STARTUP = "startup"

REASON_KILLED = "killed"  # hung past the timeout, or needed SIGKILL
REASON_SHUTDOWN = "shutdown"  # what Scrapy itself records after a graceful SIGTERM
REASON_CRASHED = "crashed"  # the process died without closing its run
REASON_INTERRUPTED = "interrupted"  # left open by a process that is gone (found at start)

FEEDS_JOB_ID = "feeds"
DEAD_RUNS_JOB_ID = "dead-runs"
DEAD_RUNS_SECONDS = 60.0  # how often the service looks for runs left open by dead processes

CommandFor = Callable[[str], list[str]]
RunFinishedHook = Callable[[str], None]
FeedsHook = Callable[[], None]


class ScheduledSource(Protocol):
    """What the scheduler needs of a source (``scraper.sources.SourceSpec`` fits)."""

    @property
    def name(self) -> str: ...

    @property
    def interval_minutes(self) -> float: ...

    @property
    def enabled(self) -> bool: ...


def scrapy_command(source: str) -> list[str]:
    """The real crawl: ``python -m scrapy crawl SOURCE`` with the service's interpreter."""
    return [sys.executable, "-m", "scrapy", "crawl", source]


def crawl_environment(config: Config, trigger: str, config_file: Path | None) -> dict[str, str]:
    """The caller's environment for a ``scrapy crawl`` child, pinned to the caller's config.

    The crawl runs in the project root, so relative paths and ./clusterwatch.toml would
    otherwise resolve differently there than in the caller.
    """
    env = dict(os.environ)
    env[TRIGGER_ENV] = trigger
    env["SCRAPY_SETTINGS_MODULE"] = "scraper.settings"
    env["CLUSTERWATCH_DATA_DIR"] = str(config.data_dir.resolve())
    env["CLUSTERWATCH_DATABASE_URL"] = config.db_url
    if config.mirror:
        env["CLUSTERWATCH_MIRROR"] = config.mirror
    if config_file is not None:
        env[CONFIG_ENV] = str(config_file.resolve())
    return env


def project_root() -> Path:
    """The folder holding scrapy.cfg (a source checkout); else the current directory.

    An installed package has no scrapy.cfg; SCRAPY_SETTINGS_MODULE is set for that case.
    """
    root = Path(__file__).resolve().parents[1]
    return root if (root / "scrapy.cfg").is_file() else Path.cwd()


@dataclass
class _Crawl:
    source: str
    trigger: str
    process: subprocess.Popen[bytes]
    launched_at: datetime
    started: float  # monotonic


class CrawlScheduler:
    def __init__(
        self,
        config: Config,
        sources: Sequence[ScheduledSource],
        repository: Repository | None = None,
        *,
        command_for: CommandFor = scrapy_command,
        on_run_finished: RunFinishedHook | None = None,
        rebuild_feeds: FeedsHook | None = None,
        kill_grace_seconds: float = 20.0,
        poll_seconds: float = 0.5,
        cwd: Path | None = None,
        dead_runs_seconds: float = DEAD_RUNS_SECONDS,
    ):
        self.config = config
        self.sources = [s for s in sources if s.enabled]
        self.repository = repository or Repository(config.db_url)
        self.command_for = command_for
        self.on_run_finished = on_run_finished
        self.rebuild_feeds = rebuild_feeds
        self.kill_grace_seconds = kill_grace_seconds
        self.poll_seconds = poll_seconds
        self.dead_runs_seconds = dead_runs_seconds
        self.cwd = cwd or project_root()
        self.timeout_seconds = config.crawl_timeout_minutes * 60
        self._config_file = config_path()
        self._running: dict[str, _Crawl] = {}
        self._catch_up: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._hurry = threading.Event()  # a second stop request: skip the grace period
        # One worker per source (each blocks on its crawl) plus the feed job.
        workers = ThreadPoolExecutor(max_workers=len(self.sources) + 2)
        self._scheduler = BackgroundScheduler(timezone=UTC, executors={"default": workers})

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        now = datetime.now(UTC)
        for source in self.sources:
            self._add_crawl_job(source, now)
        if self.rebuild_feeds is not None:
            every = self.config.feed_rebuild_minutes * 60
            self._scheduler.add_job(
                self._feeds_job,
                IntervalTrigger(seconds=every, timezone=UTC),
                id=FEEDS_JOB_ID,
                name="rebuild feeds",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(every)),
            )
        self._scheduler.add_job(
            self._dead_runs_job,
            IntervalTrigger(seconds=self.dead_runs_seconds, timezone=UTC),
            id=DEAD_RUNS_JOB_ID,
            name="close runs of dead processes",
            max_instances=1,
            coalesce=True,
        )
        catching_up = len(self._catch_up)  # counted first: the jobs start taking them at once
        self._scheduler.start()
        logger.info(
            "scheduler started: %d sources, %d catching up now", len(self.sources), catching_up
        )

    def shutdown(self) -> None:
        """No new runs; running crawls get SIGTERM (SIGKILL after the grace) and are recorded."""
        with self._lock:
            self._stopping.set()  # under the lock: no crawl launches after this point
            running = sorted(self._running)
        if running:
            logger.info("stopping; terminating running crawls: %s", ", ".join(running))
        if self._scheduler.running:
            # Waits for the job threads, which terminate and record their own crawls.
            self._scheduler.shutdown(wait=True)

    def hurry(self) -> None:
        """Kill running crawls at once instead of waiting out the grace period."""
        self._hurry.set()

    @property
    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def next_run_time(self, source: str) -> datetime | None:
        job = self._scheduler.get_job(_job_id(source))
        return None if job is None else job.next_run_time

    # -- jobs -----------------------------------------------------------------------------

    def _add_crawl_job(self, source: ScheduledSource, now: datetime) -> None:
        interval = timedelta(minutes=source.interval_minutes)
        self._scheduler.add_job(
            self._crawl_job,
            IntervalTrigger(
                seconds=interval.total_seconds(), jitter=self.config.jitter_seconds, timezone=UTC
            ),
            args=[source.name],
            id=_job_id(source.name),
            name=f"crawl {source.name}",
            max_instances=1,
            coalesce=True,
            # A run that is late (busy machine, suspended laptop) still happens, once, as long
            # as it is not a whole interval late; then the next regular run covers it.
            misfire_grace_time=max(1, int(interval.total_seconds())),
            next_run_time=self._first_run_time(source.name, interval, now),
        )

    def _first_run_time(self, source: str, interval: timedelta, now: datetime) -> datetime:
        """Now (catch-up) for a source that never ran, is overdue, or whose last run did not
        finish successfully (stopped by a shutdown, interrupted, killed, crashed); else when
        it is due."""
        last = self.repository.last_run(source)
        if last is None or last.finish_reason != "finished" or last.started_at + interval <= now:
            self._catch_up.add(source)
            return now
        return last.started_at + interval

    def _crawl_job(self, source: str) -> None:
        trigger = TRIGGER_STARTUP if self._take_catch_up(source) else TRIGGER_SCHEDULED
        crawl = self._launch(source, trigger)
        if crawl is None:
            return
        try:
            outcome, forced = self._wait(crawl)
            self._record(crawl, outcome, forced)
        finally:
            with self._lock:
                self._running.pop(source, None)
        if not self._stopping.is_set():
            # Skipped while stopping: the service rebuilds feeds on its next start anyway.
            self._call(self.on_run_finished, source)

    def _feeds_job(self) -> None:
        if not self._stopping.is_set():
            self._call(self.rebuild_feeds)

    def _dead_runs_job(self) -> None:
        if self._stopping.is_set():
            return
        with self._lock:  # our own crawls are recorded by their job threads
            ours = [crawl.process.pid for crawl in self._running.values()]
        try:
            closed = close_dead_runs(self.repository, self.timeout_seconds, spare=ours)
        except Exception:
            logger.exception("could not close the runs of dead processes")
            return
        for run in closed:
            logger.warning(
                "%s: run %d (pid %s) was left unfinished by a dead process: recorded as "
                "interrupted",
                run.spider,
                run.id,
                run.pid,
            )

    def _take_catch_up(self, source: str) -> bool:
        with self._lock:
            if source in self._catch_up:
                self._catch_up.discard(source)
                return True
            return False

    # -- one crawl process ------------------------------------------------------------------

    def _launch(self, source: str, trigger: str) -> _Crawl | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            if self._running_elsewhere(source):
                logger.warning(
                    "%s: a crawl started outside the scheduler is running; skipped", source
                )
                return None
            launched_at = datetime.now(UTC)
            process = subprocess.Popen(
                self.command_for(source),
                cwd=self.cwd,
                env=self._environment(trigger),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # every run writes its own log file
                stderr=subprocess.DEVNULL,
                # Own process group: a Ctrl-C in the terminal reaches only the service, which
                # then stops its crawls in order (and we can signal the whole group).
                start_new_session=True,
            )
            crawl = _Crawl(source, trigger, process, launched_at, time.monotonic())
            self._running[source] = crawl
        logger.info("%s: crawl started (pid %d, %s)", source, process.pid, trigger)
        return crawl

    def _running_elsewhere(self, source: str) -> bool:
        """Is a hand-started crawl of this source alive? (Never two runs of one source.)"""
        recent = datetime.now(UTC) - timedelta(seconds=self.timeout_seconds)
        for run in self.repository.unfinished_runs(source):
            alive = _process_alive(run.pid, (run.stats or {}).get(PROCESS_STAT))
            if run.pid and run.started_at >= recent and alive:
                return True
        return False

    def _environment(self, trigger: str) -> dict[str, str]:
        return crawl_environment(self.config, trigger, self._config_file)

    def _wait(self, crawl: _Crawl) -> tuple[str, bool]:
        """Wait for the crawl to end; returns (exited|timeout|shutdown, needed SIGKILL)."""
        deadline = crawl.started + self.timeout_seconds
        while True:
            try:
                crawl.process.wait(timeout=self.poll_seconds)
                return "exited", False
            except subprocess.TimeoutExpired:
                pass
            if self._stopping.is_set():
                return "shutdown", self._terminate(crawl)
            if time.monotonic() >= deadline:
                logger.warning(
                    "%s: crawl (pid %d) still running after %.0f s; killing it",
                    crawl.source,
                    crawl.process.pid,
                    self.timeout_seconds,
                )
                return "timeout", self._terminate(crawl)

    def _terminate(self, crawl: _Crawl) -> bool:
        """SIGTERM (Scrapy then closes gracefully), SIGKILL after the grace; True if killed."""
        _signal_group(crawl.process, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_grace_seconds
        while time.monotonic() < deadline and not self._hurry.is_set():
            try:
                crawl.process.wait(timeout=min(0.1, self.kill_grace_seconds))
                return False
            except subprocess.TimeoutExpired:
                continue
        if crawl.process.poll() is not None:
            return False
        _signal_group(crawl.process, signal.SIGKILL)
        crawl.process.wait()
        return True

    # -- recording ------------------------------------------------------------------------

    def _record(self, crawl: _Crawl, outcome: str, forced: bool) -> None:
        """Make the run's outcome visible in crawl_runs when the process could not."""
        code = crawl.process.returncode
        logger.info(
            "%s: crawl ended (%s, exit code %s, %.1f s)",
            crawl.source,
            outcome,
            code,
            time.monotonic() - crawl.started,
        )
        try:
            run = self._run_of(crawl)
            reason = _reason_to_record(run, outcome, forced, code)
            if reason is not None:
                self._close_run(crawl, run, reason)
        except Exception:
            logger.exception("%s: could not record the crawl's outcome", crawl.source)

    def _run_of(self, crawl: _Crawl) -> CrawlRun | None:
        # A second of slack: the row's timestamp comes from the child, ours from before Popen.
        since = crawl.launched_at - timedelta(seconds=1)
        return self.repository.run_of_process(crawl.source, crawl.process.pid, since)

    def _close_run(self, crawl: _Crawl, run: CrawlRun | None, reason: str) -> None:
        if run is None:
            # Died before creating its row: create one so the failure shows in the crawl log.
            run_id = self.repository.start_run(crawl.source, crawl.trigger, None, crawl.process.pid)
            self.repository.finish_run(run_id, finish_reason=reason)
        elif run.finished_at is None:
            self.repository.finish_run(run.id, finish_reason=reason)
        else:
            # Scrapy closed gracefully on our SIGTERM, but the run was killed for hanging.
            self.repository.update_run(run.id, finish_reason=reason)
        logger.warning("%s: crawl recorded as %s", crawl.source, reason)

    @staticmethod
    def _call(hook: Callable[..., None] | None, *args: str) -> None:
        if hook is None:
            return
        try:
            hook(*args)
        except Exception:
            # A failing hook (feed build, alert) must not stop the schedule.
            logger.exception("scheduler hook %s failed", getattr(hook, "__name__", hook))


def _reason_to_record(
    run: CrawlRun | None, outcome: str, forced: bool, code: int | None
) -> str | None:
    """The finish_reason the scheduler must write, or None when the run's row is right."""
    if outcome == "timeout":
        if run is None or run.finished_at is None or run.finish_reason == REASON_SHUTDOWN:
            return REASON_KILLED
        return None  # it finished by itself just before the kill
    if run is not None and run.finished_at is not None:
        return None
    if outcome == "shutdown":
        return REASON_KILLED if forced else REASON_SHUTDOWN
    if run is None and code == 0:
        return None  # a command that keeps no crawl log (e.g. its extension is off)
    return REASON_CRASHED


def close_dead_runs(
    repository: Repository,
    timeout_seconds: float,
    now: datetime | None = None,
    spare: Iterable[int] = (),
) -> list[CrawlRun]:
    """Close runs left unfinished by a process that is gone, as ``interrupted``.

    A run of this machine is dead when its process is — the pid gone, or taken by another
    process since (the process identity recorded by the crawl differs: pids are reused,
    after a container restart at once); a run of any machine (a shared PostgreSQL) when it
    is older than the crawl timeout, after which the scheduler would have killed it.
    ``spare``: pids the caller is waiting for itself (it records their end). Called at
    service start, before the first crawl, and every minute while the service runs, so a
    crawl killed outside the scheduler (``kill -9`` of a hand-started ``scrapy crawl``) is
    closed too.
    """
    now = now or datetime.now(UTC)
    oldest_alive = now - timedelta(seconds=timeout_seconds)
    here = socket.gethostname()
    spared = set(spare)
    closed = []
    for run in repository.unfinished_runs():
        if run.pid is not None and run.pid in spared:
            continue
        stats = run.stats or {}
        local = stats.get(HOST_STAT, here) == here
        dead = local and not _process_alive(run.pid, stats.get(PROCESS_STAT))
        if dead or run.started_at < oldest_alive:
            repository.finish_run(run.id, finish_reason=REASON_INTERRUPTED, finished_at=now)
            closed.append(run)
    return closed


def _process_alive(pid: int | None, identity: str | None) -> bool:
    """Is the process that recorded a run still running (the same process, not a reuse)?"""
    if pid is None or not _pid_alive(pid):
        return False
    if identity is None:
        return True  # recorded before its identity was (or no /proc): the pid must do
    current = process_identity(pid)
    return current is None or current == identity


def _job_id(source: str) -> str:
    return f"crawl:{source}"


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, sig)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
