"""Source health: spidermon-style rules over the crawl log.

Thresholds are settings (``[health]`` in the config, ``[health.sources.<name>]`` per source),
read through :meth:`Config.thresholds`. A source is *unhealthy* when its last finished run

- did not finish normally (failed, killed, shut down),
- discovered fewer article links than ``min_article_links`` although earlier successful
  runs did (a listing or feed that lost its links; sources that never have links are spared),
- extracted title/date/text on fewer than ``min_field_coverage`` of its items,
- logged more than ``max_errors`` errors (upstream 5xx/403/429 included),

or when no run finished successfully within ``stale_after_intervals`` × its interval.
A source that never finished a run is *pending*; a disabled source is *disabled* (an operator
switches broken sources off; they must not keep ``clusterwatch status`` failing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from rich.table import Table
from rich.text import Text

from db.models import CrawlRun
from db.repository import Repository
from monitor.sources import list_sources
from scraper.config import Config, HealthThresholds
from scraper.sources import SourceSpec

Verdict = Literal["healthy", "unhealthy", "pending", "disabled"]
COVERED_FIELDS = ("title", "date", "text")
FIELDS_STAT = "clusterwatch/fields/"
RECENT_WINDOW = timedelta(days=7)


@dataclass
class SourceHealth:
    source: str
    label: str
    verdict: Verdict
    reasons: list[str]
    interval: timedelta
    last_run: CrawlRun | None = None  # the last *finished* run: what the verdict is about
    running_since: datetime | None = None  # a run in progress, if any
    last_run_duration: timedelta | None = None
    items_new_last_run: int | None = None
    items_last_7_days: int = 0
    errors_last_run: int | None = None
    last_new_item_at: datetime | None = None
    since_last_new_item: timedelta | None = None
    last_success_at: datetime | None = None
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)

    @property
    def unhealthy(self) -> bool:
        return self.verdict == "unhealthy"


def evaluate(
    config: Config, repository: Repository, now: datetime | None = None
) -> list[SourceHealth]:
    """The health of every configured source, in source-name order."""
    now = now or datetime.now(UTC)
    return [evaluate_source(config, repository, source, now) for source in list_sources(config)]


def evaluate_source(
    config: Config, repository: Repository, source: SourceSpec, now: datetime
) -> SourceHealth:
    thresholds = config.thresholds(source.name)
    last = repository.last_run(source.name, finished_only=True)
    newest = repository.last_run(source.name)
    success = repository.last_successful_run(source.name)
    last_new = repository.last_new_article_at(source.name)
    health = SourceHealth(
        source=source.name,
        label=source.label,
        verdict="pending",
        reasons=[],
        interval=timedelta(minutes=source.interval_minutes),
        last_run=last,
        running_since=newest.started_at if newest and newest.finished_at is None else None,
        items_last_7_days=repository.count_articles(source.name, since=now - RECENT_WINDOW),
        last_new_item_at=last_new,
        since_last_new_item=now - last_new if last_new else None,
        last_success_at=_ended_at(success) if success else None,
        thresholds=thresholds,
    )
    if last is not None:
        health.last_run_duration = _duration(last)
        health.items_new_last_run = last.items_new
        health.errors_last_run = last.errors
    if not source.enabled:
        health.verdict = "disabled"
        return health
    if last is None:
        return health  # never ran: pending, nothing to judge yet
    health.reasons = run_problems(repository, last, thresholds) + staleness_problems(
        success, health.interval, thresholds, now
    )
    health.verdict = "unhealthy" if health.reasons else "healthy"
    return health


def run_problems(repository: Repository, run: CrawlRun, thresholds: HealthThresholds) -> list[str]:
    """What is wrong with one finished run, as sentences for an operator."""
    problems: list[str] = []
    if run.finish_reason != "finished":
        problems.append(f"last run {run.id} ended with {run.finish_reason!r}, not 'finished'")
    if run.article_links < thresholds.min_article_links and repository.earlier_runs_had_links(
        run.spider, run.id, thresholds.min_article_links
    ):
        problems.append(
            f"last run found {run.article_links} article links "
            f"(minimum {thresholds.min_article_links}; earlier runs found some)"
        )
    problems.extend(coverage_problems(run, thresholds.min_field_coverage))
    if run.errors > thresholds.max_errors:
        problems.append(f"last run logged {run.errors} errors (maximum {thresholds.max_errors})")
    return problems


def coverage_problems(run: CrawlRun, floor: float) -> list[str]:
    """Field coverage of the items a run extracted; a run without items has nothing to judge."""
    stats = run.stats or {}
    items = int(stats.get(f"{FIELDS_STAT}items", 0) or 0)
    if items <= 0:
        return []
    problems = []
    for name in COVERED_FIELDS:
        found = int(stats.get(f"{FIELDS_STAT}{name}", 0) or 0)
        coverage = found / items
        if coverage < floor:
            problems.append(
                f"{name} extracted on {found}/{items} items ({coverage:.0%}; minimum {floor:.0%})"
            )
    return problems


def staleness_problems(
    success: CrawlRun | None, interval: timedelta, thresholds: HealthThresholds, now: datetime
) -> list[str]:
    limit = interval * thresholds.stale_after_intervals
    if success is None:
        # Only reached when the source has finished runs, none of them successfully: the
        # failed last run is already a reason, but say plainly that nothing ever worked.
        return ["no successful run yet"]
    age = now - _ended_at(success)
    if age > limit:
        return [f"no successful run for {format_timedelta(age)} (limit {format_timedelta(limit)})"]
    return []


def _ended_at(run: CrawlRun) -> datetime:
    return run.finished_at or run.started_at


def _duration(run: CrawlRun) -> timedelta | None:
    if run.finished_at is None:
        return None
    return run.finished_at - run.started_at


def format_timedelta(delta: timedelta | None) -> str:
    """Compact human durations: 45s, 12m, 3h 5m, 2d 4h."""
    if delta is None:
        return "–"
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def format_time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


VERDICT_STYLES: dict[str, str] = {
    "healthy": "green",
    "unhealthy": "bold red",
    "pending": "yellow",
    "disabled": "dim",
}


def health_table(healths: list[SourceHealth]) -> Table:
    """The per-source table ``clusterwatch status`` prints."""
    table = Table(title="clusterwatch source health")
    for column in ("source", "health", "last run", "result", "duration", "new", "7 days"):
        table.add_column(column, justify="right" if column in ("new", "7 days") else "left")
    table.add_column("errors", justify="right")
    table.add_column("last new item")
    table.add_column("interval")
    table.add_column("reasons")
    for health in healths:
        table.add_row(*_table_row(health))
    return table


def _table_row(health: SourceHealth) -> list[str | Text]:
    run = health.last_run
    last_run = format_time(run.started_at) if run else "never"
    if health.running_since is not None:
        last_run += " (running)"
    return [
        Text(health.source),
        Text(health.verdict, style=VERDICT_STYLES.get(health.verdict, "")),
        Text(last_run),
        Text(run.finish_reason or "–") if run else Text("–"),
        Text(format_timedelta(health.last_run_duration)),
        Text(_number(health.items_new_last_run)),
        Text(str(health.items_last_7_days)),
        Text(_number(health.errors_last_run)),
        Text(f"{format_timedelta(health.since_last_new_item)} ago")
        if health.since_last_new_item is not None
        else Text("–"),
        Text(format_timedelta(health.interval)),
        Text("; ".join(health.reasons) or "–"),
    ]


def _number(value: int | None) -> str:
    return "–" if value is None else str(value)
