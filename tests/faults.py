"""Helpers of the fault tests: fault rules for one URL, crawls of several sources at once, and
the checks every fault test makes (nothing lost, nothing corrupt, no duplicates, no
traceback)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import update

from db.models import Article
from db.repository import Repository
from monitor.health import SourceHealth, evaluate
from monitor.replay import ReplayServer
from scraper.config import Config, HealthConfig
from scraper.evaluation import load_expected, spider_classes
from tests.conftest import EXPECTED, run_crawl


def rule(url: str, fault: str, **options: Any) -> dict[str, Any]:
    """A fault rule for exactly this URL (host, path and query)."""
    parts = urlsplit(url)
    return {
        "fault": fault,
        "match": "regex",
        "host": re.escape(parts.netloc),
        "path": re.escape(parts.path or "/"),
        "query": re.escape(parts.query),
        **options,
    }


def add_faults(server: ReplayServer, rules: Iterable[dict[str, Any]]) -> None:
    response = httpx.post(f"{server.url}/_replay/faults", json=list(rules), timeout=10)
    response.raise_for_status()


def clear_faults(server: ReplayServer) -> list[dict[str, Any]]:
    """Clear the rules; returns them as they were (with their hit counts)."""
    rules: list[dict[str, Any]] = httpx.get(f"{server.url}/_replay/faults").json()["rules"]
    httpx.delete(f"{server.url}/_replay/faults").raise_for_status()
    return rules


def crawl(
    sources: Iterable[str], data_dir: Path, mirror: str, **env: str
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Real ``scrapy crawl`` processes, one per source, at the same time."""
    names = list(sources)
    with ThreadPoolExecutor(len(names)) as pool:
        done = pool.map(lambda s: run_crawl(s, data_dir, mirror, **env), names)
        return dict(zip(names, done, strict=True))


def expected_urls(source: str) -> list[str]:
    """The articles a clean crawl of ``source`` stores (tests/expected), as linked."""
    return sorted(e.url for e in load_expected(EXPECTED, source))


def expected_canonicals(source: str) -> set[str]:
    spider = spider_classes()[source]()
    return {spider.canonical(url) for url in expected_urls(source)}


def robots_disallowed(source: str) -> set[str]:
    data = (EXPECTED / source / "manifest.json").read_text("utf-8")
    import json

    return set(json.loads(data).get("robots_disallowed", []))


def fetchable_urls(source: str) -> list[str]:
    """Expected articles a crawl requests (robots.txt allows them), on the canonical host."""
    host = spider_classes()[source].hosts[0]
    blocked = robots_disallowed(source)
    return [u for u in expected_urls(source) if u not in blocked and urlsplit(u).netloc == host]


def end_backoff(repository: Repository) -> None:
    """As if the failed pages' back-off were over (the clock moved on)."""
    with repository.session() as s, s.begin():
        s.execute(
            update(Article)
            .where(Article.state == "failed")
            .values(retry_at=datetime.now(UTC) - timedelta(minutes=1))
        )


def tracebacks(data_dir: Path, results: Iterable[subprocess.CompletedProcess[str]]) -> int:
    """Tracebacks in the crawl processes' output and in every run log."""
    count = sum(r.stderr.count("Traceback (most recent call last)") for r in results)
    for log in (data_dir / "logs").rglob("*.log"):
        count += log.read_text("utf-8", errors="replace").count("Traceback (most recent call")
    return count


@dataclass
class Picture:
    """What the store holds for a source: stored articles by canonical URL, failures."""

    stored: dict[str, Article]
    failed: dict[str, Article]

    @classmethod
    def of(cls, repository: Repository, source: str) -> Picture:
        return cls(
            {a.canonical_url: a for a in repository.articles(source)},
            {a.canonical_url: a for a in repository.failures(source)},
        )


def corrupted(stored: dict[str, Article], reference: dict[str, Article]) -> list[str]:
    """Stored articles whose title or text differ from a clean crawl's, or hold U+FFFD."""
    bad = []
    for canonical, article in stored.items():
        ref = reference.get(canonical)
        if "\ufffd" in article.text + article.title or (
            ref is not None and (article.text != ref.text or article.title != ref.title)
        ):
            bad.append(canonical)
    return bad


def health(data_dir: Path, source: str, **thresholds: Any) -> SourceHealth:
    config = Config(data_dir=data_dir, health=HealthConfig(**thresholds))
    found = [h for h in evaluate(config, Repository(config.db_url)) if h.source == source]
    return found[0]


def messages(found: SourceHealth) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in found.findings]
