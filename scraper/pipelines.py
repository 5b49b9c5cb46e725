"""Item pipelines: validate → relevance → store (with dedup). One job each."""

from __future__ import annotations

import logging
import zlib
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from db.repository import AddResult, ArticleRecord, Repository
from scraper import dedup
from scraper.items import Announcement
from scraper.relevance import is_relevant

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 80


def _stats(crawler: Crawler) -> StatsCollector:
    assert crawler.stats is not None
    return crawler.stats


class ValidatePipeline:
    """Drop what is not an announcement: no title, or a text too short to be one."""

    def __init__(self, stats: StatsCollector):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(_stats(crawler))

    def process_item(self, item: Announcement) -> Announcement:
        if not item.title or len(item.text) < MIN_TEXT_CHARS:
            self.stats.inc_value("clusterwatch/items/invalid")
            raise DropItem(f"no usable article on {item.url} (title or text missing)")
        for name in ("title", "date", "text"):
            present = item.published_at is not None if name == "date" else bool(getattr(item, name))
            if present:
                self.stats.inc_value(f"clusterwatch/fields/{name}")
        self.stats.inc_value("clusterwatch/fields/items")
        return item


class RelevancePipeline:
    """Sources that publish mostly non-cluster news declare ``relevance = "keywords"``."""

    def __init__(self, keywords: list[str]):
        self.keywords = keywords

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(list(crawler.settings.getlist("CLUSTERWATCH_RELEVANCE_KEYWORDS")))

    def process_item(self, item: Announcement) -> Announcement:
        if item.relevance_mode == "all":
            item.relevant = True
        else:
            item.relevant = is_relevant(item.title, item.text, self.keywords)
        return item


class StorePipeline:
    """Store idempotently; count new / duplicate / irrelevant items for the crawl log."""

    def __init__(self, repository: Repository, stats: StatsCollector, threshold: float):
        self.repository = repository
        self.stats = stats
        self.threshold = threshold
        self.index: dedup.NearDuplicateIndex | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            Repository(settings["CLUSTERWATCH_DATABASE_URL"]),
            _stats(crawler),
            settings.getfloat("CLUSTERWATCH_NEAR_DUPLICATE_THRESHOLD", 0.8),
        )

    def open_spider(self) -> None:
        known = ((i, sig) for i, _source, sig in self.repository.signatures())
        self.index = dedup.NearDuplicateIndex(self.threshold, known)

    def process_item(self, item: Announcement) -> Announcement:
        assert self.index is not None
        signature = dedup.minhash(item.text)
        relevant = bool(item.relevant)
        record = ArticleRecord(
            canonical_url=item.canonical_url,
            source=item.source,
            url=item.url,
            title=item.title,
            text=item.text,
            html=item.html,
            content_hash=dedup.content_hash(item.text),
            relevance="relevant" if relevant else "irrelevant",
            language=item.language,
            published_at=item.published_at,
            date_source=item.date_source,
            title_source=item.title_source,
            body_source=item.body_source,
            language_source=item.language_source,
            raw_encoding=item.raw_encoding,
            raw_headers=item.raw_headers,
            feed_date=item.feed_date,
            rules_version=item.rules_version,
            topics=item.topics,
            alternates=item.alternates,
            minhash=dedup.to_bytes(signature),
            raw_html=zlib.compress(item.raw_html, 6),
            crawl_run_id=self.stats.get_value("clusterwatch/run_id"),
            duplicate_of=self.index.original_of(signature) if relevant else None,
        )
        result, row_id = self.repository.add_article(record)
        if result is not AddResult.KNOWN and item.line_hashes:
            self.repository.count_lines(item.source, item.line_hashes)
        if result is AddResult.KNOWN:
            self.stats.inc_value("clusterwatch/items/known")
        elif not relevant:
            self.stats.inc_value("clusterwatch/items/irrelevant")
        elif result is AddResult.DUPLICATE:
            self.stats.inc_value("clusterwatch/items/duplicate")
            logger.info("duplicate of article %s: %s", row_id, item.canonical_url)
        else:
            self.stats.inc_value("clusterwatch/items/new")
            if row_id is not None:
                self.index.add(row_id, signature)
        return item
