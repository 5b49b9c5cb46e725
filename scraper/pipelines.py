"""Item pipelines: validate → relevance → store (with dedup). One job each."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from db.repository import (
    AddResult,
    ArticleRecord,
    Repository,
    StoreEntry,
    StoryCandidate,
    StoryDecider,
)
from scraper import classify, dedup, linktext, stories
from scraper.extensions import CRAWLER_RECORD
from scraper.items import Announcement

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
        why = not_an_article(item)
        if why is not None:
            self.stats.inc_value("clusterwatch/items/invalid")
            raise DropItem(f"no usable article on {item.url}: {why}")
        for name in ("title", "date", "text"):
            present = item.published_at is not None if name == "date" else bool(getattr(item, name))
            if present:
                self.stats.inc_value(f"clusterwatch/fields/{name}")
        self.stats.inc_value("clusterwatch/fields/items")
        return item


class RelevancePipeline:
    """Relevance as a score with reasons (scraper/classify.py), and topics.

    Sources that publish only cluster news declare ``relevance = "all"``: their items are
    relevant whatever the score (which is still stored, for ``explain``).
    """

    def __init__(self, rules: classify.RuleSet):
        self.rules = rules

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(classify.rules_from_settings(crawler.settings))

    def process_item(self, item: Announcement) -> Announcement:
        return classify_item(item, self.rules)


class StorePipeline:
    """Store idempotently, deciding the story in the store transaction; count new /
    duplicate / irrelevant items for the crawl log.

    Items are stored in batches — every ``CLUSTERWATCH_STORE_BATCH`` items (50) or every
    ``CLUSTERWATCH_STORE_BATCH_SECONDS`` (1 s), whichever comes first, and when the spider
    closes — each batch in one transaction (``Repository.add_articles``), written by the
    pipeline's one writer thread: the reactor thread goes on downloading and feeding the
    extraction pool while a batch is written. Batches are written one at a time in the order
    they were cut (a later article sees the earlier ones as story candidates, as before);
    they are counted on the reactor thread when written, and ``close_spider`` waits for the
    last one. An item waiting in a batch or being written is not in the store yet, so
    nothing treats it as known: a crawl that dies before a batch is committed loses only
    what the next crawl fetches again.
    """

    # Batches cut but not written yet beyond which process_item waits (memory stays bounded
    # when the store is slower than the crawl).
    MAX_WAITING_BATCHES = 2

    def __init__(
        self,
        repository: Repository,
        stats: StatsCollector,
        thresholds: stories.Thresholds,
        source_order: list[str],
        batch_size: int = 1,
        batch_seconds: float = 1.0,
        crawler: Crawler | None = None,
    ):
        self.crawler = crawler
        self.repository = repository
        self.stats = stats
        self.thresholds = thresholds
        self.source_order = source_order
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.pending: list[tuple[Announcement, StoreEntry]] = []
        self._timer: LoopingCall | None = None
        self._writer: ThreadPool | None = None
        self._writing: list[Deferred[Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            Repository(settings["CLUSTERWATCH_DATABASE_URL"]),
            _stats(crawler),
            story_thresholds(settings),
            source_order(settings),
            settings.getint("CLUSTERWATCH_STORE_BATCH", 50),
            settings.getfloat("CLUSTERWATCH_STORE_BATCH_SECONDS", 1.0),
            crawler,
        )

    def open_spider(self) -> None:
        if self.batch_size > 1 and self.batch_seconds > 0:
            self._timer = LoopingCall(self.flush)
            self._timer.start(self.batch_seconds, now=False)

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()
        try:
            await self._drain(0)
        finally:
            if self._writer is not None:
                self._writer.stop()
                self._writer = None

    async def process_item(self, item: Announcement) -> Announcement:
        record = article_record(item, self.stats.get_value("clusterwatch/run_id"))
        decide = story_decider(item, record.content_hash, self.thresholds)
        self.pending.append((item, StoreEntry(record, decide, item.line_hashes)))
        if len(self.pending) >= self.batch_size:
            self.flush()
            await self._drain(self.MAX_WAITING_BATCHES)
        return item

    def flush(self) -> None:
        """Hand the waiting items to the writer thread as one batch (one transaction)."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        if self._writer is None:
            # One thread: Twisted's thread pool runs its work in submission order.
            self._writer = ThreadPool(minthreads=1, maxthreads=1, name="clusterwatch-store")
            self._writer.start()
        from twisted.internet import reactor  # the installed one (not at import: Scrapy picks it)

        entries = [e for _, e in batch]
        written: Deferred[list[tuple[AddResult, int | None]]] = deferToThreadPool(
            reactor,
            self._writer,
            self.repository.add_articles,
            entries,
            self.source_order,
        )
        written.addCallbacks(self._written, self._failed, (batch,), errbackArgs=(batch,))
        self._writing.append(written)
        written.addBoth(self._done, written)

    async def _drain(self, allowed: int) -> None:
        """Wait until at most ``allowed`` batches are still being written."""
        while len(self._writing) > allowed:
            await maybe_deferred_to_future(self._writing[0])

    def _done(self, result: Any, written: Deferred[Any]) -> Any:
        self._writing.remove(written)
        return result

    def _written(
        self,
        results: list[tuple[AddResult, int | None]],
        batch: list[tuple[Announcement, StoreEntry]],
    ) -> None:
        for (item, _entry), (result, row_id) in zip(batch, results, strict=True):
            self._count(item, result, row_id)

    def _failed(self, failure: Any, batch: list[tuple[Announcement, StoreEntry]]) -> None:
        # Nothing of the batch is stored, so nothing of it counts as known: the next crawl
        # fetches these pages again.
        logger.error(
            "could not store %d articles; the next crawl retries them",
            len(batch),
            exc_info=(failure.type, failure.value, failure.getTracebackObject()),
            extra=self._extra(),
        )
        self.stats.inc_value("clusterwatch/items/store_failed", len(batch))

    def _extra(self) -> dict[str, Any]:
        return {CRAWLER_RECORD: self.crawler} if self.crawler is not None else {}

    def _count(self, item: Announcement, result: AddResult, row_id: int | None) -> None:
        if result is AddResult.KNOWN:
            self.stats.inc_value("clusterwatch/items/known")
        elif not item.relevant:
            self.stats.inc_value("clusterwatch/items/irrelevant")
        elif result is AddResult.DUPLICATE:
            self.stats.inc_value("clusterwatch/items/duplicate")
            logger.info(
                "another copy of a stored story (article %s): %s",
                row_id,
                item.canonical_url,
                extra=self._extra(),
            )
        else:
            self.stats.inc_value("clusterwatch/items/new")


