"""One-off crawls for ``clusterwatch crawl``: one ``scrapy crawl`` process per source, live
progress read from each run's ``crawl_runs`` row, a summary at the end."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from db.migrate import ensure_schema
from db.models import CrawlRun
from db.repository import Repository
from monitor.launchers.local import crawl_environment, project_root, scrapy_command
from monitor.scheduler import REASON_CRASHED
from scraper.config import Config, config_path

PROGRESS_SECONDS = "1"


@dataclass
class CrawlOutcome:
    source: str
    returncode: int
    run: CrawlRun | None


def run_crawls(config: Config, sources: Sequence[str], console: Console) -> list[CrawlOutcome]:
    """Crawl the sources side by side, showing requests and new items as they come."""
    ensure_schema(config.db_url)  # once, before the processes race for it
    repository = Repository(config.db_url)
    env = crawl_environment(config, "cli", config_path())
    # A second of slack: run rows carry the child's clock, this is taken before the launch.
    since = datetime.now(UTC) - timedelta(seconds=1)
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
                run = repository.run_of_process(name, proc.pid, since)
                progress.update(tasks[name], detail=_detail(run, proc.poll()))
                if proc.poll() is not None:
                    progress.update(tasks[name], total=1, completed=1)
            time.sleep(0.5)
        for name, proc in processes.items():
            progress.update(
                tasks[name],
                total=1,
                completed=1,
                detail=_detail(repository.run_of_process(name, proc.pid, since), proc.returncode),
            )
    outcomes = []
    for name, proc in processes.items():
        run = repository.run_of_process(name, proc.pid, since)
        if run is not None and run.finished_at is None:
            # Killed (kill -9, out of memory) before it could close its own run.
            repository.finish_run(run.id, finish_reason=REASON_CRASHED)
            run = repository.run(run.id)
        outcomes.append(CrawlOutcome(name, proc.returncode, run))
    return outcomes


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
