"""Every feed of a crawled replay is valid: the labelled story set (tests/sites_stories)
crawled by the real spiders, feeds built and served, and each RSS, Atom and JSON Feed
document fetched over HTTP and run through the spec checker (tests/monitor/feed_check.py)
with the URL it was fetched from. The JSON Feed carries the same entries as Atom; the OPML
lists every feed; JSON Feed and OPML get ETag/304/gzip like the XML feeds."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import feedparser
import httpx
import pytest
from lxml import etree

from db.migrate import upgrade
from db.repository import Repository
from monitor.feeds import EMPTY_FEED_DATE, build_feeds
from monitor.server import BackgroundServer
from monitor.sources import list_sources
from scraper.config import Config
from tests.monitor.conftest import STORY_SOURCES as SOURCES
from tests.monitor.conftest import Crawled
from tests.monitor.feed_check import check_feed

SUFFIXES = ("xml", "atom", "json")


def _serve_and_check(config: Config, repository: Repository) -> dict[str, list[str]]:
    """Build the feeds for the server's real address, fetch each, check it there."""
    with BackgroundServer(config, host="127.0.0.1", port=0) as server:
        served = config.model_copy(update={"feed_base_url": server.url})
        build_feeds(served, repository, list_sources(served))
        names = sorted(p.name for p in config.feeds_dir.iterdir() if not p.name.startswith("."))
        problems: dict[str, list[str]] = {}
        for name in names:
            if name.endswith((".opml", ".gz")):  # .gz: the gzip twins, served as Content-Encoding
                continue
            url = f"{server.url}/feeds/{name}"
            response = httpx.get(url, timeout=10)
            assert response.status_code == 200, name
            problems[name] = check_feed(response.content, name.rsplit(".", 1)[1], url)
        return problems


def test_every_feed_of_a_crawled_replay_is_valid(crawled: Crawled) -> None:
    problems = _serve_and_check(crawled.config, crawled.repository)
    stems = {"all", *SOURCES}
    assert set(problems) == {f"{stem}.{suffix}" for stem in stems for suffix in SUFFIXES}
    assert {name: errors for name, errors in problems.items() if errors} == {}
    entries = json.loads((crawled.config.feeds_dir / "all.json").read_bytes())["items"]
    assert len(entries) >= 10  # the story set really reached the feeds


def test_empty_feeds_are_valid_with_a_plausible_date(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = Config(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cw.db'}")
    upgrade(config.db_url)
    problems = _serve_and_check(config, Repository(config.db_url))
    assert {name: errors for name, errors in problems.items() if errors} == {}
    atom = feedparser.parse((config.feeds_dir / "all.atom").read_bytes())
    assert atom.feed.updated.startswith(EMPTY_FEED_DATE.strftime("%Y-%m-%d"))
    assert EMPTY_FEED_DATE.year >= 2024


def test_the_checker_finds_what_the_w3c_validator_found() -> None:
    """The errors the issue reports (no entry author, a 1970 date, a wrong self link)."""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><id>https://x.example/f</id>
      <title>t</title><updated>1970-01-01T00:00:00Z</updated>
      <link rel="self" href="https://elsewhere.example/f.atom"/>
      <entry><id>https://x.example/1</id><title>e</title><updated>2024-01-01T00:00:00Z</updated>
      <link href="https://x.example/1"/></entry></feed>"""
    errors = check_feed(atom, "atom", "https://x.example/f.atom")
    assert any("implausible" in e for e in errors)
    assert any("author" in e for e in errors)
    assert any("self link" in e for e in errors)
    assert check_feed(b'{"version": "1"}', "json", "u")  # no title, no items, wrong version


def test_json_feed_has_the_same_entries_as_atom(crawled: Crawled) -> None:
    feeds = crawled.config.feeds_dir
    build_feeds(crawled.config, crawled.repository, list_sources(crawled.config))
    for stem in ("all", "clusterplattform"):
        atom = feedparser.parse((feeds / f"{stem}.atom").read_bytes()).entries
        items = json.loads((feeds / f"{stem}.json").read_bytes())["items"]
        assert [i["id"] for i in items] == [e.id for e in atom]
        assert [i["url"] for i in items] == [e.link for e in atom]
        assert [i["title"] for i in items] == [e.title for e in atom]
        assert [i["tags"] for i in items] == [[t.term for t in e.tags] for e in atom]
        assert [i["content_html"] for i in items] == [e.content[0].value for e in atom]
        assert [i["authors"][0]["name"] for i in items] == [e.author for e in atom]
        for item, entry in zip(items, atom, strict=True):
            assert item["date_published"] == entry.published.replace("+00:00", "Z")
            assert item["date_modified"] == entry.updated.replace("+00:00", "Z")


def test_opml_lists_every_feed_with_its_title(crawled: Crawled) -> None:
    config = crawled.config.model_copy(update={"feed_base_url": "https://feeds.example"})
    build_feeds(config, crawled.repository, list_sources(config))
    tree = etree.parse(str(config.feeds_dir / "feeds.opml"))
    assert tree.getroot().get("version") == "2.0"
    outlines = tree.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        f"https://feeds.example/feeds/{stem}.xml" for stem in ["all", *SOURCES]
    ]
    rss_titles = {
        o.get("xmlUrl"): etree.parse(
            str(config.feeds_dir / o.get("xmlUrl").rsplit("/", 1)[1])
        ).findtext("channel/title")
        for o in outlines
    }
    assert all(o.get("title") == rss_titles[o.get("xmlUrl")] for o in outlines)
    assert all(o.get("type") == "rss" and o.get("text") for o in outlines)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/all.json", "application/feed+json; charset=utf-8"),
        ("/feeds/openpr.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
    ],
)
def test_json_feed_and_opml_are_served_like_the_xml_feeds(
    crawled: Crawled, path: str, media_type: str
) -> None:
    build_feeds(crawled.config, crawled.repository, list_sources(crawled.config))
    with BackgroundServer(crawled.config, host="127.0.0.1", port=0) as server:
        url = server.url + path
        plain = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
        assert plain.status_code == 200
        assert plain.headers["content-type"] == media_type
        etag = plain.headers["etag"]
        again = httpx.get(
            url, headers={"Accept-Encoding": "identity", "If-None-Match": etag}, timeout=10
        )
        assert again.status_code == 304
        since = httpx.get(
            url,
            headers={
                "Accept-Encoding": "identity",
                "If-Modified-Since": plain.headers["last-modified"],
            },
            timeout=10,
        )
        assert since.status_code == 304
        with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}, timeout=10) as zipped:
            raw = b"".join(zipped.iter_raw())
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.headers["etag"] != etag
        assert gzip.decompress(raw) == plain.content
