"""Health rules, each verdict and reason, from real crawl_runs rows in SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from db.repository import Repository
from monitor.health import SourceHealth, evaluate, health_table
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


@pytest.mark.parametrize("reason", ["shutdown", "killed", "failed"])
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


def test_run_without_items_is_not_judged_on_coverage(
    tmp_path: Path, db_url: str, repository: Repository
) -> None:
    good_run(repository, items_new=0, stats={"clusterwatch/fields/items": 0})
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
    assert "no successful run yet" in health.reasons


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
        finish_reason="shutdown",
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
