"""``clusterwatch reextract``: the table of what re-extraction changed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.table import Table

from scraper.extract import BERLIN
from scraper.reextract import UNCHANGED, Change


def _date(value: datetime | None) -> str:
    return value.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") if value else "—"


def _pair(before: str, after: str) -> str:
    return after if before == after else f"{before or '—'}\n→ {after or '—'}"


def report_table(changes: list[Change], dry_run: bool) -> tuple[Table, str]:
    """One row per page that changed (or would), and a one-line summary of all."""
    verb = "would change" if dry_run else "changed"
    table = Table(title=f"Re-extraction ({verb})")
    for column in ("source", "url", "outcome", "title", "date", "text F1", "relevance"):
        table.add_column(column, overflow="fold")
    for change in changes:
        if change.outcome == UNCHANGED:
            continue
        table.add_row(
            change.source,
            change.canonical_url,
            change.outcome + (f": {change.reason}" if change.reason else ""),
            _pair(change.title_before, change.title_after),
            _pair(_date(change.date_before), _date(change.date_after)),
            "—" if change.text_f1 is None else f"{change.text_f1:.3f}",
            _pair(change.relevance_before or "", change.relevance_after or "")
            + (" (flipped)" if change.relevance_flipped else ""),
        )
    counts = Counter(c.outcome for c in changes)
    flips = sum(c.relevance_flipped for c in changes)
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    summary = (
        f"{len(changes)} stored pages re-extracted ({parts or 'none'}); {flips} relevance flips"
    )
    if dry_run:
        summary += "; dry run: nothing written"
    return table, summary
