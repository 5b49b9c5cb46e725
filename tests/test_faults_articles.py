"""Article-page faults against real processes: the replay server injects one fault per
article URL of two sources, real ``scrapy crawl`` processes crawl through it, and then:

- every failed page is remembered with its reason (not published, nothing of it stored),
  counted in the run, named by health; every drop is counted by reason;
- the pages that survive a fault (a retried 503, a Retry-After, a mislabelled charset, a slow
  trickle) are stored exactly as a clean crawl stores them — nothing corrupt;
- when the faults are gone and the back-off is over, one crawl completes exactly the set of a
  clean crawl (tests/expected), with no duplicates; no traceback anywhere.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from db.repository import Repository
from monitor.replay import ReplayServer
from tests.conftest import REPO_ROOT, copy_sites, crawl_env
from tests.faults import (
    Picture,
    add_faults,
    clear_faults,
    corrupted,
    crawl,
    end_backoff,
    expected_canonicals,
    fetchable_urls,
    health,
    messages,
    rule,
    tracebacks,
)
from tests.reliability import Recorder

SOURCES = ("openpr", "clusterplattform", "bmwe")
MAINTENANCE = (
    "<html><head><title>Wartungsarbeiten</title></head><body><h1>Wartungsarbeiten</h1>"
    "<p>Wir sind gleich wieder da.</p></body></html>"
)
TIMEOUT = "10"  # seconds per attempt (CLUSTERWATCH_DOWNLOAD_TIMEOUT): the stall costs 3 × 10 s;
# shorter timeouts made attempts of other faults time out on a loaded machine (load 8–11)


@dataclass(frozen=True)
class Case:
    name: str  # the fault in words (docs/RELIABILITY.md)
    rules: tuple[tuple[str, dict[str, Any]], ...]  # (fault, options) for the URL; "+alt": …
    reason: str | None  # regex the failure reason matches; None: the page must be stored
    behaviour: str


FAILING = [
    Case(
        "503 on every attempt",
        (("status", {"status": 503}),),
        r"HTTP 503",
        "remembered as failed (HTTP 503) after Scrapy's 2 retries; refetched after the back-off",
    ),
    Case(
        "500, then 502, then 504 (one per attempt)",
        (
            ("status", {"status": 500, "times": 1}),
            ("status", {"status": 502, "times": 1}),
            ("status", {"status": 504}),
        ),
        r"HTTP 504",
        "retried on each (Scrapy's 2 retries), remembered as failed with the last answer "
        "(HTTP 504); refetched after the back-off",
    ),
    Case(
        "403 (bot protection)",
        (("status", {"status": 403}),),
        r"HTTP 403",
        "remembered as failed (HTTP 403), retried after the back-off",
    ),
    Case(
        "429 with Retry-After: 3600 (over the 60 s bound)",
        (("status", {"status": 429, "retry_after": 3600}),),
        r"HTTP 429",
        "not retried this run (wait over the bound, logged), remembered as failed",
    ),
    Case(
        "connection reset before the headers",
        (("reset", {}),),
        r"connection to www\.\S+ lost",
        "retried, then remembered as failed",
    ),
    Case(
        "connection reset mid-body",
        (("reset_body", {}),),
        r"body cut off",
        "retried, then remembered as failed",
    ),
    Case(
        "body cut at 45 % without Content-Length (close-delimited)",
        (("truncate", {}),),
        r"body cut off",
        "Scrapy's partial flag honoured: remembered as failed, the cut body not stored",
    ),
    Case(
        "body cut at 45 % with Content-Length",
        (("truncate", {"content_length": True}),),
        r"body cut off",
        "data loss detected, retried, remembered as failed",
    ),
    Case(
        "Content-Encoding: gzip on garbage",
        (("gzip_garbage", {}),),
        r"does not decompress",
        "remembered as failed, nothing stored",
    ),
    Case(
        "20 MB body",
        (("huge", {}),),
        r"larger than the max page size",
        "refused above max_page_bytes, remembered as failed",
    ),
    Case(
        "200 maintenance page instead of the article",
        (("replace", {"body": MAINTENANCE, "content_type": "text/html; charset=utf-8"}),),
        r"not an article|extraction failed",
        "remembered as failed (not an article), never published",
    ),
    Case(
        "200 maintenance page in the site's own chrome (title, navigation, footer; "
        "a 250-character notice)",
        (("maintenance", {}),),
        r"not the announced article",
        "remembered as failed (the page carries none of the words of the link that "
        "announced it), never published",
    ),
    Case(
        "endless redirect chain",
        (("redirect_loop", {}),),
        r"redirect loop",
        "dropped as redirect_loop (counted), remembered as failed",
    ),
    Case(
        "redirect back and forth (A → B → A)",
        (("redirect", {"location": "{path}?via=b"}), ("+alt", {})),
        r"redirect loop",
        "dropped as redirect_loop (counted), remembered as failed",
    ),
    Case(
        "off-site redirect",
        (("redirect", {"location": "https://elsewhere.example/moved.html"}),),
        r"off-site",
        "not followed, dropped as offsite (counted), remembered as failed",
    ),
    Case(
        "503 once, then an off-site redirect (the retry is a dont_filter request)",
        (
            ("status", {"status": 503, "times": 1}),
            ("redirect", {"location": "https://elsewhere.example/moved.html"}),
        ),
        r"off-site",
        "the retry is filtered off-site like any request, dropped as offsite (counted), "
        "remembered as failed",
    ),
    Case(
        "redirect to a loopback address",
        (("redirect", {"location": "http://127.0.0.1:9/admin"}),),
        r"off-site",
        "not followed, dropped as offsite (counted), remembered as failed",
    ),
    Case(
        "stall forever",
        (("stall", {}),),
        r"timed out",
        "timed out after download_timeout on each attempt, remembered as failed",
    ),
]
SURVIVING = [
    Case(
        "503 once",
        (("status", {"status": 503, "times": 1}),),
        None,
        "retried at once, stored as in a clean crawl",
    ),
    Case(
        "429 once with Retry-After: 2",
        (("status", {"status": 429, "retry_after": 2, "times": 1}),),
        None,
        "waited 2 s as asked, retried, stored as in a clean crawl",
    ),
    Case(
        "windows-1252 bytes labelled UTF-8",
        (("charset", {}),),
        None,
        "decoded as windows-1252 (not U+FFFD), stored exactly as a clean crawl stores it",
    ),
    Case(
        "windows-1252 bytes with no charset anywhere in the Content-Type",
        (("charset", {"encoding": "cp1252", "label": ""}),),
        None,
        "decoded from the page's own declaration or as Windows-1252, stored as in a clean "
        "crawl (no U+FFFD)",
    ),
    Case(
        "slow trickle (2 kB every 0.1 s)",
        (("trickle", {"chunk": 2048, "delay": 0.1}),),
        None,
        "read to the end, stored as in a clean crawl",
    ),
]


def _rules_for(url: str, case: Case) -> list[dict[str, Any]]:
    rules = []
    for fault, options in case.rules:
        if fault == "+alt":  # the other end of a back-and-forth redirect
            rules.append(rule(url + "?via=b", "redirect", location=_path(url)))
            continue
        opts = {
            k: (v.format(path=_path(url)) if isinstance(v, str) else v) for k, v in options.items()
        }
        made = rule(url, fault, **opts)
        if fault == "redirect_loop":
            made["query"] = None  # it redirects to ?_loop=1, 2, …: every one loops on
        rules.append(made)
    return rules


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _assign() -> dict[str, Case]:
    """One case per fetchable article URL of the two sources."""
    # Round robin over the sources, so every source gets failing and surviving faults.
    per_source = [fetchable_urls(source) for source in SOURCES]
    urls = [u for row in zip_longest(*per_source) for u in row if u is not None]
    cases = FAILING + SURVIVING
    assert len(urls) >= len(cases), f"{len(urls)} article pages for {len(cases)} faults"
    return dict(zip(urls, cases, strict=False))


def test_article_faults_are_remembered_counted_named_and_healed(
    tmp_path: Path, reliability: Recorder
) -> None:
    assigned = _assign()
    reference_dir, data_dir = tmp_path / "reference", tmp_path / "data"
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    reference = Repository(f"sqlite:///{reference_dir / 'clusterwatch.db'}")
    env = {"CLUSTERWATCH_DOWNLOAD_TIMEOUT": TIMEOUT}
    with (
        ReplayServer(copy_sites(tmp_path / "clean")) as clean,
        ReplayServer(copy_sites(tmp_path / "sites")) as server,
    ):
        add_faults(server, [r for url, case in assigned.items() for r in _rules_for(url, case)])
        started = time.monotonic()
        with ThreadPoolExecutor(2) as pool:  # the clean reference crawl at the same time
            ref_job = pool.submit(crawl, SOURCES, reference_dir, clean.url)
            results = crawl(SOURCES, data_dir, server.url, **env)
            results.update({f"ref-{s}": r for s, r in ref_job.result().items()})
        faulty_seconds = time.monotonic() - started
        used = clear_faults(server)

        # Every rule was hit: the fault really was injected.
        assert all(r["hits"] > 0 for r in used), [r for r in used if not r["hits"]]
        pictures = {s: Picture.of(repository, s) for s in SOURCES}
        refs = {s: Picture.of(reference, s) for s in SOURCES}
        for source in SOURCES:
            assert set(refs[source].stored) == expected_canonicals(source)
        spiders = _spiders()
        for url, case in assigned.items():
            source = next(s for s in SOURCES if spiders[s].handles_request_url(url))
            canonical = spiders[source].canonical(url)
            picture, ref = pictures[source], refs[source]
            if case.reason is None:
                assert canonical in picture.stored, (case.name, url)
                assert not corrupted({canonical: picture.stored[canonical]}, ref.stored), case.name
                continue
            assert canonical not in picture.stored, (case.name, url)
            failure = picture.failed.get(canonical)
            assert failure is not None, (case.name, url)
            assert re.search(case.reason, failure.fail_reason or "", re.I), (
                case.name,
                failure.fail_reason,
            )
            assert failure.retry_at is not None
            if case.rules[0][0] == "maintenance":  # the retry still knows what was announced
                assert failure.link_text, (case.name, url)
        # Nothing corrupt among everything stored; nothing failed published.
        for source in SOURCES:
            picture = pictures[source]
            assert corrupted(picture.stored, refs[source].stored) == []
            published = {a.canonical_url for a in repository.feed_articles(source, 100)}
            assert not published & set(picture.failed)

        # Counted: failures, drops by reason, Retry-After; visible in runs and log.
        runs = {s: repository.runs(s, limit=1)[0] for s in SOURCES}
        stats: dict[str, int] = {}
        for run in runs.values():
            for key, value in run.stats.items():
                if isinstance(value, int):
                    stats[key] = stats.get(key, 0) + value
        assert sum(r.items_failed for r in runs.values()) == len(FAILING)
        assert stats.get("clusterwatch/dropped/redirect_loop", 0) == 2
        offsite = sum(1 for c in assigned.values() if re.search("off-site", c.reason or ""))
        assert stats.get("clusterwatch/dropped/offsite", 0) == offsite == 3
        assert stats.get("clusterwatch/retry_after/waited", 0) == 1
        assert stats.get("clusterwatch/retry_after/too_long", 0) == 1
        charsets = sum(1 for c in assigned.values() if c.rules[0][0] == "charset")
        assert stats.get("clusterwatch/decoding/repaired", 0) == charsets == 2
        listed = _cli(["runs", "--format", "json"], data_dir)
        dropped = [r["dropped"] for r in json.loads(listed)]
        assert sum(d.get("offsite", 0) for d in dropped) == offsite
        assert sum(d.get("redirect_loop", 0) for d in dropped) == 2
        log = "".join(_cli(["log", str(r.id)], data_dir) for r in runs.values())
        assert "; dropped requests: " in log and "offsite " in log and "redirect_loop " in log
        assert re.search(r"redirect loop", log) and re.search(r"off-site request", log)
        # Retry-After: 2 was waited for (the log of the replay shows the gap).
        (waited_url,) = [u for u, c in assigned.items() if "Retry-After: 2" in c.name]
        times = [e.time for e in server.log if e.url == waited_url]
        assert len(times) == 2 and times[1] - times[0] >= 1.9

        # Health names the fault, whatever max_errors says.
        for source in SOURCES:
            found = health(data_dir, source, max_errors=1000)
            assert found.verdict == "unhealthy", messages(found)
            assert any(m.startswith("articles.fetch_failed") for m in messages(found)), messages(
                found
            )

        # 2. The faults are gone and the back-off is over: exactly the clean set.
        end_backoff(repository)
        results.update({f"heal-{s}": r for s, r in crawl(SOURCES, data_dir, server.url).items()})
        for source in SOURCES:
            healed = Picture.of(repository, source)
            assert set(healed.stored) == expected_canonicals(source) == set(refs[source].stored)
            assert healed.failed == {}
            assert corrupted(healed.stored, refs[source].stored) == []
            stories = {a.story_id for a in healed.stored.values()}
            ref_stories = {a.story_id for a in refs[source].stored.values()}
            assert len(stories) == len(ref_stories)  # no duplicate stories
            assert health(data_dir, source).verdict == "healthy"
        assert tracebacks(data_dir, results.values()) == 0

    for case in FAILING + SURVIVING:
        reliability.record("fetch: article", case.name, case.behaviour)
    reliability.record(
        "fetch: article",
        f"all {len(assigned)} faults above at once, one crawl of 2 sources "
        f"({faulty_seconds:.0f} s)",
        "healthy crawl after the back-off stores exactly the clean set: lost 0, corrupt 0, "
        "duplicate stories 0; health named articles.fetch_failed",
    )


def _spiders() -> dict[str, Any]:
    from scraper.evaluation import spider_classes

    class Probe:
        def __init__(self, cls: Any):
            self.spider = cls()
            self.hosts = {h.lower() for h in cls.hosts}

        def handles_request_url(self, url: str) -> bool:
            return re.sub(r"^https?://([^/]+).*", r"\1", url).lower() in self.hosts

        def canonical(self, url: str) -> str:
            return str(self.spider.canonical(url))

        def is_article_url(self, url: str) -> bool:
            return bool(self.spider.is_article_url(url))

    return {s: Probe(cls) for s, cls in spider_classes().items() if s in SOURCES}


def _is_article(spiders: dict[str, Any], url: str) -> bool:
    return any(p.handles_request_url(url) and p.is_article_url(url) for p in spiders.values())


def _cli(args: list[str], data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        cwd=REPO_ROOT,
        env={**crawl_env(data_dir, None), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout
