"""``/metrics``: per-source health for Prometheus (the ``prometheus_client`` library).

The values are computed from the crawl log at every scrape (a custom collector on a registry
of its own), so they agree with ``clusterwatch status`` and the status page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.health import VERDICTS, SourceHealth

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthCollector(Collector):
    def __init__(self, healths: Callable[[], list[SourceHealth]], version: str):
        self.healths = healths
        self.version = version

    def collect(self) -> Iterator[Metric]:
        healths = self.healths()
        info = InfoMetricFamily("clusterwatch", "clusterwatch build information")
        info.add_metric([], {"version": self.version})
        yield info
        verdict = GaugeMetricFamily(
            "clusterwatch_source_verdict",
            "1 for the source's current verdict (healthy, degraded, unhealthy, pending, "
            "disabled), 0 for the others",
            labels=["source", "verdict"],
        )
        findings = GaugeMetricFamily(
            "clusterwatch_source_findings",
            "Health rules firing for the source (rule id, severity)",
            labels=["source", "rule", "severity"],
        )
        last_success = GaugeMetricFamily(
            "clusterwatch_source_last_success_timestamp_seconds",
            "When the source's last successful run finished (Unix time)",
            labels=["source"],
        )
        last_run = GaugeMetricFamily(
            "clusterwatch_source_last_run_timestamp_seconds",
            "When the source's last judged run started (Unix time)",
            labels=["source"],
        )
        items = GaugeMetricFamily(
            "clusterwatch_source_items_new_last_run",
            "New announcements stored by the source's last run",
            labels=["source"],
        )
        items_week = GaugeMetricFamily(
            "clusterwatch_source_items_last_7_days",
            "Announcements published from the source in the last 7 days",
            labels=["source"],
        )
        errors = GaugeMetricFamily(
            "clusterwatch_source_errors_last_run",
            "Errors logged by the source's last run (upstream 5xx/403/429 included)",
            labels=["source"],
        )
        for health in healths:
            name = health.source
            for candidate in VERDICTS:
                verdict.add_metric([name, candidate], 1.0 if health.verdict == candidate else 0.0)
            for finding in health.findings:
                findings.add_metric([name, finding.rule, finding.severity], 1.0)
            if health.last_success_at is not None:
                last_success.add_metric([name], health.last_success_at.timestamp())
            if health.last_run is not None:
                last_run.add_metric([name], health.last_run.started_at.timestamp())
            items.add_metric([name], float(health.items_new_last_run or 0))
            items_week.add_metric([name], float(health.items_last_7_days))
            errors.add_metric([name], float(health.errors_last_run or 0))
        yield from (verdict, findings, last_success, last_run, items, items_week, errors)


def render_metrics(healths: Callable[[], list[SourceHealth]], version: str) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector(healths, version))
    return generate_latest(registry)
