"""The Scrapyd launcher: each crawl a job on one of several Scrapyd workers.

Scrapyd's JSON API does the work: ``daemonstatus.json`` tells how busy a worker is (the
crawl goes to the one with the most free slots), ``schedule.json`` starts the job with its
settings as ``setting=NAME=value`` (a job gets no environment from us), ``status.json``
watches it, ``cancel.json`` stops it (TERM: Scrapy closes gracefully; KILL after the
grace), and the job's log is served at ``/logs/<project>/<spider>/<job>.log``. The crawl
writes its ``crawl_runs`` row with the job id, which is how the scheduler finds it again.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from db.coordination import Coordination
from db.models import CrawlRun
from monitor.launchers.base import Dispatch, Job, LaunchError
from scraper.config import Config
from scraper.extensions import JOB_ID_SETTING, LAUNCHER_SETTING, TRIGGER_SETTING, WORKER_SETTING

logger = logging.getLogger(__name__)

API_TIMEOUT = 5.0  # seconds per call: a worker that does not answer is skipped
# schedule.json lists the project's spiders first (a Python process on the worker: slow on
# a busy machine, the first time after a deploy).
SCHEDULE_TIMEOUT = 30.0
# Polls in a row a worker may fail to answer before its job counts as lost with it.
LOST_AFTER_FAILED_POLLS = 3


class WorkerError(OSError):
    pass


def _call(
    url: str,
    data: dict[str, Any] | list[tuple[str, str]] | None = None,
    timeout: float = API_TIMEOUT,
) -> Any:
    body = None if data is None else urllib.parse.urlencode(data).encode()
    try:
        with urllib.request.urlopen(url, data=body, timeout=timeout) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError) as error:
        raise WorkerError(f"{url}: {error}") from None
    if answer.get("status") != "ok":
        raise WorkerError(f"{url}: {answer.get('message', answer)}")
    return answer


@dataclass
class WorkerStatus:
    url: str
    running: int
    pending: int


def log_url(worker: str, project: str, spider: str, job_id: str) -> str:
    return f"{worker.rstrip('/')}/logs/{project}/{spider}/{job_id}.log"


def fetch_log(run: CrawlRun, project: str) -> bytes:
    """A remote run's log, from the worker it ran on."""
    if not (run.worker and run.job_id):
        raise WorkerError(f"run {run.id} names no worker and job")
    url = log_url(run.worker, project, run.spider, run.job_id)
    try:
        with urllib.request.urlopen(url, timeout=API_TIMEOUT * 2) as response:
            return bytes(response.read())
    except OSError as error:
        raise WorkerError(f"{url}: {error}") from None


class ScrapydLauncher:
    name = "scrapyd"
    max_sources = 1  # a Scrapyd job runs one spider

    def __init__(self, config: Config, coordination: Coordination):
        if not config.scrapyd_urls:
            raise LaunchError("launcher = 'scrapyd' needs scrapyd_urls (the workers)")
        self.config = config
        self.urls = [u.rstrip("/") for u in config.scrapyd_urls]
        self.project = config.scrapyd_project
        self.slots = config.scrapyd_slots
        self.coordination = coordination
        self._failed_polls: dict[str, int] = {}
        self._lost: set[str] = set()

    # -- load spread ----------------------------------------------------------------------

    def statuses(self) -> list[WorkerStatus]:
        """The workers that answer, with how many jobs each runs and queues."""
        found = []
        for url in self.urls:
            try:
                answer = _call(f"{url}/daemonstatus.json")
            except WorkerError as error:
                logger.warning("worker %s does not answer: %s", url, error)
                continue
            found.append(WorkerStatus(url, int(answer["running"]), int(answer["pending"])))
        return found

    def choose(self) -> list[str]:
        """Workers with a free slot, the least busy first."""
        free = [
            (self.slots - s.running - s.pending, i, s.url) for i, s in enumerate(self.statuses())
        ]
        return [url for room, _, url in sorted(free, key=lambda f: (-f[0], f[1])) if room > 0]

    # -- the Launcher interface -------------------------------------------------------------

    def start(self, dispatch: Dispatch) -> Job | None:
        if len(dispatch.sources) != 1:
            raise ValueError("a Scrapyd job runs one spider")
        (source,) = dispatch.sources
        for url in self.choose():
            settings = {
                TRIGGER_SETTING: dispatch.trigger,
                JOB_ID_SETTING: dispatch.job_id,
                LAUNCHER_SETTING: self.name,
                WORKER_SETTING: url,
            }
            if self.config.mirror:
                settings["CLUSTERWATCH_MIRROR"] = self.config.mirror
            form = [
                ("project", self.project),
                ("spider", source),
                ("jobid", dispatch.job_id),
                *(("setting", f"{k}={v}") for k, v in settings.items()),
            ]
            job = Job(self.name, dispatch.job_id, dispatch.sources, url, datetime.now(UTC), 0.0)
            try:
                _call(f"{url}/schedule.json", form, timeout=SCHEDULE_TIMEOUT)
            except WorkerError as error:
                # A timeout is no refusal: the worker may have queued the job all the same.
                # Only a worker that does not have it lets the job go to the next one, or
                # one job id would run on two workers.
                if self._has(job):
                    logger.warning("%s: %s (the job is queued there all the same)", source, error)
                else:
                    logger.warning("%s: worker %s refused the job: %s", source, url, error)
                    continue
            logger.info("%s: job %s scheduled on %s", source, dispatch.job_id, url)
            job.started = time.monotonic()
            return job
        return None

    def _has(self, job: Job) -> bool:
        """Does the worker know the job? (Unsure when it does not answer: say yes.)"""
        for _ in range(3):
            try:
                return self.state(job) is not None
            except WorkerError:
                time.sleep(1.0)
        return True

    def state(self, job: Job) -> str | None:
        """pending | running | finished | None (unknown to the worker)."""
        answer = _call(
            f"{job.worker}/status.json?"
            + urllib.parse.urlencode({"job": job.job_id, "project": self.project})
        )
        state: str | None = answer.get("currstate")
        return state

    def ended(self, job: Job) -> bool:
        try:
            state = self.state(job)
        except WorkerError as error:
            failed = self._failed_polls.get(job.job_id, 0) + 1
            self._failed_polls[job.job_id] = failed
            if failed >= LOST_AFTER_FAILED_POLLS:
                logger.warning("%s: worker %s is gone (%s)", job.sources[0], job.worker, error)
                self._lost.add(job.job_id)
                return True
            return False
        self._failed_polls.pop(job.job_id, None)
        return state not in ("pending", "running")

    def exit_code(self, job: Job) -> int | None:
        return None  # Scrapyd does not report it; the run's row says how it ended

    def cancel(self, job: Job, *, force: bool) -> None:
        try:
            _call(
                f"{job.worker}/cancel.json",
                {"project": self.project, "job": job.job_id, "signal": "KILL" if force else "TERM"},
            )
        except WorkerError as error:
            logger.warning("%s: cancel on %s failed: %s", job.sources[0], job.worker, error)

    def run_of(self, job: Job, source: str) -> CrawlRun | None:
        return self.coordination.run_of_job(job.job_id)

    def worker_lost(self, job: Job) -> bool:
        return job.job_id in self._lost

    def alive(self, run: CrawlRun) -> bool:
        """Is a recorded run's job still pending or running on its worker?"""
        if not (run.worker and run.job_id):
            return False
        job = Job(self.name, run.job_id, (run.spider,), run.worker, run.started_at, 0.0)
        try:
            return self.state(job) in ("pending", "running")
        except WorkerError:
            return False
