"""One-off crawls for ``clusterwatch crawl``: one ``scrapy crawl`` process per source, live
progress read from each run's ``crawl_runs`` row, a summary at the end."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from db.migrate import ensure_schema
from db.models import CrawlRun
from db.repository import Repository
from monitor.scheduler import project_root, scrapy_command
from scraper.config import CONFIG_ENV, Config, config_path

PROGRESS_SECONDS = "1"


@dataclass
class CrawlOutcome:
    source: str
    returncode: int
    run: CrawlRun | None


def _environment(config: Config) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CLUSTERWATCH_TRIGGER="cli",
        SCRAPY_SETTINGS_MODULE="scraper.settings",
        CLUSTERWATCH_DATA_DIR=str(config.data_dir.resolve()),
        CLUSTERWATCH_DATABASE_URL=config.db_url,
    )
    if config.mirror:
        env["CLUSTERWATCH_MIRROR"] = config.mirror
    path = config_path()
    if path is not None:
        env[CONFIG_ENV] = str(path.resolve())
    return env


def run_crawls(config: Config, sources: Sequence[str], console: Console) -> list[CrawlOutcome]:
    """Crawl the sources side by side, showing requests and new items as they come."""
    ensure_schema(config.db_url)  # once, before the processes race for it
    repository = Repository(config.db_url)
    env = _environment(config)
    processes = {
        name: subprocess.Popen(
            [*scrapy_command(name), "-s", f"CLUSTERWATCH_PROGRESS_SECONDS={PROGRESS_SECONDS}"],
            cwd=project_root(),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in sources
    }
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[source]:<17}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = {
            name: progress.add_task("", total=None, source=name, detail="starting")
            for name in sources
        }
        while any(p.poll() is None for p in processes.values()):
            for name, proc in processes.items():
                run = _run_of(repository, name, proc.pid)
                progress.update(tasks[name], detail=_detail(run, proc.poll()))
                if proc.poll() is not None:
                    progress.update(tasks[name], total=1, completed=1)
            time.sleep(0.5)
        for name, proc in processes.items():
            progress.update(
                tasks[name],
                total=1,
                completed=1,
                detail=_detail(_run_of(repository, name, proc.pid), proc.returncode),
            )
    return [
        CrawlOutcome(n, p.returncode, _run_of(repository, n, p.pid)) for n, p in processes.items()
    ]


def _run_of(repository: Repository, source: str, pid: int) -> CrawlRun | None:
    for run in repository.runs(spider=source, limit=5):
        if run.pid == pid:
            return run
    return None


def _detail(run: CrawlRun | None, returncode: int | None) -> str:
    if run is None:
        return "starting" if returncode is None else f"[red]exited {returncode}, no run recorded"
    state = run.finish_reason or "running"
    return (
        f"{state}: {run.requests} requests, {run.items_new} new, "
        f"{run.items_skipped} known, {run.errors} errors"
    )


def summary_table(outcomes: Sequence[CrawlOutcome]) -> Table:
    table = Table(title="Crawl summary", caption="a run's log: clusterwatch log RUN")
    for column in (
        "source",
        "run",
        "result",
        "requests",
        "new",
        "dup",
        "irrel.",
        "known",
        "errors",
    ):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        run = outcome.run
        if run is None:
            table.add_row(outcome.source, "-", f"[red]exit {outcome.returncode}", *["-"] * 6)
            continue
        ok = run.finish_reason == "finished" and outcome.returncode == 0
        table.add_row(
            outcome.source,
            str(run.id),
            ("[green]" if ok else "[red]") + (run.finish_reason or "unfinished"),
            str(run.requests),
            str(run.items_new),
            str(run.items_duplicate),
            str(run.items_irrelevant),
            str(run.items_skipped),
            str(run.errors),
        )
    return table
