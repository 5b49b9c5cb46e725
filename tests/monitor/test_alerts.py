"""Alerts through real Apprise (``json://``) to a local recording endpoint, and the
end-to-end health flip of a real ``scrapy crawl`` against the replay server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from db.repository import Repository
from monitor.alerts import Alerter
from monitor.health import SourceHealth, evaluate
from monitor.replay import ReplayServer
from scraper.config import Config
from tests.conftest import run_crawl
from tests.monitor.conftest import AlertEndpoint, record_run

SOURCE = "openpr"


def make_config(tmp_path: Path, db_url: str, endpoint: AlertEndpoint, **extra: Any) -> Config:
    return Config(
        data_dir=tmp_path / "data", database_url=db_url, alert_urls=[endpoint.url], **extra
    )


def openpr(healths: list[SourceHealth]) -> SourceHealth:
    return next(h for h in healths if h.source == SOURCE)


def titles(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("title")) for m in messages]


# -- unit: verdict changes against rows in the DB ------------------------------------------


def test_unhealthy_then_recovered_then_no_repeat_after_restart(
    tmp_path: Path, db_url: str, repository: Repository, alert_endpoint: AlertEndpoint
) -> None:
    config = make_config(tmp_path, db_url, alert_endpoint)
    record_run(repository, SOURCE, article_links=5, items_new=2)
    assert Alerter(config).update(evaluate(config, repository)) == []  # first look, healthy

    record_run(repository, SOURCE, article_links=5, items_new=2, errors=99)
    sent = Alerter(config).update(evaluate(config, repository))
    assert [(a.source, a.kind) for a in sent] == [(SOURCE, "unhealthy")]
    messages = alert_endpoint.wait_for(lambda m: len(m) == 1)
    assert "openPR (openpr) is unhealthy" in messages[0]["title"]
    assert "99 errors" in messages[0]["message"]
    assert messages[0]["type"] == "failure"

    # A restarted service (new Alerter, same data dir) does not repeat the alert.
    assert Alerter(config).update(evaluate(config, repository)) == []

    record_run(repository, SOURCE, article_links=5, items_new=2)
    sent = Alerter(config).update(evaluate(config, repository))
    assert [(a.source, a.kind) for a in sent] == [(SOURCE, "recovered")]
    messages = alert_endpoint.wait_for(lambda m: len(m) == 2)
    assert "recovered" in messages[1]["title"]
    assert messages[1]["type"] == "success"

    assert Alerter(config).update(evaluate(config, repository)) == []
    assert len(alert_endpoint.messages) == 2
    assert (tmp_path / "data" / "health-state.json").is_file()


def test_first_evaluation_of_an_unhealthy_source_alerts(
    tmp_path: Path, db_url: str, repository: Repository, alert_endpoint: AlertEndpoint
) -> None:
    config = make_config(tmp_path, db_url, alert_endpoint)
    record_run(repository, SOURCE, finish_reason="killed")
    sent = Alerter(config).update(evaluate(config, repository))
    assert [a.kind for a in sent] == ["unhealthy"]
    alert_endpoint.wait_for(lambda m: len(m) == 1)


def test_pending_sources_send_nothing(
    tmp_path: Path, db_url: str, repository: Repository, alert_endpoint: AlertEndpoint
) -> None:
    config = make_config(tmp_path, db_url, alert_endpoint)
    assert Alerter(config).update(evaluate(config, repository)) == []
    assert alert_endpoint.messages == []


def test_undelivered_alert_is_retried(
    tmp_path: Path, db_url: str, repository: Repository, alert_endpoint: AlertEndpoint
) -> None:
    record_run(repository, SOURCE, finish_reason="killed")
    # Nothing listens on the endpoint's port once it is stopped: delivery fails.
    dead = AlertEndpoint()
    dead_url = dead.url
    dead.stop()
    broken = Config(data_dir=tmp_path / "data", database_url=db_url, alert_urls=[dead_url])
    assert Alerter(broken).update(evaluate(broken, repository)) == []
    # The verdict was not recorded as alerted, so a working URL gets the alert next time.
    config = make_config(tmp_path, db_url, alert_endpoint)
    assert [a.kind for a in Alerter(config).update(evaluate(config, repository))] == ["unhealthy"]


# -- end to end: real crawls against the replay server -----------------------------------


EMPTY_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>openPR</title><link>https://www.openpr.de/</link>
<description>nothing today</description></channel></rss>
"""
EMPTY_LISTING = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">
<title>Wissenschaft, Forschung, Bildung - openPR</title></head>
<body><main><h1>Wissenschaft, Forschung, Bildung</h1><p>Keine Meldungen.</p></main></body></html>
"""


@pytest.mark.e2e
def test_health_flips_on_500s_and_lost_links_and_back(
    tmp_path: Path, replay: ReplayServer, alert_endpoint: AlertEndpoint
) -> None:
    """``replay`` (tests/conftest.py) serves a private copy of tests/sites we may break."""
    sites = replay.replay.tree.root
    data_dir = tmp_path / "data"
    config = Config(data_dir=data_dir, alert_urls=[alert_endpoint.url], health={"max_errors": 0})
    repository = Repository(config.db_url)
    alerter = Alerter(config)

    def run_and_judge() -> SourceHealth:
        # The crawl process gets the same error threshold as this test's config.
        run_crawl(SOURCE, data_dir, replay.url, CLUSTERWATCH_HEALTH__MAX_ERRORS="0")
        return openpr(evaluate(config, repository))

    healthy = run_and_judge()
    assert healthy.verdict == "healthy", healthy.reasons
    assert healthy.last_run is not None and healthy.last_run.article_links > 0
    assert alerter.update(evaluate(config, repository)) == []

    replay.replay.faults = {"www.openpr.de": 500}
    failing = run_and_judge()
    assert failing.verdict == "unhealthy"
    assert any("errors" in reason for reason in failing.reasons), failing.reasons
    assert [a.kind for a in alerter.update(evaluate(config, repository))] == ["unhealthy"]
    alert_endpoint.wait_for(
        lambda m: titles(m) == [f"clusterwatch: openPR ({SOURCE}) is unhealthy"]
    )

    replay.replay.faults = {}
    recovered = run_and_judge()
    assert recovered.verdict == "healthy", recovered.reasons
    # A restart between evaluations must not matter: a fresh Alerter reads the state file.
    assert [a.kind for a in Alerter(config).update(evaluate(config, repository))] == ["recovered"]
    alert_endpoint.wait_for(lambda m: len(m) == 2 and "recovered" in titles(m)[1])
    assert Alerter(config).update(evaluate(config, repository)) == []

    (sites / "www.openpr.de" / "rss" / "openpr.xml").write_text(EMPTY_FEED, encoding="utf-8")
    listing = (
        sites / "www.openpr.de" / "news" / "kategorien2-10-Wissenschaft-Forschung-Bildung.html"
    )
    listing.write_text(EMPTY_LISTING, encoding="utf-8")
    linkless = run_and_judge()
    assert linkless.verdict == "unhealthy"
    assert linkless.last_run is not None and linkless.last_run.article_links == 0
    assert any("0 article links" in reason for reason in linkless.reasons), linkless.reasons
    assert [a.kind for a in alerter.update(evaluate(config, repository))] == ["unhealthy"]
    messages = alert_endpoint.wait_for(lambda m: len(m) == 3)
    assert "0 article links" in messages[2]["message"]
    assert len(alert_endpoint.messages) == 3  # nothing sent twice
