"""RFC 5005 archived feeds over the crawled story set: a reader walks back from the
subscription document through ``prev-archive`` links and finds every story exactly where
the pages say, each page valid, marked ``fh:archive`` and linked both ways; rebuilding
renders nothing again, and the main feed never grows beyond N."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree

from monitor.feeds import build_feeds
from monitor.server import BackgroundServer
from monitor.sources import list_sources
from scraper.config import Config
from tests.monitor.conftest import Crawled
from tests.monitor.feed_check import check_feed

NS = {"atom": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0"}
PAGE = 4


def _links(root: etree._Element) -> dict[str, str]:
    parent = root if root.tag.endswith("feed") else root.find("channel")
    return {link.get("rel"): link.get("href") for link in parent.findall("atom:link", NS)}


def _ids(root: etree._Element) -> list[str]:
    if root.tag.endswith("feed"):
        return [e.findtext("atom:id", namespaces=NS) for e in root.findall("atom:entry", NS)]
    return [item.findtext("guid") for item in root.findall("channel/item")]


@pytest.mark.parametrize("suffix", ["atom", "xml"])
def test_a_reader_walks_back_through_every_archive_page(
    crawled: Crawled, tmp_path: Path, suffix: str
) -> None:
    config = crawled.config.model_copy(
        update={"data_dir": tmp_path / "data", "feed_max_entries": PAGE}
    )
    everything = [fs.story.guid for fs in crawled.repository.feed_stories(None, 10_000)]
    assert len(everything) > 3 * PAGE
    with BackgroundServer(config, host="127.0.0.1", port=0) as server:
        served = config.model_copy(update={"feed_base_url": server.url})
        build_feeds(served, crawled.repository, list_sources(served))
        current = f"{server.url}/feeds/all.{suffix}"
        url: str | None = current
        seen: list[str] = []
        pages = 0
        while url is not None:
            response = httpx.get(url, timeout=10)
            assert response.status_code == 200, url
            archive = url != current
            assert check_feed(response.content, suffix, url, archive=archive) == []
            root = etree.fromstring(response.content)
            ids = _ids(root)
            links = _links(root)
            if archive:
                pages += 1
                assert len(ids) == PAGE  # only complete pages are archived
                assert links["current"] == current
            else:
                assert len(ids) == PAGE  # the main feed stays at N
            seen += [i for i in ids if i not in seen]
            previous = links.get("prev-archive")
            if previous is not None:
                back = etree.fromstring(httpx.get(previous, timeout=10).content)
                assert _links(back).get("next-archive", current) in (url, current)
            url = previous
    assert pages == (len(everything) - 1) // PAGE
    assert seen == everything  # newest first, each story once, none missing
    # The oldest page holds the oldest stories; pages count from the oldest.
    oldest = etree.parse(str(config.feeds_dir / "archive" / "all" / f"1.{suffix}")).getroot()
    assert _ids(oldest) == everything[-PAGE:]


def test_rebuilding_renders_no_archive_page_again_and_stale_pages_go(
    crawled: Crawled, tmp_path: Path
) -> None:
    config = crawled.config.model_copy(
        update={"data_dir": tmp_path / "data", "feed_max_entries": PAGE}
    )
    sources = list_sources(config)
    first = build_feeds(config, crawled.repository, sources)
    assert any("/archive/all/1.atom" in str(p) for p in first)
    assert build_feeds(config, crawled.repository, sources) == []
    # A larger page size: fewer pages; the now-missing ones are removed.
    bigger = config.model_copy(update={"feed_max_entries": PAGE * 3})
    build_feeds(bigger, crawled.repository, sources)
    pages = sorted(p.name for p in (config.feeds_dir / "archive" / "all").glob("*.atom"))
    total = len(crawled.repository.feed_stories(None, 10_000))
    assert pages == [f"{k}.atom" for k in range(1, (total - 1) // (PAGE * 3) + 1)]


def test_no_archives_while_everything_fits_the_main_feed(feed_config: Config) -> None:
    from db.repository import Repository
    from tests.monitor.conftest import FEED_SOURCES

    build_feeds(feed_config, Repository(feed_config.db_url), FEED_SOURCES)
    assert not (feed_config.feeds_dir / "archive").exists()
    atom = (feed_config.feeds_dir / "all.atom").read_bytes()
    assert b"prev-archive" not in atom
