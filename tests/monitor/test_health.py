"""Health rules, each verdict and reason, from real crawl_runs rows in SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from db.repository import Repository
from monitor.health import SourceHealth, evaluate
from monitor.health.report import health_table
from scraper.config import Config
from tests.monitor.conftest import record_run

SOURCE = "openpr"  # interval 60 minutes
GOOD_STATS = {
    "clusterwatch/fields/items": 10,
    "clusterwatch/fields/title": 10,
    "clusterwatch/fields/date": 10,
    "clusterwatch/fields/text": 10,
}


def make_config(tmp_path: Path, db_url: str, **overrides: Any) -> Config:
    return Config(data_dir=tmp_path / "data", database_url=db_url, **overrides)


def good_run(repository: Repository, **fields: Any) -> int:
    values: dict[str, Any] = {"article_links": 12, "items_new": 3, "stats": GOOD_STATS}
    values.update(fields)
    return record_run(repository, SOURCE, **values)


def health_of(config: Config, repository: Repository, now: datetime | None = None) -> SourceHealth:
    healths = {h.source: h for h in evaluate(config, repository, now)}
    return healths[SOURCE]


def test_never_ran_is_pending(tmp_path: Path, db_url: str, repository: Repository) -> None:
    healths = evaluate(make_config(tmp_path, db_url), repository)
    assert {h.source for h in healths} >= {"openpr", "clusterplattform", "bmwe", "clib"}
    assert all(h.verdict == "pending" and not h.reasons for h in healths)
    assert all(h.last_run is None for h in healths)


def test_normal_run_is_healthy(tmp_path: Path, db_url: str, repository: Repository) -> None:
    run_id = good_run(repository, errors=2)
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "healthy", health.reasons
    assert health.reasons == []
    assert health.last_run is not None and health.last_run.id == run_id
    assert health.items_new_last_run == 3
    assert health.errors_last_run == 2
    assert health.interval == timedelta(minutes=60)
    assert health.label == "openPR"


@pytest.mark.parametrize("reason", ["killed", "crashed", "failed"])
def test_run_not_finished_normally_is_unhealthy(
    tmp_path: Path, db_url: str, repository: Repository, reason: str
) -> None:
    good_run(repository)
    good_run(repository, finish_reason=reason)
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "unhealthy"
    assert any(repr(reason) in r for r in health.reasons), health.reasons


def test_zero_links_after_runs_with_links(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository)
    good_run(repository, article_links=0, items_new=0, stats={})
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "unhealthy"
    assert any("0 article links" in r for r in health.reasons), health.reasons


def test_zero_links_on_a_source_that_never_has_links_is_healthy(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository, article_links=0, items_new=0, stats={})
    good_run(repository, article_links=0, items_new=0, stats={})
    assert health_of(make_config(tmp_path, db_url), repository).verdict == "healthy"


def test_min_article_links_is_overridable_per_source(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository, article_links=12)
    good_run(repository, article_links=4)
    health = {"sources": {SOURCE: {"min_article_links": 5}}}
    config = make_config(tmp_path, db_url, health=health)
    assert health_of(config, repository).verdict == "unhealthy"
    assert health_of(make_config(tmp_path, db_url), repository).verdict == "healthy"


def test_field_coverage_below_floor(tmp_path: Path, db_url: str, repository: Repository) -> None:
    stats = dict(GOOD_STATS, **{"clusterwatch/fields/date": 5})
    good_run(repository, stats=stats)
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "unhealthy"
    assert health.reasons == ["date extracted on 5/10 items (50%; minimum 90%)"]
    lenient = make_config(tmp_path, db_url, health={"min_field_coverage": 0.5})
    assert health_of(lenient, repository).verdict == "healthy"


def test_run_whose_links_were_all_known_is_healthy(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    # Nothing fetched (every link already stored): no coverage to judge, nothing wrong.
    good_run(repository, items_new=0, items_skipped=12, stats={"clusterwatch/fields/items": 0})
    assert health_of(make_config(tmp_path, db_url), repository).verdict == "healthy"


def test_errors_above_threshold(tmp_path: Path, db_url: str, repository: Repository) -> None:
    good_run(repository, errors=6)
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "unhealthy"
    assert health.reasons == ["last run logged 6 errors (maximum 5)"]
    strict_elsewhere = make_config(
        tmp_path, db_url, health={"max_errors": 0, "sources": {SOURCE: {"max_errors": 10}}}
    )
    assert health_of(strict_elsewhere, repository).verdict == "healthy"


def test_no_successful_run_within_two_intervals(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    started = datetime.now(UTC) - timedelta(hours=3)
    good_run(repository, started_at=started, finished_at=started + timedelta(minutes=1))
    config = make_config(tmp_path, db_url)
    health = health_of(config, repository, now=started + timedelta(hours=3))
    assert health.verdict == "unhealthy"
    assert health.reasons == ["no successful run for 2h 59m (limit 2h)"]
    assert health_of(config, repository).verdict == "unhealthy"  # and so it is now
    # Within the limit it is fine: the same rows judged an hour and a half after the run.
    assert health_of(config, repository, now=started + timedelta(minutes=90)).verdict == "healthy"


def test_only_failed_runs_say_no_successful_run(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    record_run(repository, SOURCE, finish_reason="killed")
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "unhealthy"
    assert health.last_success is None
    assert health.reasons == ["last run 1 ended with 'killed', not 'finished'"]


def test_a_finished_run_that_reached_nothing_is_no_success(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    started = datetime.now(UTC) - timedelta(hours=5)
    ok = good_run(repository, started_at=started, finished_at=started)
    for hours in (3, 2, 1):
        at = datetime.now(UTC) - timedelta(hours=hours)
        good_run(
            repository, started_at=at, finished_at=at, article_links=0, stats=UNREACHABLE_STATS
        )
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.last_success is not None and health.last_success.id == ok
    assert "run.stale" in findings_of(health)


def test_running_run_is_judged_by_the_last_finished_one(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    finished = good_run(repository)
    repository.start_run(SOURCE, "scheduled", None, None)  # still running: no finish_reason
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "healthy"
    assert health.last_run is not None and health.last_run.id == finished
    assert health.running_since is not None


def test_disabled_source_is_not_judged(tmp_path: Path, db_url: str, repository: Repository) -> None:
    good_run(repository, finish_reason="killed")
    config = make_config(tmp_path, db_url, sources={SOURCE: {"enabled": False}})
    assert health_of(config, repository).verdict == "disabled"


def test_duration_and_several_reasons_at_once(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository)
    started = datetime.now(UTC) - timedelta(minutes=5)
    good_run(
        repository,
        started_at=started,
        finished_at=started + timedelta(seconds=42),
        finish_reason="killed",
        article_links=0,
        errors=9,
    )
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.last_run_duration == timedelta(seconds=42)
    assert health.verdict == "unhealthy"
    assert len(health.reasons) == 3, health.reasons


def test_health_table_lists_every_source(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository, errors=7)
    table = health_table(evaluate(make_config(tmp_path, db_url), repository))
    console = Console(width=250, record=True)
    console.print(table)
    output = console.export_text()
    for name in ("openpr", "clusterplattform", "bmwe", "clib"):
        assert name in output
    assert "unhealthy" in output and "pending" in output
    assert "7 errors" in output


# -- the rules of issue 7: each fires on the stats a crawl records ---------------------------

UNREACHABLE_STATS = {
    "clusterwatch/entry/attempted": 2,
    "clusterwatch/entry/ok": 0,
    "clusterwatch/entry/failures": [
        {
            "url": "https://www.openpr.de/rss/openpr.xml",
            "kind": "feed",
            "cause": "DNS lookup failed for www.openpr.de",
        },
        {
            "url": "https://www.openpr.de/news/kategorien2-10.html",
            "kind": "listing",
            "cause": "DNS lookup failed for www.openpr.de",
        },
    ],
}


def findings_of(health: SourceHealth) -> dict[str, str]:
    return {f.rule: f.message for f in health.findings}


def test_unreachable_source_is_unhealthy_whatever_max_errors_says(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository)
    good_run(repository, article_links=0, items_new=0, errors=4, stats=UNREACHABLE_STATS)
    lenient = make_config(tmp_path, db_url, health={"sources": {SOURCE: {"max_errors": 20}}})
    health = health_of(lenient, repository)
    assert health.verdict == "unhealthy"
    assert findings_of(health)["entry.unreachable"] == (
        "source unreachable: none of 2 entry points answered: DNS lookup failed for www.openpr.de"
    )
    assert "errors.max" not in findings_of(health)


def test_unreachable_names_each_cause_once(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    stats = dict(
        UNREACHABLE_STATS,
        **{
            "clusterwatch/entry/failures": [
                {"url": "u1", "kind": "feed", "cause": "feed answered HTTP 503"},
                {"url": "u2", "kind": "listing", "cause": "timed out after 30 s"},
            ]
        },
    )
    good_run(repository, article_links=0, items_new=0, stats=stats)
    message = findings_of(health_of(make_config(tmp_path, db_url), repository))
    assert message["entry.unreachable"].endswith(": feed answered HTTP 503; timed out after 30 s")


def test_some_entry_points_failing_is_degraded(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    stats = dict(
        GOOD_STATS,
        **{
            "clusterwatch/entry/attempted": 2,
            "clusterwatch/entry/ok": 1,
            "clusterwatch/entry/failures": [
                {"url": "u", "kind": "feed", "cause": "feed answered HTTP 503"}
            ],
        },
    )
    good_run(repository, stats=stats)
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "degraded"
    assert findings_of(health) == {
        "entry.failed": "1 of 2 entry points failed: feed answered HTTP 503"
    }


def fetched_stats(fetched: int, failed: dict[str, int], **layers: int) -> dict[str, Any]:
    """Stats of a run that fetched ``fetched`` article pages; ``failed`` by field."""
    ok = fetched - sum(failed.values())
    stats: dict[str, Any] = {
        "clusterwatch/articles/fetched": fetched,
        "clusterwatch/articles/failed": sum(failed.values()),
        **{f"clusterwatch/articles/failed/{k}": v for k, v in failed.items()},
    }
    for field in ("title", "date", "body", "language"):
        declared = layers.get(field, ok)
        stats[f"clusterwatch/provenance/{field}/declared"] = declared
        if ok - declared:
            stats[f"clusterwatch/provenance/{field}/trafilatura"] = ok - declared
    return stats


def test_every_article_failing_extraction_is_unhealthy(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    # The case: 8 pages fetched, every one failed, 0 items, 8 warnings.
    stats = fetched_stats(8, {"text": 6, "title": 2})
    good_run(repository, items_new=0, warnings=8, stats=stats)
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "unhealthy"
    assert findings_of(health)["extraction.failed"] == (
        "extraction failed on 8/8 article pages (100%; maximum 20%): no text on 6, no title on 2"
    )
    # Coverage is counted over the pages fetched, not over the (zero) surviving items.
    coverage = [f.message for f in health.findings if f.rule == "fields.coverage"]
    assert coverage[0] == "title extracted on 0/8 article pages (0%; minimum 90%)"


def test_extraction_failures_within_the_share_are_tolerated(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository, stats=fetched_stats(10, {"page": 1}))
    health = health_of(
        make_config(tmp_path, db_url, health={"min_field_coverage": 0.8}), repository
    )
    assert health.verdict == "healthy", health.reasons
    strict = make_config(
        tmp_path, db_url, health={"min_field_coverage": 0.8, "max_extraction_failure_share": 0.05}
    )
    assert findings_of(health_of(strict, repository))["extraction.failed"].endswith(
        "not an article on 1"
    )


def test_links_found_but_nothing_stored_is_unhealthy(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    # Older crawl stats (no fetched-pages counter): items dropped before they were counted.
    good_run(repository, article_links=8, items_new=0, stats={"clusterwatch/fields/items": 0})
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "unhealthy"
    assert findings_of(health) == {
        "extraction.nothing_stored": (
            "last run found 8 article links but stored none (and none was known before)"
        )
    }


def test_fallback_layers_above_the_share_are_degraded(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository, stats=fetched_stats(10, {}, date=3, language=0))
    health = health_of(make_config(tmp_path, db_url), repository)
    assert health.verdict == "degraded"
    # language has no declared rule on openPR: detection is the only way, not drift.
    assert findings_of(health) == {
        "extraction.drift": (
            "date taken from fallback layers on 7/10 pages (70%; maximum 50%): trafilatura 7"
        )
    }
    lenient = make_config(
        tmp_path, db_url, health={"sources": {SOURCE: {"max_fallback_share": 0.8}}}
    )
    assert health_of(lenient, repository).verdict == "healthy"


def test_coverage_over_fetched_pages(tmp_path: Path, db_url: str, repository: Repository) -> None:
    stats = fetched_stats(10, {})
    del stats["clusterwatch/provenance/date/declared"]
    stats["clusterwatch/provenance/date/declared"] = 6
    good_run(repository, stats=stats)
    health = health_of(make_config(tmp_path, db_url), repository)
    assert findings_of(health) == {
        "fields.coverage": "date extracted on 6/10 article pages (60%; minimum 90%)"
    }


def test_skip_rules_per_source(tmp_path: Path, db_url: str, repository: Repository) -> None:
    good_run(repository, errors=9)
    config = make_config(
        tmp_path, db_url, health={"sources": {SOURCE: {"skip_rules": ["errors.max"]}}}
    )
    assert health_of(config, repository).verdict == "healthy"


@pytest.mark.parametrize("reason", ["shutdown", "interrupted"])
def test_runs_clusterwatch_stopped_are_not_judged(
    tmp_path: Path, db_url: str, repository: Repository, reason: str
) -> None:
    record_run(repository, SOURCE, finish_reason=reason)
    config = make_config(tmp_path, db_url)
    assert health_of(config, repository).verdict == "pending"
    first = good_run(repository)
    record_run(repository, SOURCE, finish_reason=reason)
    health = health_of(config, repository)
    assert health.verdict == "healthy"
    assert health.last_run is not None and health.last_run.id == first


def test_rule_ids_are_stable_and_known_to_the_config() -> None:
    from monitor.health.rules import RULES
    from scraper.config import HEALTH_RULE_IDS, HealthThresholds

    assert tuple(rule.id for rule in RULES) == HEALTH_RULE_IDS
    for rule in RULES:
        assert rule.description and rule.stat
        assert rule.setting is None or rule.setting in HealthThresholds.model_fields
