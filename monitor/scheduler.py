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

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from db.coordination import Coordination, domain_key, next_key, source_key
from db.models import CrawlRun
from db.repository import Repository
from monitor.launchers import Dispatch, Job, Launcher, launcher_for
from monitor.launchers.local import CommandFor, GroupCommandFor, pid_alive, scrapy_command
from scraper.config import Config, config_path
from scraper.extensions import HOST_STAT, PROCESS_STAT, process_identity

logger = logging.getLogger(__name__)

TRIGGER_SCHEDULED = "scheduled"
TRIGGER_STARTUP = "startup"

REASON_KILLED = "killed"  # hung past the timeout, or needed SIGKILL
REASON_SHUTDOWN = "shutdown"  # what Scrapy itself records after a graceful SIGTERM
REASON_CRASHED = "crashed"  # the process died without closing its run
REASON_INTERRUPTED = "interrupted"  # left open by a process that is gone (found at start)
REASON_WORKER_LOST = "worker lost"  # the Scrapyd worker stopped answering mid-run

FEEDS_JOB_ID = "feeds"
DEAD_RUNS_JOB_ID = "dead-runs"
DEAD_RUNS_SECONDS = 60.0  # how often the service looks for runs left open by dead processes
WAIT_SECONDS = 0.25  # between tries for a busy domain or a free worker slot

RunFinishedHook = Callable[[str], None]
FeedsHook = Callable[[], None]
RunAlive = Callable[[CrawlRun], bool]
GROUP_JOIN_SECONDS = 0.5  # for a source falling due to reach its group
GROUP_POLL_SECONDS = 0.05
CRAWL_JOB_PREFIX = "crawl:"
MEMBER_POLL_SECONDS = 1.0  # a group member looks this often whether its own run has finished


@dataclass
class _Group:
    """Sources due together, dispatched as one crawl process (one source when ungrouped)."""

    trigger: str
    job_id: str  # the dispatch's: its first member's
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    sources: list[str] = field(default_factory=list)
    full: threading.Event = field(default_factory=threading.Event)
    dispatched: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    job: Job | None = None
    outcome: str = "exited"  # exited | timeout | shutdown
    forced: bool = False  # it needed a kill


class _Executor(ThreadPoolExecutor):
    """APScheduler's thread pool, telling the scheduler which job it has just been handed."""

    def __init__(self, on_submit: Callable[[str, bool], None], max_workers: int):
        super().__init__(max_workers=max_workers)
        self._on_submit = on_submit

    def submit_job(self, job: Any, run_times: Any) -> None:
        self._on_submit(job.id, True)
        try:
            super().submit_job(job, run_times)
        except BaseException:
            self._on_submit(job.id, False)  # not run (still running: max_instances)
            raise


class ScheduledSource(Protocol):
    """What the scheduler needs of a source (``scraper.sources.SourceSpec`` fits; its
    ``hosts``, when it has them, are the domains it claims while it runs)."""

    @property
    def name(self) -> str: ...

    @property
    def interval_minutes(self) -> float: ...

    @property
    def enabled(self) -> bool: ...


