"""How crawls are started: the launcher seam and its two implementations."""

from __future__ import annotations

from pathlib import Path

from db.coordination import Coordination
from db.repository import Repository
from monitor.launchers.base import Dispatch, Job, Launcher, LaunchError
from monitor.launchers.local import CommandFor, GroupCommandFor, LocalLauncher, scrapy_command
from scraper.config import Config

__all__ = ["Dispatch", "Job", "LaunchError", "Launcher", "launcher_for"]


def launcher_for(
    config: Config,
    repository: Repository,
    config_file: Path | None,
    *,
    command_for: CommandFor = scrapy_command,
    group_command_for: GroupCommandFor | None = None,
    cwd: Path | None = None,
) -> Launcher:
    """The launcher the configuration names (``launcher = "local" | "scrapyd"``)."""
    if config.launcher == "scrapyd":
        from monitor.launchers.scrapyd import ScrapydLauncher

        return ScrapydLauncher(config, Coordination(config.db_url))
    return LocalLauncher(
        config,
        repository,
        config_file,
        command_for=command_for,
        group_command_for=group_command_for,
        cwd=cwd,
    )
