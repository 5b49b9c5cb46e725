"""Entry-point, cache, robots.txt and outage faults against real ``scrapy crawl`` processes.

Each test injects its faults on several sources at once, crawls, checks what was recorded
(the cause of every failed entry point, drops by reason, health naming the fault), then
crawls again without the faults and checks that exactly the clean set is stored (tests/
expected): nothing lost for good, nothing corrupt, no duplicate, no traceback.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from db.repository import Repository
from monitor.replay import ReplayServer, ReplayTree
from scraper import discovery
from scraper.evaluation import spider_classes
from tests.conftest import copy_sites
from tests.faults import (
    Picture,
    add_faults,
    clear_faults,
    corrupted,
    crawl,
    expected_canonicals,
    health,
    messages,
    rule,
    tracebacks,
)
from tests.reliability import Recorder

HTML_PAGE = "<html><head><title>Presse</title></head><body><p>Willkommen</p></body></html>"
TIMEOUT = {"CLUSTERWATCH_DOWNLOAD_TIMEOUT": "5"}


def _spider(source: str) -> Any:
    return spider_classes()[source]


def _entry_causes(repository: Repository, source: str) -> list[str]:
    run = repository.runs(source, limit=1)[0]
    return [str(f["cause"]) for f in run.stats.get("clusterwatch/entry/failures", [])]


def _page_two(sites: Path, source: str) -> str:
    """The URL of the listing's second page, as the spider's discovery finds it."""
    spider = _spider(source)
    page = ReplayTree(sites).resolve_url(spider.listings[0]).file
    assert page is not None
    found = discovery.next_page(
        page.read_text("utf-8"), spider.listings[0], spider.next_page_xpaths
    )
    assert found is not None, f"{source}: its listing has a second page"
    return found.url


def test_entry_faults_cache_poisoning_and_lost_pages_heal(
    tmp_path: Path, reliability: Recorder
) -> None:
    """Garbage gzip on clib's feed and listing (the cache must not keep it), HTML served as
    bmwe's feed and its listing cut off mid-body, clusterplattform's listing page 2 failing
    on every attempt (its articles must not be lost for good)."""
    sources = ("clib", "bmwe", "clusterplattform")
    data_dir = tmp_path / "data"
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    sites = copy_sites(tmp_path / "sites")
    page_two = _page_two(sites, "clusterplattform")
    with ReplayServer(sites) as server:
        clib, bmwe = _spider("clib"), _spider("bmwe")
        add_faults(
            server,
            [
                rule(clib.feeds[0], "gzip_garbage"),
                rule(clib.listings[0], "gzip_garbage"),
                rule(bmwe.feeds[0], "replace", body=HTML_PAGE, content_type="text/html"),
                rule(bmwe.listings[0], "truncate", fraction=0.5),
                rule(page_two, "status", status=503),
            ],
        )
        first = crawl(sources, data_dir, server.url)
        used = clear_faults(server)
        assert all(r["hits"] for r in used), used

        causes = {s: _entry_causes(repository, s) for s in sources}
        assert sum("does not decompress" in c for c in causes["clib"]) == 2, causes["clib"]
        assert any("feed is not RSS/Atom (text/html" in c for c in causes["bmwe"]), causes
        assert any("body cut off" in c for c in causes["bmwe"]), causes["bmwe"]
        assert any("HTTP 503" in c for c in causes["clusterplattform"]), causes
        missing = expected_canonicals("clusterplattform") - set(
            Picture.of(repository, "clusterplattform").stored
        )
        assert missing, "page 2 held articles linked nowhere else (the fault must cost some)"
        pending = repository.runs("clusterplattform", limit=1)[0].stats
        assert pending["clusterwatch/entry/pending_pages"] == [page_two]
        for source in sources:
            found = health(data_dir, source, max_errors=1000)
            assert found.verdict != "healthy", (source, messages(found))
            assert any(m.startswith("entry.") for m in messages(found)), messages(found)

        # The faults are gone: one crawl completes exactly the clean set.
        start = len(server.log)
        second = crawl(sources, data_dir, server.url)
        again = server.log[start:]
        for url in (clib.feeds[0], clib.listings[0]):
            (entry,) = [e for e in again if e.url == url]
            # Nothing was cached from the garbage: a fresh 200, not a 304 to a poisoned copy.
            assert entry.status == 200 and not entry.conditional, entry
        assert [e.url for e in again if e.url == page_two], "page 2 asked again directly"
        for source in sources:
            picture = Picture.of(repository, source)
            assert set(picture.stored) == expected_canonicals(source), source
            assert corrupted(picture.stored, {}) == []
            assert health(data_dir, source).verdict == "healthy", messages(health(data_dir, source))
        assert tracebacks(data_dir, [*first.values(), *second.values()]) == 0

    rows = [
        ("cache", "Content-Encoding: gzip on garbage, on clib's feed and listing",
         "entry points failed with 'body does not decompress'; the cache stored nothing, so "
         "the next crawl got a fresh 200 and the complete set"),
        ("feed", "an HTML page (200, text/html) served as bmwe's feed",
         "entry failure 'feed is not RSS/Atom (text/html answer)'; health names it"),
        ("listing", "bmwe's listing cut off mid-body (close-delimited, no Content-Length)",
         "entry failure 'body cut off' (Scrapy's partial flag); its links used, not cached"),
        ("listing", "listing page 2 answering 503 on every attempt",
         f"{len(missing)} articles linked only there missed; page remembered in the run, "
         "requested directly next crawl: nothing lost"),
    ]  # fmt: skip
    for area, fault, behaviour in rows:
        reliability.record(area, fault, behaviour)


def test_robots_txt_errors_disallow_and_are_revalidated_then_outages_count(
    tmp_path: Path, reliability: Recorder
) -> None:
    """robots.txt disallowing all (cacheable 200), answering 503, stalling: nothing is
    fetched that run, the drops are counted and named; the next run asks robots.txt again
    and completes the set. Then the site refuses connections, then answers 503 to every
    request: errors and an unreachable verdict, never a stale cached copy taken for a 200."""
    data_dir = tmp_path / "data"
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    faults: dict[str, dict[str, Any]] = {
        "openpr": {"fault": "replace", "body": "User-agent: *\nDisallow: /\n"},
        "clib": {"fault": "status", "status": 503},
        "bmwe": {"fault": "stall"},
    }
    sources = tuple(faults)
    with ReplayServer(copy_sites(tmp_path / "sites")) as server:
        add_faults(
            server,
            [
                {**f, **rule(f"https://{_spider(s).hosts[0]}/robots.txt", f["fault"])}
                for s, f in faults.items()
            ],
        )
        results = list(crawl(sources, data_dir, server.url, **TIMEOUT).values())
        clear_faults(server)
        for source in sources:
            picture = Picture.of(repository, source)
            host = _spider(source).hosts[0]
            fetched = [e for e in server.log if e.host == host and e.path != "/robots.txt"]
            assert fetched == [], f"{source}: fetched despite robots.txt: {fetched[:3]}"
            assert picture.stored == {} and picture.failed == {}
            run = repository.runs(source, limit=1)[0]
            assert run.stats.get("clusterwatch/dropped/robots", 0) >= 1
            found = health(data_dir, source)
            assert found.verdict == "unhealthy"
            text = " ".join(messages(found))
            assert "entry.unreachable" in text and "robots.txt" in text, text
        assert "answered HTTP 503" in " ".join(messages(health(data_dir, "clib")))
        assert "unreachable (timed out)" in " ".join(messages(health(data_dir, "bmwe")))

        # The site is fine again: robots.txt is asked again (not the cached disallow-all).
        results += crawl(sources, data_dir, server.url).values()
        for source in sources:
            assert set(Picture.of(repository, source).stored) == expected_canonicals(source)
            assert health(data_dir, source).verdict == "healthy"

        # An established source goes down: first no connection at all, then 503 everywhere.
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            refused = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening
            results += crawl(["openpr"], data_dir, refused).values()
        run = repository.runs("openpr", limit=1)[0]
        assert run.errors > 0 and "httpcache/errorrecovery" not in run.stats
        assert "200" not in (run.responses_by_status or {})
        down = " ".join(messages(health(data_dir, "openpr")))
        assert "entry.unreachable" in down and "connection refused" in down, down
        add_faults(server, [{"fault": "status", "status": 503, "host": "www.openpr.de"}])
        results += crawl(["openpr"], data_dir, server.url).values()
        run = repository.runs("openpr", limit=1)[0]
        assert run.errors > 0 and run.stats.get("httpcache/revalidate", 0) == 0
        down = " ".join(messages(health(data_dir, "openpr")))
        assert "entry.unreachable" in down and "HTTP 503" in down, down
        assert set(Picture.of(repository, "openpr").stored) == expected_canonicals("openpr")
        assert tracebacks(data_dir, results) == 0

    rows = [
        ("robots", "robots.txt 'Disallow: /' (a cacheable 200)",
         "nothing fetched, drops counted as robots; next run revalidated robots.txt and "
         "completed the set"),
        ("robots", "robots.txt answering 503",
         "RFC 9309: whole host disallowed for the run; entry.unreachable names 'robots.txt "
         "answered HTTP 503'; next run complete"),
        ("outage", "mirror refusing connections after an established crawl",
         "errors > 0, no stale cached copy (no httpcache/errorrecovery), entry.unreachable "
         "names 'connection refused'"),
        ("outage", "every URL of the host answering 503",
         "errors > 0, the cached copies not used, entry.unreachable names 'HTTP 503'; "
         "nothing lost"),
        ("robots", "robots.txt stalling (timeout)",
         "host disallowed for the run ('robots.txt unreachable (timed out)'); next run "
         "complete"),
    ]  # fmt: skip
    for area, fault, behaviour in rows:
        reliability.record(area, fault, behaviour)


def test_malformed_feed_and_empty_listing(tmp_path: Path, reliability: Recorder) -> None:
    """openpr's feed cut in half (malformed XML) and its listing empty: the entries read are
    used, both count as failed or lost with a cause, the next healthy crawl completes the
    set."""
    data_dir = tmp_path / "data"
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    openpr = _spider("openpr")
    empty = "<html><head><title>News</title></head><body><p>Keine Meldungen.</p></body></html>"
    with ReplayServer(copy_sites(tmp_path / "sites")) as server:
        add_faults(
            server,
            [
                rule(openpr.feeds[0], "replace", cut=0.5),
                rule(openpr.listings[0], "replace", body=empty, content_type="text/html"),
            ],
        )
        results = list(crawl(["openpr"], data_dir, server.url).values())
        clear_faults(server)
        causes = _entry_causes(repository, "openpr")
        assert any("feed is malformed" in c for c in causes), causes
        found = health(data_dir, "openpr", max_errors=1000)
        assert any(m.startswith("entry.failed") for m in messages(found)), messages(found)
        results += crawl(["openpr"], data_dir, server.url).values()
        assert set(Picture.of(repository, "openpr").stored) == expected_canonicals("openpr")
        assert tracebacks(data_dir, results) == 0
    reliability.record(
        "feed",
        "feed cut in half (malformed XML) with the listing empty",
        "entry failure 'feed is malformed (…); N entries read', the entries read used; "
        "next healthy crawl complete",
    )
