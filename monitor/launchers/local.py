"""The local launcher: each crawl a ``scrapy crawl`` process of this machine (the default)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db.models import CrawlRun
from db.repository import Repository
from monitor.launchers.base import Dispatch, Job
from scraper.config import CONFIG_ENV, Config
from scraper.extensions import JOB_ID_ENV, TRIGGER_ENV

CommandFor = Callable[[str], list[str]]
GroupCommandFor = Callable[[Sequence[str]], list[str]]


def scrapy_command(source: str) -> list[str]:
    """The real crawl: ``python -m scrapy crawl SOURCE`` with the service's interpreter."""
    return [sys.executable, "-m", "scrapy", "crawl", source]


def crawl_many_command(sources: Sequence[str]) -> list[str]:
    """Several sources in one crawl process: ``python -m scraper.crawl_many SOURCE…``."""
    return [sys.executable, "-m", "scraper.crawl_many", *sources]


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
    root = Path(__file__).resolve().parents[2]
    return root if (root / "scrapy.cfg").is_file() else Path.cwd()


class LocalLauncher:
    name = "local"

    def __init__(
        self,
        config: Config,
        repository: Repository,
        config_file: Path | None,
        *,
        command_for: CommandFor = scrapy_command,
        group_command_for: GroupCommandFor | None = None,
        cwd: Path | None = None,
    ):
        self.config = config
        self.repository = repository
        self.config_file = config_file
        self.command_for = command_for
        # A stand-in single-source command (tests, benchmarks) without a group command of
        # its own: one source per process.
        if group_command_for is None and command_for is scrapy_command:
            group_command_for = crawl_many_command
        self.group_command_for = group_command_for
        self.cwd = cwd or project_root()

    @property
    def max_sources(self) -> int:
        """How many sources one dispatch may name (one process runs them all)."""
        return self.config.crawl_group_size if self.group_command_for is not None else 1

    def start(self, dispatch: Dispatch) -> Job:
        if not 1 <= len(dispatch.sources) <= self.max_sources:
            raise ValueError(f"the local launcher starts 1 to {self.max_sources} sources at once")
        if len(dispatch.sources) == 1:
            command = self.command_for(dispatch.sources[0])  # `scrapy crawl SOURCE`
        else:
            assert self.group_command_for is not None
            command = self.group_command_for(dispatch.sources)
        env = crawl_environment(self.config, dispatch.trigger, self.config_file)
        env[JOB_ID_ENV] = dispatch.job_id
        launched_at = datetime.now(UTC)
        process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # every run writes its own log file
            stderr=subprocess.DEVNULL,
            # Own process group: a Ctrl-C in the terminal reaches only the service, which
            # then stops its crawls in order (and we can signal the whole group).
            start_new_session=True,
        )
        return Job(
            self.name,
            dispatch.job_id,
            dispatch.sources,
            socket.gethostname(),
            launched_at,
            time.monotonic(),
            pid=process.pid,
            handle=process,
        )

    def ended(self, job: Job) -> bool:
        return bool(self._process(job).poll() is not None)

    def exit_code(self, job: Job) -> int | None:
        return self._process(job).returncode

    def cancel(self, job: Job, *, force: bool) -> None:
        process = self._process(job)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
            os.killpg(process.pid, signal.SIGKILL if force else signal.SIGTERM)
        if force:
            process.wait()

    def run_of(self, job: Job, source: str) -> CrawlRun | None:
        # A second of slack: the row's timestamp comes from the child, ours from before Popen.
        since = job.launched_at - timedelta(seconds=1)
        assert job.pid is not None
        return self.repository.run_of_process(source, job.pid, since)

    def worker_lost(self, job: Job) -> bool:
        return False

    @staticmethod
    def _process(job: Job) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = job.handle
        return process


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
