"""The one base spider. A source is a declaration (see ``spiders/``): hosts, entry points,
an article URL pattern, pagination and extraction rules. This class does the crawling.

Discovery: feeds (RSS/Atom), HTML listings with pagination and sitemaps. Article links are
recognised by URL pattern anywhere on an entry page, so a redesigned listing does not
silently lose links. Pagination stops at the first page that holds only known articles.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar, Self

import feedparser
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from db.repository import Repository
from scraper.extract import DateHints, ExtractionError, ExtractionRules, extract
from scraper.items import Announcement
from scraper.middlewares import CANONICAL, KIND
from scraper.urls import canonical_url, clean_url, host_of

logger = logging.getLogger(__name__)

# Entry points are revalidated on every crawl (conditional GET through the HTTP cache);
# without max-age=0 the RFC2616 policy trusts heuristic freshness and misses new items.
REVALIDATE = {"Cache-Control": "max-age=0"}
FEED_DATE = "cw_feed_date"


class SourceSpider(Spider):
    # -- the declaration (class attributes of each source) -------------------------------
    label: ClassVar[str] = ""
    hosts: ClassVar[tuple[str, ...]] = ()  # canonical host first, then aliases
    feeds: ClassVar[tuple[str, ...]] = ()
    listings: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    article_pattern: ClassVar[str] = ""
    next_page_xpaths: ClassVar[tuple[str, ...]] = ()
    relevance: ClassVar[str] = "all"  # "all" | "keywords"
    interval_minutes: ClassVar[int] = 60
    canonical_rewrites: ClassVar[tuple[tuple[str, str], ...]] = ()
    extraction: ClassVar[ExtractionRules] = ExtractionRules()
    allowed_domains: list[str]  # set from ``hosts`` (OffsiteMiddleware)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._scheduled: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.apply_overrides(crawler.settings.getdict("CLUSTERWATCH_SOURCES").get(cls.name, {}))
        spider.allowed_domains = list(cls.hosts)
        return spider

    def apply_overrides(self, overrides: dict[str, Any]) -> None:
        """Entry points, pattern and relevance from the operator's TOML win over the code."""
        for name in ("feeds", "listings", "sitemaps"):
            if overrides.get(name) is not None:
                setattr(self, name, tuple(overrides[name]))
        for name in ("article_pattern", "relevance"):
            if overrides.get(name) is not None:
                setattr(self, name, overrides[name])

    # -- identity -------------------------------------------------------------------------

    @cached_property
    def _article_re(self) -> re.Pattern[str]:
        return re.compile(self.article_pattern)

    @cached_property
    def _rewrites(self) -> list[tuple[re.Pattern[str], str]]:
        return [(re.compile(p), r) for p, r in self.canonical_rewrites]

    @cached_property
    def repository(self) -> Repository:
        return Repository(self.settings["CLUSTERWATCH_DATABASE_URL"])

    def canonical(self, url: str) -> str:
        return canonical_url(url, self.hosts, self._rewrites)

    def is_article_url(self, url: str) -> bool:
        host = host_of(url)
        own = {h.lower() for h in self.hosts} | {h.lower().removeprefix("www.") for h in self.hosts}
        return host in own and bool(self._article_re.search(clean_url(url)))

    # -- discovery ------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for kind, urls, callback in (
            ("feed", self.feeds, self.parse_feed),
            ("listing", self.listings, self.parse_listing),
            ("sitemap", self.sitemaps, self.parse_sitemap),
        ):
            for url in urls:
                yield self._entry_request(url, kind, callback)

    def _entry_request(self, url: str, kind: str, callback: Any) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.entry_failed,
            headers=REVALIDATE,
            meta={KIND: kind},
        )

    def parse_feed(self, response: Response) -> Iterator[Request]:
        parsed = feedparser.parse(response.body)
        if parsed.bozo and not parsed.entries:
            logger.error(
                "feed %s is not a readable RSS/Atom feed: %s",
                response.url,
                parsed.get("bozo_exception"),
            )
            return
        urls = []
        for entry in parsed.entries:
            link = entry.get("link")
            if not link:
                continue
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            date = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
            urls.append((response.urljoin(link), date))
        yield from self._articles(response, urls)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        links = [(response.urljoin(h), None) for h in response.xpath("//a/@href").getall()]
        found = list(self._articles(response, links))
        yield from found
        next_url = self._next_page(response)
        if next_url is None:
            return
        page_links = {self.canonical(u) for u, _ in links if self.is_article_url(u)}
        unknown = page_links - self.repository.known_among(page_links)
        if unknown:
            yield self._entry_request(next_url, "listing", self.parse_listing)
        else:
            logger.info(
                "listing %s holds only known articles: not paginating further", response.url
            )
            self.crawler.stats.inc_value("clusterwatch/pagination_stopped")

    def _next_page(self, response: Response) -> str | None:
        for xpath in self.next_page_xpaths:
            href = response.xpath(xpath).get()
            if href:
                return response.urljoin(href.strip())
        return None

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            sitemap = Sitemap(response.body)
        except Exception as error:  # lxml raises several types on broken XML
            logger.error("sitemap %s is not readable: %s", response.url, error)
            return
        locs = [entry["loc"] for entry in sitemap if entry.get("loc")]
        if sitemap.type == "sitemapindex":
            own = set(self.hosts)
            for loc in locs:
                if host_of(loc) in own:
                    yield self._entry_request(loc, "sitemap", self.parse_sitemap)
            return
        yield from self._articles(response, [(loc, None) for loc in locs])

    def _articles(
        self, response: Response, links: Iterable[tuple[str, datetime | None]]
    ) -> Iterator[Request]:
        for url, feed_date in links:
            if not self.is_article_url(url):
                continue
            canonical = self.canonical(url)
            if canonical in self._scheduled:
                continue
            self._scheduled.add(canonical)
            self.crawler.stats.inc_value("clusterwatch/article_links")
            yield Request(
                clean_url(url),
                callback=self.parse_article,
                errback=self.article_failed,
                meta={
                    KIND: "article",
                    CANONICAL: canonical,
                    FEED_DATE: feed_date,
                    "dont_cache": True,
                },
            )

    # -- articles -------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[Announcement]:
        if not isinstance(response, TextResponse):
            logger.warning(
                "not an HTML page: %s (%s)", response.url, response.headers.get("Content-Type")
            )
            return
        try:
            extracted = extract(
                response.text,
                response.url,
                self.extraction,
                DateHints(feed=response.meta.get(FEED_DATE)),
            )
        except ExtractionError as error:
            logger.warning("extraction failed: %s", error)
            self.crawler.stats.inc_value("clusterwatch/extraction_failed")
            return
        if extracted.used_fallback:
            self.crawler.stats.inc_value("clusterwatch/extraction_fallback")
        yield Announcement(
            source=self.name,
            url=response.url,
            canonical_url=response.meta.get(CANONICAL) or self.canonical(response.url),
            title=extracted.title,
            text=extracted.text,
            html=extracted.html,
            language=extracted.language,
            published_at=extracted.published_at,
            date_source=extracted.date_source,
            raw_html=response.body,
            relevance_mode=self.relevance,
            topics=extracted.topics,
            alternates=[self.canonical(u) for u in extracted.alternates],
        )

    def entry_failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        logger.error("entry point %s failed: %s", url, failure.getErrorMessage())
        self.crawler.stats.inc_value("clusterwatch/entry_failed")

    def article_failed(self, failure: Failure) -> None:
        if failure.check(IgnoreRequest):
            return  # known article or robots.txt: counted where it was decided
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        logger.warning("article %s failed: %s", url, failure.getErrorMessage())
        self.crawler.stats.inc_value("clusterwatch/article_failed")