class CrawlScheduler:
    def __init__(
        self,
        config: Config,
        sources: Sequence[ScheduledSource],
        repository: Repository | None = None,
        *,
        command_for: CommandFor = scrapy_command,
        group_command_for: GroupCommandFor | None = None,
        on_run_finished: RunFinishedHook | None = None,
        rebuild_feeds: FeedsHook | None = None,
        kill_grace_seconds: float = 20.0,
        poll_seconds: float = 0.5,
        cwd: Path | None = None,
        launcher: Launcher | None = None,
        dead_runs_seconds: float = DEAD_RUNS_SECONDS,
    ):
        self.config = config
        self.sources = [s for s in sources if s.enabled]
        self.repository = repository or Repository(config.db_url)
        self.coordination = Coordination(config.db_url, owner=process_owner())
        self.on_run_finished = on_run_finished
        self.rebuild_feeds = rebuild_feeds
        self.kill_grace_seconds = kill_grace_seconds
        self.poll_seconds = poll_seconds
        self.dead_runs_seconds = dead_runs_seconds
        self.timeout_seconds = config.crawl_timeout_minutes * 60
        self._config_file = config_path()
        self.launcher = launcher or launcher_for(
            config,
            self.repository,
            self._config_file,
            command_for=command_for,
            group_command_for=group_command_for,
            cwd=cwd,
        )
        self.group_size = max(1, min(config.crawl_group_size, self.launcher.max_sources))
        self.group_wait_seconds = config.crawl_group_wait_seconds
        self._hosts = {s.name: tuple(getattr(s, "hosts", ())) for s in self.sources}
        self._running: dict[str, Job] = {}
        self._forming: dict[str, _Group] = {}  # by trigger: the group still taking sources
        # Sources handed to a job thread and not in a group yet: (trigger once known, since).
        self._arriving: dict[str, tuple[str | None, float]] = {}
        self._catch_up: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._hurry = threading.Event()  # a second stop request: skip the grace period
        # One worker per source (each blocks on its crawl) plus the feed job.
        workers = _Executor(self._submitted, max_workers=len(self.sources) + 2)
        self._scheduler = BackgroundScheduler(timezone=UTC, executors={"default": workers})
        # The groups' supervisors: long-lived threads, started as needed and reused, not a
        # thread per group (each new thread may take a malloc arena of its own, and the
        # service's memory grew with every group run). A member's thread may return (its own
        # run finished) while its old group's process still runs and the source falls due
        # again, so a supervisor can outlive its members: room for two per source.
        self._supervisors = futures.ThreadPoolExecutor(
            max_workers=2 * len(self.sources) + 1, thread_name_prefix="crawl group"
        )

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
        # Every group's members have ended, so have its supervisor's waits.
        self._supervisors.shutdown(wait=True)

    def hurry(self) -> None:
        """Kill running crawls at once instead of waiting out the grace period."""
        self._hurry.set()

    @property
    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def run_now(self, source: str) -> None:
        """Bring the source's next run forward to now (the guarantees hold as for any run)."""
        self._scheduler.modify_job(_job_id(source), next_run_time=datetime.now(UTC))

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
        job_id = uuid.uuid4().hex
        with self._lock:  # a forming group waits for it
            self._arriving[source] = (trigger, time.monotonic())
        if not self._claim(source, job_id):
            self._arrived(source)
            return
        try:
            group = self._join_group(source, trigger, job_id)
            if group is None:
                return
            group.dispatched.wait()
            job = group.job
            if job is None:
                return
            with self._lock:
                self._running[source] = job
            try:
                outcome, forced = self._wait_for_source(group, job, source)
                self._record(job, source, trigger, outcome, forced)
            finally:
                with self._lock:
                    self._running.pop(source, None)
        finally:
            self.coordination.release(job_id)
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
            jobs = list(self._running.values())
        try:
            release_dead_claims(self.coordination)
            closed = close_dead_runs(
                self.repository,
                self.timeout_seconds,
                spare=[j.pid for j in jobs if j.pid is not None],
                spare_jobs=[j.job_id for j in jobs],
                remote_alive=getattr(self.launcher, "alive", None),
            )
        except Exception:
            logger.exception("could not close the runs of dead processes")
            return
        for run in closed:
            logger.warning(
                "%s: run %d (%s) was left unfinished by a crawl that is gone: recorded as "
                "interrupted",
                run.spider,
                run.id,
                f"job {run.job_id}" if run.launcher == "scrapyd" else f"pid {run.pid}",
            )

    def _take_catch_up(self, source: str) -> bool:
        with self._lock:
            if source in self._catch_up:
                self._catch_up.discard(source)
                return True
            return False

    # -- claims: the database is the arbiter ----------------------------------------------

    def _claim(self, source: str, job_id: str) -> bool:
        """Claim the source and its domains for this run, before anything is dispatched.

        The source held by another job (another scheduler on the shared store): skipped,
        never two runs at once. Only a domain held (another source on the same site runs,
        maybe on another worker): wait for it, politeness per domain holds across workers.
        """
        domains = [domain_key(h) for h in self._hosts.get(source, ())]
        keys = [source_key(source), *domains]
        reservations = [next_key(d) for d in domains]
        # Held at most as long as a run may take; a dead service's claims lapse after it.
        ttl = timedelta(seconds=self.timeout_seconds + 2 * self.kill_grace_seconds + 60)
        deadline = time.monotonic() + self.timeout_seconds
        waited = False
        while not self._stopping.is_set():
            if self.coordination.claim(keys, job_id, ttl, after=reservations):
                return True
            holders = self.coordination.holders(keys)
            if source_key(source) in holders:
                holder = holders[source_key(source)]
                logger.warning("%s: already running (job %s); skipped", source, holder)
                break
            if time.monotonic() >= deadline:
                logger.warning("%s: its domain stayed busy; skipped", source)
                break
            if not waited:
                logger.info("%s: waiting for a busy domain (%s)", source, ", ".join(holders))
                waited = True
                self._arrived(source)  # no group waits for it: it may take long
            # Queue up: while this run waits, no other crawl of the domain may jump ahead.
            self.coordination.claim(reservations, job_id, ttl)
            self._stopping.wait(WAIT_SECONDS)
        self.coordination.release(job_id)
        return False

    # -- groups: sources due together share one crawl process ---------------------------

    def _join_group(self, source: str, trigger: str, job_id: str) -> _Group | None:
        """Add the (claimed) source to the group forming for its trigger; the first member
        starts the group's supervisor, which dispatches it when it is full or the wait is
        over. None: the source is not to run now."""
        with self._lock:
            self._arriving.pop(source, None)
            if self._stopping.is_set():
                return None
            if self.launcher.name == "local" and self._running_elsewhere(source):
                logger.warning(
                    "%s: a crawl started outside the scheduler is running; skipped", source
                )
                return None
            group = self._forming.get(trigger)
            first = group is None
            if group is None:
                group = _Group(trigger, job_id)
                self._forming[trigger] = group
            group.sources.append(source)
            if len(group.sources) >= self.group_size:
                del self._forming[trigger]  # full: the next source due starts a new group
                group.full.set()
        if first:
            try:
                self._supervisors.submit(self._supervise, group)
            except RuntimeError:  # shut down meanwhile: the group never runs
                group.dispatched.set()
                group.ended.set()
        return group

    def _submitted(self, job_id: str, submitted: bool) -> None:
        """A crawl job handed to (or refused by) the thread pool: its thread is about to
        take the source to a group — from this moment, not once the thread runs."""
        if not job_id.startswith(CRAWL_JOB_PREFIX):
            return
        source = job_id.removeprefix(CRAWL_JOB_PREFIX)
        with self._lock:
            if submitted:
                self._arriving.setdefault(source, (None, time.monotonic()))
            elif self._arriving.get(source, ("", 0.0))[0] is None:
                del self._arriving[source]

    def _arrived(self, source: str) -> None:
        with self._lock:
            self._arriving.pop(source, None)

    def _supervise(self, group: _Group) -> None:
        """Dispatch the group's one process, watch it (timeout, shutdown) and tell every
        member how it ended. The members record their own runs."""
        try:
            if self.group_size > 1:
                # Wait only for sources falling due within the window, not a moment longer.
                while not group.full.is_set() and not self._stopping.is_set():
                    pause = self._until_next_due(group)
                    if pause is None:
                        break
                    group.full.wait(pause)
                with self._lock:
                    if self._forming.get(group.trigger) is group:
                        del self._forming[group.trigger]
            group.job = self._launch(tuple(group.sources), group.trigger, group.job_id)
            group.dispatched.set()
            if group.job is not None:
                group.outcome, group.forced = self._wait(group.job)
        except Exception:
            logger.exception("crawl group %s: supervision failed", ", ".join(group.sources))
        finally:
            group.dispatched.set()
            group.ended.set()

    def _until_next_due(self, group: _Group) -> float | None:
        """Seconds until the next other source falls due (plus a moment to join), if that
        is within the group's wait window, counted from the group's start; else None."""
        now = datetime.now(UTC)
        window_end = group.created + timedelta(seconds=self.group_wait_seconds)
        if now >= window_end:
            return None
        recent = time.monotonic() - self.group_wait_seconds
        with self._lock:
            coming = [t for t, since in self._arriving.values() if since > recent]
            if any(t in (None, group.trigger) for t in coming):
                return GROUP_POLL_SECONDS  # due already, starting or claiming: about to join
            taken = set(group.sources) | set(self._running) | set(self._arriving)
        due = [
            job.next_run_time
            for job in self._scheduler.get_jobs()
            if job.id.startswith(CRAWL_JOB_PREFIX)
            and job.next_run_time is not None
            and job.id.removeprefix(CRAWL_JOB_PREFIX) not in taken
            and job.next_run_time <= window_end
        ]
        if not due:
            return None
        until = (min(due) - now).total_seconds() + GROUP_JOIN_SECONDS
        return min(max(until, GROUP_POLL_SECONDS), (window_end - now).total_seconds())

    def _wait_for_source(self, group: _Group, job: Job, source: str) -> tuple[str, bool]:
        """Until the group's process ends or, in a group, this source's own run has
        finished (its claim and its follow-ups need not wait for slower members)."""
        if len(job.sources) == 1:
            group.ended.wait()
            return group.outcome, group.forced
        while not group.ended.wait(MEMBER_POLL_SECONDS):
            try:
                run = self.launcher.run_of(job, source)
            except Exception:
                logger.exception("%s: could not read its run", source)
                continue
            if run is not None and run.finished_at is not None:
                return "exited", False
        return group.outcome, group.forced

    # -- one crawl process -----------------------------------------------------------------

    def _launch(self, sources: tuple[str, ...], trigger: str, job_id: str) -> Job | None:
        names = ", ".join(sources)
        deadline = time.monotonic() + self.timeout_seconds
        waited = False
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return None
                job = self.launcher.start(Dispatch(sources, trigger, job_id))
                if job is not None:
                    break
            if time.monotonic() >= deadline:
                logger.warning("%s: no worker had a free slot; skipped", names)
                return None
            if not waited:
                logger.info("%s: every worker is busy; waiting for a free slot", names)
                waited = True
            self._stopping.wait(WAIT_SECONDS)
        where = f"pid {job.pid}" if job.pid else f"job {job.job_id} on {job.worker}"
        logger.info("%s: crawl started (%s, %s)", names, where, trigger)
        return job

    def _running_elsewhere(self, source: str) -> bool:
        """Is a hand-started crawl of this source alive? (Never two runs of one source.)"""
        recent = datetime.now(UTC) - timedelta(seconds=self.timeout_seconds)
        here = socket.gethostname()
        for run in self.repository.unfinished_runs(source):
            stats = run.stats or {}
            local = stats.get(HOST_STAT, here) == here
            alive = _process_alive(run.pid, stats.get(PROCESS_STAT))
            if local and run.pid and run.started_at >= recent and alive:
                return True
        return False

    def _wait(self, job: Job) -> tuple[str, bool]:
        """Wait for the crawl to end; returns (exited|timeout|shutdown, needed a kill)."""
        deadline = job.started + self.timeout_seconds
        while True:
            if self.launcher.ended(job):
                return "exited", False
            if self._stopping.wait(self.poll_seconds):
                return "shutdown", self._terminate(job)
            if time.monotonic() >= deadline:
                logger.warning(
                    "%s: crawl (job %s) still running after %.0f s; cancelling it",
                    ", ".join(job.sources),
                    job.job_id,
                    self.timeout_seconds,
                )
                return "timeout", self._terminate(job)

    def _terminate(self, job: Job) -> bool:
        """Stop gracefully (Scrapy closes the run), kill after the grace; True if killed."""
        self.launcher.cancel(job, force=False)
        deadline = time.monotonic() + self.kill_grace_seconds
        while time.monotonic() < deadline and not self._hurry.is_set():
            if self.launcher.ended(job):
                return False
            time.sleep(min(0.1, self.kill_grace_seconds))
        if self.launcher.ended(job):
            return False
        self.launcher.cancel(job, force=True)
        end = time.monotonic() + self.kill_grace_seconds + 5
        while not self.launcher.ended(job) and time.monotonic() < end:
            time.sleep(0.1)
        return True

    # -- recording ------------------------------------------------------------------------

    def _record(self, job: Job, source: str, trigger: str, outcome: str, forced: bool) -> None:
        """Make the run's outcome visible in crawl_runs when the crawl could not."""
        code = self.launcher.exit_code(job)
        logger.info(
            "%s: crawl ended (%s, exit code %s, %.1f s)",
            source,
            outcome,
            code,
            time.monotonic() - job.started,
        )
        try:
            run = self.launcher.run_of(job, source)
            if self.launcher.worker_lost(job) and (run is None or run.finished_at is None):
                reason: str | None = REASON_WORKER_LOST
            else:
                reason = _reason_to_record(run, outcome, forced, code)
            if reason is not None:
                self._close_run(job, source, trigger, run, reason)
        except Exception:
            logger.exception("%s: could not record the crawl's outcome", source)

    def _close_run(
        self, job: Job, source: str, trigger: str, run: CrawlRun | None, reason: str
    ) -> None:
        if run is None:
            # Died before creating its row: create one so the failure shows in the crawl log.
            run_id = self.repository.start_run(source, trigger, None, job.pid)
            self.repository.update_run(
                run_id, launcher=job.launcher, worker=job.worker, job_id=job.job_id
            )
            self.repository.finish_run(run_id, finish_reason=reason)
        elif run.finished_at is None:
            self.repository.finish_run(run.id, finish_reason=reason)
        else:
            # Scrapy closed gracefully on our stop, but the run was killed for hanging.
            self.repository.update_run(run.id, finish_reason=reason)
        logger.warning("%s: crawl recorded as %s", source, reason)

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
    *,
    spare_jobs: Iterable[str] = (),
    remote_alive: RunAlive | None = None,
) -> list[CrawlRun]:
    """Close runs left unfinished by a crawl that is gone, as ``interrupted``.

    A local run of this machine is dead when its process is — the pid gone, or taken by
    another process since (the process identity recorded by the crawl differs: pids are
    reused, after a container restart at once); a Scrapyd job when its worker no longer has
    it pending or running (``remote_alive``); a run of any machine (a shared PostgreSQL)
    when it is older than the crawl timeout, after which the scheduler would have killed
    it. ``spare`` / ``spare_jobs``: pids and job ids the caller is waiting for itself (it
    records their end). Called at service start, before the first crawl, and every minute
    while the service runs, so a crawl killed outside the scheduler (``kill -9`` of a
    hand-started ``scrapy crawl``) is closed too.
    """
    now = now or datetime.now(UTC)
    oldest_alive = now - timedelta(seconds=timeout_seconds)
    here = socket.gethostname()
    spared, spared_jobs = set(spare), set(spare_jobs)
    closed = []
    for run in repository.unfinished_runs():
        if run.job_id is not None and run.job_id in spared_jobs:
            continue
        if run.launcher == "scrapyd":
            dead = remote_alive is not None and not remote_alive(run)
        else:
            if run.pid is not None and run.pid in spared:
                continue
            stats = run.stats or {}
            local = stats.get(HOST_STAT, here) == here
            dead = local and not _process_alive(run.pid, stats.get(PROCESS_STAT))
        if dead or run.started_at < oldest_alive:
            repository.finish_run(run.id, finish_reason=REASON_INTERRUPTED, finished_at=now)
            closed.append(run)
    return closed


