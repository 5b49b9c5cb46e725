"""The launcher seam: the scheduler decides *when* a crawl runs, a launcher *how* it is
started, watched, cancelled and found again in the crawl log.

One dispatch may name several sources, up to the launcher's ``max_sources``: the local
launcher runs them in one ``python -m scraper.crawl_many`` process (sources that fall due
together), Scrapyd one spider per job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from db.models import CrawlRun


class LaunchError(RuntimeError):
    """The crawl could not be handed to any worker (one line naming why)."""


@dataclass(frozen=True)
class Dispatch:
    """What to start: which sources, why (the trigger) and under which job id."""

    sources: tuple[str, ...]
    trigger: str
    job_id: str


@dataclass
class Job:
    """A started crawl as its launcher knows it."""

    launcher: str  # local | scrapyd
    job_id: str
    sources: tuple[str, ...]
    worker: str  # the host name (local) or the Scrapyd URL
    launched_at: datetime
    started: float  # monotonic, for the timeout
    pid: int | None = None
    handle: Any = field(default=None, repr=False)  # the launcher's own (a Popen for local)


class Launcher(Protocol):
    name: str

    @property
    def max_sources(self) -> int:
        """The most sources one dispatch may name."""
        ...

    def start(self, dispatch: Dispatch) -> Job | None:
        """Start the crawl; None when no worker has a free slot now (try again later)."""
        ...

    def ended(self, job: Job) -> bool:
        """Has the crawl ended (finished, cancelled, died, or its worker is gone)?"""
        ...

    def exit_code(self, job: Job) -> int | None:
        """The process's exit status when the launcher knows it."""
        ...

    def cancel(self, job: Job, *, force: bool) -> None:
        """Ask the crawl to stop (Scrapy then closes gracefully); ``force``: kill it."""
        ...

    def run_of(self, job: Job, source: str) -> CrawlRun | None:
        """The ``crawl_runs`` row the crawl recorded for ``source``, if it got that far."""
        ...

    def worker_lost(self, job: Job) -> bool:
        """Did the crawl end because its worker went away (not by itself)?"""
        ...
