"""How ``clusterwatch status`` says it: a table for people, JSON and Nagios lines for machines.

Exit codes follow the Nagios plugin convention: 0 OK, 1 degraded (WARNING), 2 unhealthy
(CRITICAL), 3 unknown (database unreachable, bad configuration).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from db.models import CrawlRun
from monitor.health import SourceHealth, format_time
from monitor.health.rules import DROPPED, format_timedelta

EXIT_OK, EXIT_DEGRADED, EXIT_UNHEALTHY, EXIT_UNKNOWN = 0, 1, 2, 3
NAGIOS = {
    EXIT_OK: "OK",
    EXIT_DEGRADED: "WARNING",
    EXIT_UNHEALTHY: "CRITICAL",
    EXIT_UNKNOWN: "UNKNOWN",
}
VERDICT_EXIT = {"degraded": EXIT_DEGRADED, "unhealthy": EXIT_UNHEALTHY}
VERDICT_STYLES: dict[str, str] = {
    "healthy": "green",
    "degraded": "bold yellow",
    "unhealthy": "bold red",
    "pending": "yellow",
    "disabled": "dim",
}
WIDE = 120  # from this width on, the table shows every column


def exit_code(healths: Sequence[SourceHealth]) -> int:
    return max((VERDICT_EXIT.get(h.verdict, EXIT_OK) for h in healths), default=EXIT_OK)


# -- table ------------------------------------------------------------------------------------


def health_table(healths: Sequence[SourceHealth], width: int = WIDE) -> Table:
    """The per-source table; below ``WIDE`` columns fewer, shorter columns (cron mail, ssh)."""
    if width >= WIDE:
        return _wide_table(healths)
    table = Table(title="clusterwatch source health", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("source", no_wrap=True)
    table.add_column("health", no_wrap=True)
    table.add_column("last run", no_wrap=True)
    table.add_column("new", justify="right", no_wrap=True)
    table.add_column("err", justify="right", no_wrap=True)
    table.add_column("cause", overflow="fold", ratio=1)
    for health in healths:
        run = health.last_run
        table.add_row(
            Text(health.source),
            _verdict(health),
            Text(_short_time(run.started_at) if run else "never"),
            Text(_number(health.items_new_last_run)),
            Text(_number(health.errors_last_run)),
            Text(_causes(health)),
        )
    return table


def _wide_table(healths: Sequence[SourceHealth]) -> Table:
    table = Table(title="clusterwatch source health")
    for column in ("source", "health", "last run", "result", "duration", "new", "7 days"):
        table.add_column(column, justify="right" if column in ("new", "7 days") else "left")
    table.add_column("errors", justify="right")
    table.add_column("last success")
    table.add_column("last new item")
    table.add_column("interval")
    table.add_column("reasons", overflow="fold")
    for health in healths:
        run = health.last_run
        last_run = format_time(run.started_at) if run else "never"
        if health.running_since is not None:
            last_run += " (running)"
        table.add_row(
            Text(health.source),
            _verdict(health),
            Text(last_run),
            Text(run.finish_reason or "–") if run else Text("–"),
            Text(format_timedelta(health.last_run_duration)),
            Text(_number(health.items_new_last_run)),
            Text(str(health.items_last_7_days)),
            Text(_number(health.errors_last_run)),
            Text(format_time(health.last_success_at)),
            Text(f"{format_timedelta(health.since_last_new_item)} ago")
            if health.since_last_new_item is not None
            else Text("–"),
            Text(format_timedelta(health.interval)),
            Text(_causes(health)),
        )
    return table


def _verdict(health: SourceHealth) -> Text:
    return Text(health.verdict, style=VERDICT_STYLES.get(health.verdict, ""))


def _causes(health: SourceHealth) -> str:
    return "; ".join(f"{f.message} [{f.rule}]" for f in health.findings) or "–"


def _short_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%m-%d %H:%MZ")


def _number(value: int | None) -> str:
    return "–" if value is None else str(value)


# -- machines ---------------------------------------------------------------------------------


def status_lines(healths: Sequence[SourceHealth]) -> list[str]:
    """One Nagios-style line per source: ``CLUSTERWATCH CRITICAL - openpr: …``."""
    lines = []
    for health in healths:
        state = NAGIOS[VERDICT_EXIT.get(health.verdict, EXIT_OK)]
        if health.findings:
            detail = "; ".join(f"{f.message} [{f.rule}]" for f in health.findings)
        elif health.verdict == "healthy" and health.last_run is not None:
            detail = (
                f"healthy (last run {format_time(health.last_run.started_at)}, "
                f"{health.items_new_last_run} new)"
            )
        elif health.verdict == "pending":
            detail = "pending (no run yet)"
        else:
            detail = health.verdict
        lines.append(f"CLUSTERWATCH {state} - {health.source}: {detail}")
    return lines


def unknown_line(message: str) -> str:
    return f"CLUSTERWATCH {NAGIOS[EXIT_UNKNOWN]} - {message}"


def status_json(healths: Sequence[SourceHealth], now: datetime) -> dict[str, Any]:
    code = exit_code(healths)
    return {
        "status": NAGIOS[code],
        "exit_code": code,
        "generated_at": now.astimezone(UTC).isoformat(),
        "sources": [_source_json(health) for health in healths],
    }


def _source_json(health: SourceHealth) -> dict[str, Any]:
    return {
        "source": health.source,
        "label": health.label,
        "verdict": health.verdict,
        "findings": [
            {"rule": f.rule, "severity": f.severity, "message": f.message} for f in health.findings
        ],
        "last_run": run_json(health.last_run) if health.last_run else None,
        "last_success_at": _iso(health.last_success_at),
        "running_since": _iso(health.running_since),
        "next_run_at": _iso(health.next_run_at),
        "interval_minutes": health.interval.total_seconds() / 60,
        "items_last_7_days": health.items_last_7_days,
        "last_new_item_at": _iso(health.last_new_item_at),
    }


def run_json(run: CrawlRun) -> dict[str, Any]:
    """A crawl_runs row as JSON (``status``, ``runs --format json``)."""
    return {
        "id": run.id,
        "source": run.spider,
        "trigger": run.trigger,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "finish_reason": run.finish_reason,
        "requests": run.requests,
        "responses_by_status": run.responses_by_status,
        "items_new": run.items_new,
        "items_duplicate": run.items_duplicate,
        "items_irrelevant": run.items_irrelevant,
        "items_skipped": run.items_skipped,
        "items_failed": run.items_failed,
        "article_links": run.article_links,
        "errors": run.errors,
        "warnings": run.warnings,
        "dropped": dropped_requests(run),
        "log_path": run.log_path,
    }


def dropped_requests(run: CrawlRun) -> dict[str, int]:
    """Requests the run dropped on purpose, by reason (robots, offsite, redirect_loop,
    duplicate)."""
    found = {}
    for key, value in (run.stats or {}).items():
        if key.startswith(DROPPED) and isinstance(value, int | float):
            found[key.removeprefix(DROPPED)] = int(value)
    return dict(sorted(found.items()))


def dropped_words(run: CrawlRun) -> str:
    """``robots 2, offsite 1`` or ``–``."""
    return ", ".join(f"{reason} {n}" for reason, n in dropped_requests(run).items()) or "–"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None
