"""The health rules: one small class per rule, in spidermon's shape.

Each rule has a stable ``id`` (alerts, the status page and ``clusterwatch status`` cite it),
the crawl-log stat or column it reads, the threshold setting it compares against (from
``[health]``, overridable in ``[health.sources.<name>]``; ``skip_rules`` switches a rule off
for a source) and the verdict it calls for: ``unhealthy``, or ``degraded`` for a source that
still publishes but is drifting away from its declared extraction rules.

Rules never trust a counter that cannot fail: they read what was attempted (entry points
requested, article pages fetched) as well as what survived, and "no items" is a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from db.models import CrawlRun
from scraper.config import HealthThresholds

Severity = Literal["unhealthy", "degraded"]

# Stats the crawl records (scraper/): the contract between the crawl and these rules.
ENTRY_ATTEMPTED = "clusterwatch/entry/attempted"
ENTRY_OK = "clusterwatch/entry/ok"
ENTRY_FAILURES = "clusterwatch/entry/failures"
ARTICLES_FETCHED = "clusterwatch/articles/fetched"
ARTICLES_FAILED = "clusterwatch/articles/failed"
ARTICLE_FETCH_FAILED = "clusterwatch/article_failed"
ARTICLE_FETCH_CAUSES = "clusterwatch/articles/fetch_causes"  # {cause: count}
DROPPED = "clusterwatch/dropped/"  # + reason: requests dropped on purpose
PROVENANCE = "clusterwatch/provenance/"
ITEMS_KNOWN = "clusterwatch/items/known"
ITEMS_FAILED = "clusterwatch/items/failed"
LEGACY_FIELDS = "clusterwatch/fields/"  # fields of items that passed validation (older runs)

DECLARED_LAYER = "declared"
COVERED_FIELDS = {"title": "title", "date": "date", "text": "body"}  # shown name → stat name
FAILED_FIELD_WORDS = {"title": "no title", "text": "no text", "page": "not an article"}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class RunFacts:
    """What the rules look at: the judged run of a source and its context."""

    run: CrawlRun
    thresholds: HealthThresholds
    interval: timedelta
    now: datetime
    last_success: CrawlRun | None
    earlier_runs_had_links: Callable[[int], bool]
    # Fields the source declares extraction rules for (drift is judged on those only).
    declared_fields: frozenset[str] = frozenset({"title", "date", "body"})

    @property
    def stats(self) -> Mapping[str, Any]:
        return self.run.stats or {}

    def count(self, key: str) -> int:
        try:
            return int(self.stats.get(key, 0) or 0)
        except (TypeError, ValueError):
            return 0

    def counts(self, prefix: str) -> dict[str, int]:
        """``{rest: n}`` of every numeric stat ``prefix + rest``."""
        found = {}
        for key, value in self.stats.items():
            if key.startswith(prefix) and isinstance(value, int | float):
                found[key.removeprefix(prefix)] = int(value)
        return found


class Rule:
    id: ClassVar[str]
    stat: ClassVar[str]  # the stat (or crawl_runs column) the rule reads
    setting: ClassVar[str | None] = None  # its threshold in [health]
    severity: ClassVar[Severity] = "unhealthy"
    description: ClassVar[str]
    # Rules whose finding already explains this one's (not repeated as a second reason).
    explained_by: ClassVar[tuple[str, ...]] = ()

    def check(self, facts: RunFacts) -> Iterator[str]:
        raise NotImplementedError

    def threshold(self, facts: RunFacts) -> Any:
        assert self.setting is not None
        return getattr(facts.thresholds, self.setting)

    def findings(self, facts: RunFacts) -> list[Finding]:
        return [Finding(self.id, self.severity, message) for message in self.check(facts)]


class RunFailed(Rule):
    id = "run.failed"
    stat = "finish_reason"
    description = "the last run failed, crashed or was killed after the crawl timeout"

    def check(self, facts: RunFacts) -> Iterator[str]:
        run = facts.run
        if run.finish_reason != "finished":
            yield f"last run {run.id} ended with {run.finish_reason!r}, not 'finished'"


class EntryUnreachable(Rule):
    id = "entry.unreachable"
    stat = ENTRY_OK
    description = (
        "every entry point failed (DNS, refused, timeout, 5xx, 403/429), whatever max_errors says"
    )

    def check(self, facts: RunFacts) -> Iterator[str]:
        attempted = facts.count(ENTRY_ATTEMPTED)
        if attempted and not facts.count(ENTRY_OK):
            causes = _causes(facts)
            detail = f": {causes}" if causes else ""
            yield f"source unreachable: none of {attempted} entry points answered{detail}"


class EntryFailed(Rule):
    id = "entry.failed"
    stat = ENTRY_FAILURES
    severity = "degraded"
    description = "some entry points failed while others answered"

    def check(self, facts: RunFacts) -> Iterator[str]:
        attempted, ok = facts.count(ENTRY_ATTEMPTED), facts.count(ENTRY_OK)
        if ok and attempted > ok:
            causes = _causes(facts)
            detail = f": {causes}" if causes else ""
            yield f"{attempted - ok} of {attempted} entry points failed{detail}"


class ExtractionFailed(Rule):
    id = "extraction.failed"
    stat = ARTICLES_FAILED
    setting = "max_extraction_failure_share"
    description = "article pages were fetched but their extraction failed above a share"

    def check(self, facts: RunFacts) -> Iterator[str]:
        fetched, failed = facts.count(ARTICLES_FETCHED), facts.count(ARTICLES_FAILED)
        limit = self.threshold(facts)
        if not fetched or failed / fetched <= limit:
            return
        by_field = facts.counts(ARTICLES_FAILED + "/")
        detail = ", ".join(
            f"{FAILED_FIELD_WORDS.get(name, name)} on {n}"
            for name, n in sorted(by_field.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        yield (
            f"extraction failed on {failed}/{fetched} article pages "
            f"({failed / fetched:.0%}; maximum {limit:.0%})" + (f": {detail}" if detail else "")
        )


class FetchFailed(Rule):
    id = "articles.fetch_failed"
    stat = ARTICLE_FETCH_FAILED
    setting = "max_fetch_failure_share"
    description = (
        "article requests got no usable answer (HTTP error, timeout, reset, redirect loop) "
        "above a share, whatever max_errors says"
    )

    def check(self, facts: RunFacts) -> Iterator[str]:
        failed = facts.count(ARTICLE_FETCH_FAILED)
        attempted = failed + facts.count(ARTICLES_FETCHED)
        limit = self.threshold(facts)
        if not failed or failed / attempted <= limit:
            return
        raw = facts.stats.get(ARTICLE_FETCH_CAUSES)
        causes = raw if isinstance(raw, dict) else {}
        detail = ", ".join(
            f"{cause} ({n})"
            for cause, n in sorted(causes.items(), key=lambda kv: (-int(kv[1]), kv[0]))[:3]
        )
        yield (
            f"{failed}/{attempted} article requests failed ({failed / attempted:.0%}; "
            f"maximum {limit:.0%})" + (f": {detail}" if detail else "")
        )


class NothingStored(Rule):
    id = "extraction.nothing_stored"
    stat = "article_links"
    description = "article links were found but nothing was stored, and none was known before"
    explained_by = ("extraction.failed", "articles.fetch_failed")

    def check(self, facts: RunFacts) -> Iterator[str]:
        run = facts.run
        if run.article_links <= 0:
            return
        accounted = (
            run.items_new
            + run.items_duplicate
            + run.items_irrelevant
            + run.items_skipped
            + facts.count(ITEMS_KNOWN)
            + (run.items_failed or facts.count(ITEMS_FAILED))
        )
        if accounted == 0:
            yield (
                f"last run found {run.article_links} article links but stored none "
                "(and none was known before)"
            )


class FallbackDrift(Rule):
    id = "extraction.drift"
    stat = PROVENANCE + "<field>/<layer>"
    setting = "max_fallback_share"
    severity = "degraded"
    description = "fields taken from fallback layers instead of the source's declared rules"

    def check(self, facts: RunFacts) -> Iterator[str]:
        limit = self.threshold(facts)
        by_field: dict[str, dict[str, int]] = {}
        for key, n in facts.counts(PROVENANCE).items():
            field, _, layer = key.partition("/")
            if layer:
                by_field.setdefault(field, {})[layer] = n
        for field in sorted(by_field):
            if field not in facts.declared_fields:
                continue  # nothing declared: fallback is the only way, not drift
            layers = by_field[field]
            total = sum(layers.values())
            fallback = {name: n for name, n in layers.items() if name != DECLARED_LAYER and n}
            share = sum(fallback.values()) / total if total else 0.0
            if share > limit:
                detail = ", ".join(
                    f"{name} {n}"
                    for name, n in sorted(fallback.items(), key=lambda kv: (-kv[1], kv[0]))
                )
                yield (
                    f"{field} taken from fallback layers on {sum(fallback.values())}/{total} "
                    f"pages ({share:.0%}; maximum {limit:.0%}): {detail}"
                )


class FieldCoverage(Rule):
    id = "fields.coverage"
    stat = ARTICLES_FETCHED
    setting = "min_field_coverage"
    description = "title, date or text found on too few of the article pages fetched"

    def check(self, facts: RunFacts) -> Iterator[str]:
        floor = self.threshold(facts)
        fetched = facts.count(ARTICLES_FETCHED)
        provenance = facts.counts(PROVENANCE)
        legacy = facts.counts(LEGACY_FIELDS)
        if fetched:
            pages, unit = fetched, "article pages"
        else:
            # Runs recorded before the fetched-pages stat: over the items that survived.
            pages, unit = legacy.get("items", 0), "items"
        if pages <= 0:
            return  # nothing fetched: links.lost / extraction.nothing_stored judge that
        for name, stat_name in COVERED_FIELDS.items():
            if fetched and provenance:
                found = sum(n for key, n in provenance.items() if key.startswith(stat_name + "/"))
            else:
                found = legacy.get(name, 0)
            coverage = min(found / pages, 1.0)
            if coverage < floor:
                yield (
                    f"{name} extracted on {found}/{pages} {unit} "
                    f"({coverage:.0%}; minimum {floor:.0%})"
                )


class LinksLost(Rule):
    id = "links.lost"
    stat = "article_links"
    setting = "min_article_links"
    description = "fewer article links than min_article_links although earlier runs found some"
    explained_by = ("entry.unreachable",)

    def check(self, facts: RunFacts) -> Iterator[str]:
        run, minimum = facts.run, self.threshold(facts)
        if run.article_links < minimum and facts.earlier_runs_had_links(minimum):
            yield (
                f"last run found {run.article_links} article links "
                f"(minimum {minimum}; earlier runs found some)"
            )


class TooManyErrors(Rule):
    id = "errors.max"
    stat = "errors"
    setting = "max_errors"
    description = "the last run logged more errors than max_errors (upstream 5xx/403/429 included)"

    def check(self, facts: RunFacts) -> Iterator[str]:
        limit = self.threshold(facts)
        if facts.run.errors > limit:
            yield f"last run logged {facts.run.errors} errors (maximum {limit})"


class Stale(Rule):
    id = "run.stale"
    stat = "finished_at"
    setting = "stale_after_intervals"
    description = "no successful run within stale_after_intervals × the source's interval"

    def check(self, facts: RunFacts) -> Iterator[str]:
        if facts.last_success is None:
            # Never a success: the judged run is unhealthy itself and says why; "last
            # success: never" is shown beside it.
            return
        limit = facts.interval * self.threshold(facts)
        age = facts.now - ended_at(facts.last_success)
        if age > limit:
            yield f"no successful run for {format_timedelta(age)} (limit {format_timedelta(limit)})"


RULES: tuple[Rule, ...] = (
    RunFailed(),
    EntryUnreachable(),
    EntryFailed(),
    ExtractionFailed(),
    FetchFailed(),
    NothingStored(),
    FallbackDrift(),
    FieldCoverage(),
    LinksLost(),
    TooManyErrors(),
    Stale(),
)


def apply_rules(facts: RunFacts) -> list[Finding]:
    skipped = set(facts.thresholds.skip_rules)
    findings: list[Finding] = []
    for rule in RULES:
        if rule.id in skipped:
            continue
        fired = {f.rule for f in findings}
        if fired.intersection(rule.explained_by):
            continue
        findings.extend(rule.findings(facts))
    return findings


def _causes(facts: RunFacts, shown: int = 3) -> str:
    """The failed entry points' causes in words, each once ("DNS lookup failed for …")."""
    failures = facts.stats.get(ENTRY_FAILURES) or []
    causes: list[str] = []
    for failure in failures if isinstance(failures, list) else []:
        cause = str(failure.get("cause") if isinstance(failure, dict) else failure)
        if cause and cause not in causes:
            causes.append(cause)
    more = f" (+{len(causes) - shown} more)" if len(causes) > shown else ""
    return "; ".join(causes[:shown]) + more


def ended_at(run: CrawlRun) -> datetime:
    return run.finished_at or run.started_at


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
