"""Source health: the rules of :mod:`monitor.health.rules` over the crawl log.

A source's verdict is about its last *judged* run: the newest finished run that was not
stopped by clusterwatch itself (``shutdown`` on a stop signal, ``interrupted`` when a dead
process' run was closed at the next start) — those say nothing about the source.

- **unhealthy**: a rule of severity ``unhealthy`` fired (failed run, unreachable, extraction
  failing, coverage, lost links, errors, staleness);
- **degraded**: only ``degraded`` rules fired (fields taken from fallback layers, some entry
  points failing) — the source still publishes, but needs a look;
- **healthy**: it demonstrably works; **pending**: no judged run yet; **disabled**: switched
  off (an operator switches broken sources off; they must not keep ``status`` failing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from db.models import CrawlRun
from db.repository import Repository, SourceOverview
from monitor.health.rules import (
    RULES,
    Finding,
    RunFacts,
    apply_rules,
    ended_at,
    format_timedelta,
)
from monitor.sources import list_sources
from scraper.config import Config, HealthThresholds
from scraper.sources import SourceSpec

Verdict = Literal["healthy", "degraded", "unhealthy", "pending", "disabled"]
VERDICTS: tuple[Verdict, ...] = ("healthy", "degraded", "unhealthy", "pending", "disabled")
# Runs clusterwatch itself stopped: not the source's doing, so not judged.
NOT_JUDGED = ("shutdown", "interrupted")
RECENT_WINDOW = timedelta(days=7)
SUCCESS_LOOKBACK = 50  # runs searched for the last successful one

NextRun = Callable[[str], datetime | None]

__all__ = [
    "RULES",
    "VERDICTS",
    "Finding",
    "SourceHealth",
    "Verdict",
    "evaluate",
    "format_time",
    "format_timedelta",
]


@dataclass
class SourceHealth:
    source: str
    label: str
    verdict: Verdict
    findings: list[Finding]
    interval: timedelta
    last_run: CrawlRun | None = None  # the last *judged* run: what the verdict is about
    running_since: datetime | None = None  # a run in progress, if any
    last_run_duration: timedelta | None = None
    items_new_last_run: int | None = None
    items_last_7_days: int = 0
    errors_last_run: int | None = None
    last_new_item_at: datetime | None = None
    since_last_new_item: timedelta | None = None
    last_success: CrawlRun | None = None
    next_run_at: datetime | None = None  # scheduled (service) or due (interval after last)
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)
    # Its newest runs, newest first (up to SUCCESS_LOOKBACK): the status page's chart.
    recent_runs: list[CrawlRun] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [finding.message for finding in self.findings]

    @property
    def last_success_at(self) -> datetime | None:
        return ended_at(self.last_success) if self.last_success else None

    @property
    def unhealthy(self) -> bool:
        return self.verdict == "unhealthy"

    @property
    def degraded(self) -> bool:
        return self.verdict == "degraded"

    @property
    def cause(self) -> str:
        """The first finding in words (what an operator reads first), or the verdict."""
        return self.findings[0].message if self.findings else self.verdict


def evaluate(
    config: Config,
    repository: Repository,
    now: datetime | None = None,
    next_run: NextRun | None = None,
) -> list[SourceHealth]:
    """The health of every configured source, in source-name order."""
    now = now or datetime.now(UTC)
    sources = list_sources(config)
    # Every source's figures in one session and two statements (a page of many sources
    # is not one round trip per figure per source).
    overviews = _overviews(repository, [s.name for s in sources], now)
    return [
        evaluate_source(config, repository, source, now, next_run, overviews[source.name])
        for source in sources
    ]


def _overviews(
    repository: Repository, names: list[str], now: datetime
) -> dict[str, SourceOverview]:
    return repository.source_overviews(
        names, since=now - RECENT_WINDOW, runs=SUCCESS_LOOKBACK, excluding=NOT_JUDGED
    )


def evaluate_source(
    config: Config,
    repository: Repository,
    source: SourceSpec,
    now: datetime,
    next_run: NextRun | None = None,
    overview: SourceOverview | None = None,
) -> SourceHealth:
    thresholds = config.thresholds(source.name)
    if overview is None:
        overview = _overviews(repository, [source.name], now)[source.name]
    judged = overview.judged
    newest = overview.runs[0] if overview.runs else None
    last_new = overview.last_new_at
    interval = timedelta(minutes=source.interval_minutes)

    def facts_of(run: CrawlRun, success: CrawlRun | None, at: datetime) -> RunFacts:
        return RunFacts(
            run=run,
            thresholds=thresholds,
            interval=interval,
            now=at,
            last_success=success,
            earlier_runs_had_links=lambda minimum: repository.earlier_runs_had_links(
                source.name, run.id, minimum
            ),
            declared_fields=source.declared_fields,
        )

    success = _last_success(overview.runs, facts_of)
    health = SourceHealth(
        source=source.name,
        label=source.label,
        verdict="pending",
        findings=[],
        interval=interval,
        last_run=judged,
        running_since=newest.started_at if newest and newest.finished_at is None else None,
        items_last_7_days=overview.items_since,
        last_new_item_at=last_new,
        since_last_new_item=now - last_new if last_new else None,
        last_success=success,
        thresholds=thresholds,
        recent_runs=overview.runs,
    )
    if judged is not None:
        health.last_run_duration = _duration(judged)
        health.items_new_last_run = judged.items_new
        health.errors_last_run = judged.errors
    if not source.enabled:
        health.verdict = "disabled"
        return health
    if next_run is not None:
        health.next_run_at = next_run(source.name)
    elif newest is not None:
        health.next_run_at = newest.started_at + interval
    if judged is None:
        return health  # never ran (or only runs we stopped): pending
    health.findings = apply_rules(facts_of(judged, success, now))
    health.verdict = verdict_of(health.findings)
    return health


def _last_success(
    runs: list[CrawlRun],
    facts_of: Callable[[CrawlRun, CrawlRun | None, datetime], RunFacts],
) -> CrawlRun | None:
    """The newest run the rules find nothing unhealthy in: a run that finished but reached
    no entry point, or stored nothing, is no success (staleness counts from the last real one).
    """
    for run in runs[:SUCCESS_LOOKBACK]:
        if run.finished_at is None or run.finish_reason in NOT_JUDGED:
            continue
        findings = apply_rules(facts_of(run, run, ended_at(run)))  # judged as of its own end
        if verdict_of(findings) != "unhealthy":
            return run
    return None


def verdict_of(findings: list[Finding]) -> Verdict:
    if any(f.severity == "unhealthy" for f in findings):
        return "unhealthy"
    if findings:
        return "degraded"
    return "healthy"


def _duration(run: CrawlRun) -> timedelta | None:
    if run.finished_at is None:
        return None
    return run.finished_at - run.started_at


def format_time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "–"