def process_owner(pid: int | None = None) -> str:
    """``host|pid|identity`` of a process: who holds a claim, checkable after a crash."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}|{pid}|{process_identity(pid) or ''}"


def release_dead_claims(coordination: Coordination) -> list[str]:
    """Free the claims of processes of this machine that are gone (a service killed with
    -9 holds its sources and domains until the claims expire — a crawl timeout later — and
    its restart would skip them as "already running"). Claims of other machines lapse by
    expiry only: their liveness cannot be seen from here."""
    here = socket.gethostname()
    released = []
    for owner in coordination.owners():
        host, _, rest = owner.partition("|")
        pid_text, _, identity = rest.partition("|")
        if host != here or not pid_text.isdigit():
            continue
        if not _process_alive(int(pid_text), identity or None):
            count = coordination.release_owner(owner)
            logger.warning("freed %d claim(s) of a dead process (%s)", count, owner)
            released.append(owner)
    return released


def _process_alive(pid: int | None, identity: str | None) -> bool:
    """Is the process that recorded a run still running (the same process, not a reuse)?"""
    if pid is None or not pid_alive(pid):
        return False
    if identity is None:
        return True  # recorded before its identity was (or no /proc): the pid must do
    current = process_identity(pid)
    return current is None or current == identity


def _job_id(source: str) -> str:
    return f"{CRAWL_JOB_PREFIX}{source}"