# -- the steps, as functions: the crawl's pipelines and re-extraction run the same code ----


def not_an_article(item: Announcement) -> str | None:
    """Why the page is not an announcement (no title, too little text, not the page its
    link announced), or None when it is one."""
    if not item.title:
        return "not an article: no title"
    if len(item.text) < MIN_TEXT_CHARS:
        return (
            f"not an article: text ({len(item.text)} characters; an article has "
            f"{MIN_TEXT_CHARS} or more)"
        )
    broken = linktext.broken_promise(item.link_text, item.title, item.text)
    return None if broken is None else str(broken)


def is_announcement(item: Announcement) -> bool:
    return not_an_article(item) is None


def classify_item(item: Announcement, rules: classify.RuleSet) -> Announcement:
    pre = item.prepared
    if (
        pre is not None
        and pre.relevance is not None
        and pre.topics is not None
        and pre.fits(item.title, item.text)
        and pre.rules == rules
    ):
        result, topics = pre.relevance, pre.topics  # computed with the extraction (pool.py)
    else:
        result = classify.score(item.title, item.text, rules)
        topics = classify.topics(item.title, item.text, item.topics)
    item.relevance_score = result.score
    item.relevance_terms = result.terms
    item.relevant = True if item.relevance_mode == "all" else result.relevant
    item.topics = topics
    return item


def story_thresholds(settings: Settings) -> stories.Thresholds:
    return stories.Thresholds(
        jaccard=settings.getfloat("CLUSTERWATCH_NEAR_DUPLICATE_THRESHOLD", 0.8),
        containment=settings.getfloat("CLUSTERWATCH_STORY_CONTAINMENT", 0.8),
        title_similarity=settings.getfloat("CLUSTERWATCH_STORY_TITLE_SIMILARITY", 0.4),
        edited_jaccard=settings.getfloat("CLUSTERWATCH_STORY_EDITED_JACCARD", 0.7),
        edited_containment=settings.getfloat("CLUSTERWATCH_STORY_EDITED_CONTAINMENT", 0.85),
    )


def source_order(settings: Settings) -> list[str]:
    return list(settings.getlist("CLUSTERWATCH_STORY_SOURCE_ORDER") or stories.SOURCE_ORDER)


def story_decider(
    item: Announcement, content_hash: str, thresholds: stories.Thresholds
) -> StoryDecider:
    def decide(candidates: Sequence[StoryCandidate]) -> tuple[int | None, str]:
        return stories.same_story(
            item.title, item.text, item.language, content_hash, candidates, thresholds
        )

    return decide


def article_record(item: Announcement, crawl_run_id: int | None) -> ArticleRecord:
    """The row to store for a classified announcement (fingerprints included)."""
    relevant = bool(item.relevant)
    prepared = item.prepared
    if prepared is not None and prepared.fits(item.title, item.text):
        print_, raw = prepared.fingerprint, prepared.raw_compressed
    else:
        print_ = stories.fingerprint(item.title, item.text, dedup.content_hash(item.text))
        raw = zlib.compress(item.raw_html, 6)
    content_hash = print_.content_hash
    return ArticleRecord(
        canonical_url=item.canonical_url,
        source=item.source,
        url=item.url,
        title=item.title,
        text=item.text,
        html=item.html,
        content_hash=content_hash,
        relevance="relevant" if relevant else "irrelevant",
        relevance_score=item.relevance_score,
        relevance_terms=item.relevance_terms,
        language=item.language,
        published_at=item.published_at,
        date_source=item.date_source,
        title_source=item.title_source,
        body_source=item.body_source,
        language_source=item.language_source,
        raw_encoding=item.raw_encoding,
        raw_headers=item.raw_headers,
        feed_date=item.feed_date,
        listing_date=item.listing_date,
        link_text=item.link_text,
        rules_version=item.rules_version,
        topics=item.topics,
        alternates=item.alternates,
        minhash=print_.minhash,
        title_key=print_.title_key,
        bands=print_.bands,
        raw_html=raw,
        crawl_run_id=crawl_run_id,
    )
