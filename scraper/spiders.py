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
import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar, Self

import feedparser
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.reactor import is_asyncio_reactor_installed
from scrapy.utils.sitemap import Sitemap
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from db.models import Article
from db.repository import FailedPage, Repository
from scraper import classify, discovery, linktext
from scraper.extract import (
    DateHints,
    Extracted,
    ExtractionError,
    ExtractionRules,
    extract,
    parse_date,
)
from scraper.extract.furniture import MIN_PAGES, MIN_SHARE, TemplateLines
from scraper.extract.page import Undecodable, repaired_content_type
from scraper.httpcache import incomplete
from scraper.items import EXPORT_FIELDS, Announcement
from scraper.middlewares import CANONICAL, DROPPED, KIND, Dropped
from scraper.pipelines import not_an_article
from scraper.pool import (
    INLINE_SETTING,
    POOL,
    WORKERS_SETTING,
    PageJob,
    Prepared,
    default_workers,
)
from scraper.urls import canonical_url, clean_url, host_of

logger = logging.getLogger(__name__)

# Entry points are revalidated on every crawl (conditional GET through the HTTP cache);
# without max-age=0 the RFC2616 policy trusts heuristic freshness and misses new items.
REVALIDATE = {"Cache-Control": "max-age=0"}
FEED_DATE = "cw_feed_date"
LISTING_DATE = "cw_listing_date"
LINK_TEXT = "cw_link_text"  # the words the listing or feed gave the link (linktext.py)
RETRY = "cw_retry"  # request meta: a remembered failure being retried
DISCOVERED = "cw_discovered"  # request meta: an entry point found on a page, not declared
DEFAULT_BACKOFF_HOURS = (24.0, 168.0, 672.0)  # 1 day, 1 week, 4 weeks
# Template lines are re-read from the store while a crawl learns them.
TEMPLATE_REFRESH_SECONDS = 5.0
KEPT_HEADERS = ("Content-Type", "Content-Language", "Last-Modified", "ETag")
# Stats of this module read by health rules and the next run.
ENTRY_FAILURES = "clusterwatch/entry/failures"
# Listing pages reached by pagination that failed: the next run requests them directly,
# since pagination from page 1 stops at a page holding only known links.
PENDING_PAGES = "clusterwatch/entry/pending_pages"
FETCH_CAUSES = "clusterwatch/articles/fetch_causes"  # {cause: count} of failed article fetches
MAX_PENDING_PAGES = 50


class SourceSpider(Spider):
    # -- the declaration: a SourceSpec's fields (scraper.registry.spider_class) ----------
    label: ClassVar[str] = ""
    hosts: ClassVar[tuple[str, ...]] = ()  # canonical host first, then aliases
    feeds: ClassVar[tuple[str, ...]] = ()
    listings: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    article_pattern: ClassVar[str] = ""
    next_page_xpaths: ClassVar[tuple[str, ...]] = ()
    relevance: ClassVar[str] = "all"  # "all" | "keywords"
    interval_minutes: ClassVar[int | float] = 60
    canonical_rewrites: ClassVar[tuple[tuple[str, str], ...]] = ()
    extraction: ClassVar[ExtractionRules] = ExtractionRules()
    allowed_domains: list[str]  # set from ``hosts`` (OffsiteMiddleware)
    custom_settings = {"FEED_EXPORT_FIELDS": EXPORT_FIELDS}  # noqa: RUF012 (Scrapy's API)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._scheduled: set[str] = set()
        self._feeds_seen: set[str] = set()
        self._template = TemplateLines()
        self._template_read_at = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.allowed_domains = list(cls.hosts)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    @classmethod
    def handles_request(cls, request: Request) -> bool:
        """``scrapy parse URL`` without ``--spider``: the source whose hosts hold the URL."""
        return host_of(request.url) in {h.lower() for h in cls.hosts}

    # -- identity -------------------------------------------------------------------------

    @cached_property
    def _article_re(self) -> re.Pattern[str]:
        return re.compile(self.article_pattern)

    @cached_property
    def _rewrites(self) -> list[tuple[re.Pattern[str], str]]:
        return [(re.compile(p), r) for p, r in self.canonical_rewrites]

    @cached_property
    def log_(self) -> logging.LoggerAdapter[logging.Logger]:
        """This module's logger, its records marked as this spider's (several crawls may
        share a process: scraper/crawl_many.py; each run's log file takes its own)."""
        return logging.LoggerAdapter(logger, {"spider": self})

    @cached_property
    def repository(self) -> Repository:
        return Repository(self.settings["CLUSTERWATCH_DATABASE_URL"])

    def canonical(self, url: str) -> str:
        return canonical_url(url, self.hosts, self._rewrites)

    def is_article_url(self, url: str) -> bool:
        host = host_of(url)
        own = {h.lower() for h in self.hosts} | {h.lower().removeprefix("www.") for h in self.hosts}
        return host in own and bool(self._article_re.search(clean_url(url)))

    @cached_property
    def rules_version(self) -> str:
        return self.extraction.digest()

    @cached_property
    def backoff(self) -> list[timedelta]:
        hours = self.settings.getlist("CLUSTERWATCH_RETRY_BACKOFF_HOURS") or DEFAULT_BACKOFF_HOURS
        return [timedelta(hours=float(h)) for h in hours]

    def template_lines(self) -> TemplateLines:
        """The source's template lines as the store knows them now (re-read every few
        seconds: a first crawl learns them as it goes)."""
        if time.monotonic() - self._template_read_at >= TEMPLATE_REFRESH_SECONDS:
            hashes, _pages = self.repository.frequent_lines(self.name, MIN_PAGES, MIN_SHARE)
            self._template = TemplateLines(frozenset(hashes))
            self._template_read_at = time.monotonic()
        return self._template

    # -- discovery ------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Announcement | Request]:
        # Failed pages first: re-extracted at once when the rules changed since, refetched
        # when their back-off is over — independent of whether a listing still links them.
        for item in self._reextract_stale_failures():
            yield item
        for row in self.repository.failures(self.name, due_before=datetime.now(UTC)):
            if row.canonical_url not in self._scheduled:
                self._scheduled.add(row.canonical_url)
                self.crawler.stats.inc_value("clusterwatch/articles/retried")
                request = self._article_request(
                    row.url, row.canonical_url, row.feed_date, retry=True
                )
                request.meta[LISTING_DATE] = row.listing_date
                request.meta[LINK_TEXT] = row.link_text
                yield request
        for url in self._pending_pages():
            yield self._entry_request(url, "listing", self.parse_listing)
        for kind, urls, callback in (
            ("feed", self.feeds, self.parse_feed),
            ("listing", self.listings, self.parse_listing),
            ("sitemap", self.sitemaps, self.parse_sitemap),
        ):
            for url in urls:
                if kind == "feed":
                    self._feeds_seen.add(clean_url(url))
                yield self._entry_request(url, kind, callback)

    def _pending_pages(self) -> list[str]:
        """Listing pages the previous run could not read (see PENDING_PAGES)."""
        previous = self.repository.last_run(self.name, finished_only=True)
        pages = (previous.stats or {}).get(PENDING_PAGES) if previous is not None else None
        declared = {clean_url(u) for u in self.listings}
        found = [str(u) for u in pages or [] if clean_url(str(u)) not in declared]
        if found:
            self.log_.info("requesting %d listing pages the last run could not read", len(found))
            self.crawler.stats.inc_value("clusterwatch/entry/pending_retried", len(found))
        return found[:MAX_PENDING_PAGES]

    def _entry_request(
        self, url: str, kind: str, callback: Any, discovered: bool = False
    ) -> Request:
        if not discovered:  # health judges the declared entry points
            self.crawler.stats.inc_value("clusterwatch/entry/attempted")
        return Request(
            url,
            callback=callback,
            errback=self.entry_failed,
            headers=REVALIDATE,
            meta={KIND: kind, DISCOVERED: discovered},
        )

    def _entry_ok(self, response: Response, problem: str | None = None) -> None:
        """An entry point answered: counted as working, or — when its answer is unusable
        (cut off, not a feed, malformed) — as failed with the cause."""
        problem = problem or incomplete(response)
        if problem is not None:
            self._entry_failure(
                response.url,
                response.meta.get(KIND, "entry"),
                problem,
                bool(response.meta.get(DISCOVERED)),
            )
        elif not response.meta.get(DISCOVERED):
            self.crawler.stats.inc_value("clusterwatch/entry/ok")

    def parse_feed(self, response: Response) -> Iterator[Request]:
        parsed = feedparser.parse(response.body)
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        if not parsed.version and not parsed.entries:
            self._entry_ok(
                response, f"feed is not RSS/Atom ({content_type or 'no Content-Type'} answer)"
            )
            return
        error = parsed.get("bozo_exception")
        if parsed.bozo and not isinstance(error, feedparser.CharacterEncodingOverride):
            # The entries read before the error are real links and are used; the feed
            # still counts as failed, so health shows it.
            self._entry_ok(
                response, f"feed is malformed ({error}); {len(parsed.entries)} entries read"
            )
        else:
            self._entry_ok(response)
        urls = []
        for entry in parsed.entries:
            link = entry.get("link")
            if not link:
                continue
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            date = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
            urls.append((response.urljoin(link), date, entry.get("title")))
        yield from self._articles(response, urls)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        self._entry_ok(response)
        urls = list(
            dict.fromkeys(response.urljoin(h) for h in response.xpath("//a/@href").getall())
        )
        page_links = {self.canonical(u) for u in urls if self.is_article_url(u)}
        unknown = page_links - self.repository.known_among(page_links)
        # The page's dates, link texts and next page matter only when it links an article the
        # store does not know (known ones are not fetched; failed ones are retried from the
        # store): an unchanged listing — the steady state — is not analysed again.
        dates = (
            discovery.link_dates(response.text, response.url)
            if unknown and isinstance(response, TextResponse)
            else {}
        )
        texts: dict[str, list[str]] = {}
        for anchor in response.xpath("//a[@href]") if unknown else ():
            url = response.urljoin(anchor.attrib["href"])
            texts.setdefault(url, []).append(" ".join(anchor.xpath(".//text()").getall()))
        links = [
            (
                url,
                parse_date(dates[url]) if url in dates else None,
                linktext.link_text(texts.get(url, [])),
            )
            for url in urls
        ]
        found = list(self._articles(response, links, hint=LISTING_DATE))
        yield from found
        if isinstance(response, TextResponse):
            yield from self._linked_feeds(response)
        if not unknown:
            self.log_.info(
                "listing %s holds only known articles: not paginating further", response.url
            )
            self.crawler.stats.inc_value("clusterwatch/pagination_stopped")
            return
        next_url = self._next_page(response)
        if next_url is not None:
            yield self._entry_request(next_url, "listing", self.parse_listing)

    def _next_page(self, response: Response) -> str | None:
        """The declared next-page hint first, then generic signals (scraper.discovery)."""
        if not isinstance(response, TextResponse):
            return None
        found = discovery.next_page(response.text, response.url, self.next_page_xpaths)
        if found is None:
            return None
        self.crawler.stats.inc_value(f"clusterwatch/pagination/{found.layer}")
        if found.layer != "declared" and self.next_page_xpaths:
            self.log_.warning(
                "declared next-page rule found nothing on %s; followed %s (%s)",
                response.url,
                found.url,
                found.layer,
            )
        return found.url

    def _linked_feeds(self, response: TextResponse) -> Iterator[Request]:
        """Feeds a listing announces with <link rel="alternate">, on the source's own hosts."""
        own = {h.lower() for h in self.hosts}
        for url in discovery.feed_links(response.text, response.url):
            cleaned = clean_url(url)
            if host_of(url) in own and cleaned not in self._feeds_seen:
                self._feeds_seen.add(cleaned)
                self.crawler.stats.inc_value("clusterwatch/entry/discovered_feeds")
                yield self._entry_request(url, "feed", self.parse_feed, discovered=True)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            sitemap = Sitemap(response.body)
        except Exception as error:  # lxml raises several types on broken XML
            self._entry_ok(response, f"sitemap is not readable: {error}")
            return
        self._entry_ok(response)
        locs = [entry["loc"] for entry in sitemap if entry.get("loc")]
        if sitemap.type == "sitemapindex":
            own = set(self.hosts)
            for loc in locs:
                if host_of(loc) in own:
                    yield self._entry_request(loc, "sitemap", self.parse_sitemap)
            return
        yield from self._articles(response, [(loc, None, None) for loc in locs])

    def _articles(
        self,
        response: Response,
        links: Iterable[tuple[str, datetime | None, str | None]],
        hint: str = FEED_DATE,
    ) -> Iterator[Request]:
        """Requests for the article links among ``links`` (URL, the date the feed or listing
        gave it — ``hint`` names which —, the words it gave the link)."""
        for url, date_hint, words in links:
            if not self.is_article_url(url):
                continue
            canonical = self.canonical(url)
            if canonical in self._scheduled:
                continue
            self._scheduled.add(canonical)
            self.crawler.stats.inc_value("clusterwatch/article_links")
            request = self._article_request(url, canonical, None)
            request.meta[hint] = date_hint
            request.meta[LINK_TEXT] = words
            yield request

    def _article_request(
        self, url: str, canonical: str, feed_date: datetime | None, retry: bool = False
    ) -> Request:
        return Request(
            clean_url(url),
            callback=self.parse_article,
            errback=self.article_failed,
            dont_filter=retry,
            meta={
                KIND: "article",
                CANONICAL: canonical,
                FEED_DATE: feed_date,
                RETRY: retry,
                "dont_cache": True,
            },
        )

    # -- articles -------------------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> AsyncIterator[Announcement]:
        """``scrapy parse --spider X URL`` parses an article page by default."""
        return self.parse_article(response)

    @cached_property
    def relevance_rules(self) -> classify.RuleSet:
        return classify.rules_from_settings(self.settings)

    @cached_property
    def crawl_workers(self) -> int:
        """Worker processes for the article pages (scraper/pool.py); 0: on this thread."""
        if not is_asyncio_reactor_installed():
            return 0
        value = self.settings.get(WORKERS_SETTING)
        return default_workers() if value in (None, "") else max(0, int(value))

    async def parse_article(self, response: Response) -> AsyncIterator[Announcement]:
        self.crawler.stats.inc_value("clusterwatch/articles/fetched")
        canonical = response.meta.get(CANONICAL) or self.canonical(response.url)
        feed_date = response.meta.get(FEED_DATE)
        listing_date = response.meta.get(LISTING_DATE)
        hints = DateHints(feed=feed_date, listing=listing_date)
        link = response.meta.get(LINK_TEXT)
        headers = _kept_headers(response)
        cut = incomplete(response)
        if cut is not None:
            # Never stored, not even for re-extraction: a cut-off page would extract as a
            # shorter article. Refetched after the back-off.
            self._failed(canonical, response.url, cut, "page", hints=hints, link=link)
            return
        if not isinstance(response, TextResponse):
            self._failed(
                canonical,
                response.url,
                f"not an HTML page ({headers.get('Content-Type', 'no Content-Type')})",
                "page",
                body=response.body,
                headers=headers,
                hints=hints,
                link=link,
            )
            return
        encoding = response.encoding
        try:
            repaired = repaired_content_type(response.body, headers.get("Content-Type"))
        except Undecodable as error:
            self._failed(
                canonical,
                response.url,
                f"undecodable text: {error}",
                "page",
                hints=hints,
                link=link,
            )
            return
        if repaired is not None:
            self.log_.warning(
                "%s is not valid %s: decoded as %s",
                response.url,
                headers.get("Content-Type", "UTF-8"),
                repaired,
            )
            self.crawler.stats.inc_value("clusterwatch/decoding/repaired")
            headers["Content-Type"] = repaired  # re-extraction decodes it the same way
            encoding = repaired.rpartition("=")[2]
        job = PageJob(
            response.body,
            response.url,
            self.extraction,
            hints,
            headers.get("Content-Type"),
            self.template_lines(),
            self.relevance_rules,
        )
        extracted, outcome = await POOL.prepare(
            job, self.crawl_workers, self.settings.getint(INLINE_SETTING, 20)
        )
        if extracted is None:
            assert isinstance(outcome, tuple)
            message, field = outcome
            self._failed(
                canonical,
                response.url,
                f"extraction failed: {message}",
                field,
                body=response.body,
                encoding=encoding,
                headers=headers,
                hints=hints,
                link=link,
            )
            return
        assert isinstance(outcome, Prepared)
        item = self._announcement(
            extracted, response.url, canonical, response.body, encoding, headers, hints, link
        )
        why = not_an_article(item)
        if why is not None:
            # A page that is not the article (a maintenance or error page answering 200):
            # remembered as failed and retried, not dropped and forgotten.
            self.crawler.stats.inc_value(
                "clusterwatch/articles/not_announced"
                if why.startswith(linktext.NOT_ANNOUNCED)
                else "clusterwatch/articles/no_title_or_text"
            )
            self._failed(
                canonical,
                response.url,
                why,
                "page",
                body=response.body,
                encoding=encoding,
                headers=headers,
                hints=hints,
                link=link,
            )
            return
        item.prepared = outcome
        yield item

    def _announcement(
        self,
        extracted: Extracted,
        url: str,
        canonical: str,
        body: bytes,
        encoding: str | None,
        headers: dict[str, str],
        hints: DateHints,
        link: str | None,
    ) -> Announcement:
        stats = self.crawler.stats
        for field, layer in extracted.provenance.items():
            if layer:
                stats.inc_value(f"clusterwatch/provenance/{field}/{layer}")
        if extracted.used_fallback and self.extraction.body_xpaths:
            stats.inc_value("clusterwatch/extraction_fallback")
            self.log_.warning(
                "declared article body not found on %s; used %s", url, extracted.body_source
            )
        return self.announcement(extracted, url, canonical, body, encoding, headers, hints, link)

    def announcement(
        self,
        extracted: Extracted,
        url: str,
        canonical: str,
        body: bytes,
        encoding: str | None,
        headers: dict[str, str],
        hints: DateHints,
        link: str | None = None,
    ) -> Announcement:
        """The item for an extracted page (the crawl and re-extraction both make it here)."""
        return Announcement(
            source=self.name,
            url=url,
            canonical_url=canonical,
            title=extracted.title,
            text=extracted.text,
            html=extracted.html,
            language=extracted.language,
            published_at=extracted.published_at,
            relevance_mode=self.relevance,
            title_source=extracted.title_source,
            date_source=extracted.date_source,
            body_source=extracted.body_source,
            language_source=extracted.language_source,
            raw_html=body,
            raw_encoding=encoding,
            raw_headers=headers,
            feed_date=hints.feed,
            listing_date=hints.listing,
            link_text=link,
            rules_version=self.rules_version,
            line_hashes=extracted.line_hashes,
            topics=extracted.topics,
            alternates=[self.canonical(u) for u in extracted.alternates],
        )

    def _reextract_stale_failures(self) -> Iterator[Announcement]:
        """Failed pages whose stored body extracts under today's rules: recovered with no
        request. The others keep their back-off (their rules version is brought up to date
        so they are not re-tried at every start)."""
        for row in self.repository.stale_failures(self.name, self.rules_version):
            try:
                body, extracted = extract_stored(row, self.extraction, self.template_lines())
            except ExtractionError as error:
                self.repository.mark_rules_version(
                    row.canonical_url, self.rules_version, str(error)
                )
                continue
            item = self._announcement(
                extracted,
                row.url,
                row.canonical_url,
                body,
                row.raw_encoding,
                dict(row.raw_headers or {}),
                stored_hints(row),
                row.link_text,
            )
            if not_an_article(item) is not None:  # still not an article: wait for the back-off
                self.repository.mark_rules_version(
                    row.canonical_url, self.rules_version, "not an article"
                )
                continue
            self.crawler.stats.inc_value("clusterwatch/articles/recovered")
            self.log_.info("recovered failed page %s by re-extraction", row.url)
            yield item

    def _failed(
        self,
        canonical: str,
        url: str,
        reason: str,
        field: str,
        body: bytes | None = None,
        encoding: str | None = None,
        headers: dict[str, str] | None = None,
        hints: DateHints | None = None,
        link: str | None = None,
    ) -> None:
        """Remember a failed article (never published, retried after its back-off)."""
        stats = self.crawler.stats
        stats.inc_value("clusterwatch/items/failed")
        if field in ("title", "text", "page"):
            stats.inc_value("clusterwatch/articles/failed")
            stats.inc_value(f"clusterwatch/articles/failed/{field}")
        outcome = self.repository.record_failure(
            FailedPage(
                canonical_url=canonical,
                source=self.name,
                url=url,
                reason=reason,
                raw_html=zlib.compress(body, 6) if body is not None else None,
                raw_encoding=encoding,
                raw_headers=headers or {},
                feed_date=hints.feed if hints else None,
                listing_date=hints.listing if hints else None,
                link_text=link,
                rules_version=self.rules_version,
                crawl_run_id=stats.get_value("clusterwatch/run_id"),
            ),
            self.backoff,
        )
        when = outcome.retry_at.isoformat(timespec="minutes") if outcome.retry_at else "never"
        self.log_.warning(
            "article failed (%s): %s; attempt %d, retry after %s",
            reason,
            url,
            outcome.attempts,
            when,
        )

    def entry_failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind = request.meta.get(KIND, "entry") if request is not None else "entry"
        discovered = request is not None and bool(request.meta.get(DISCOVERED))
        self._entry_failure(url, kind, failure_cause(failure, url, kind), discovered)

    def _entry_failure(self, url: str, kind: str, cause: str, discovered: bool) -> None:
        stats = self.crawler.stats
        if discovered:
            # A feed a page announced is a bonus, not the source's contract: say so, no error.
            self.log_.warning("discovered feed %s failed: %s", url, cause)
            stats.inc_value("clusterwatch/entry/discovered_failed")
            return
        self.log_.error("entry point %s failed: %s", url, cause)
        stats.inc_value("clusterwatch/entry_failed")
        failures = list(stats.get_value(ENTRY_FAILURES) or [])
        failures.append({"url": url, "kind": kind, "cause": cause})
        stats.set_value(ENTRY_FAILURES, failures)
        if kind == "listing" and clean_url(url) not in {clean_url(u) for u in self.listings}:
            pending = list(stats.get_value(PENDING_PAGES) or [])
            if url not in pending:
                stats.set_value(PENDING_PAGES, [*pending, url])

    def article_failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        if request is None:
            return
        dropped = failure.value
        if isinstance(dropped, Dropped):
            if dropped.reason == "robots":  # the site's policy, not a failure: counted
                self.log_.info("article %s not fetched: %s", request.url, dropped.cause)
                return
        elif failure.check(IgnoreRequest) and not failure.check(HttpError):
            return  # a known article: counted where it was decided
        self._article_fetch_failed(request, failure_cause(failure, request.url, "article"))

    def _article_fetch_failed(self, request: Request, cause: str) -> None:
        stats = self.crawler.stats
        stats.inc_value("clusterwatch/article_failed")
        causes = dict(stats.get_value(FETCH_CAUSES) or {})
        causes[cause] = causes.get(cause, 0) + 1
        stats.set_value(FETCH_CAUSES, causes)
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # as linked
        self._failed(
            request.meta.get(CANONICAL) or self.canonical(url),
            url,
            cause,
            "fetch",
            hints=DateHints(
                feed=request.meta.get(FEED_DATE), listing=request.meta.get(LISTING_DATE)
            ),
            link=request.meta.get(LINK_TEXT),
        )

    def request_dropped(self, request: Request, spider: Spider) -> None:
        """The scheduler dropped a request as a duplicate. A redirect back to a URL of its
        own chain is a redirect loop: for an article or entry point, a failure."""
        chain = request.meta.get("redirect_urls") or []
        if clean_url(request.url) not in {clean_url(u) for u in chain}:
            self.crawler.stats.inc_value(DROPPED + "duplicate")
            return
        self.crawler.stats.inc_value(DROPPED + "redirect_loop")
        cause = f"redirect loop: {chain[0]} redirects back to itself via {len(chain)} hops"
        kind = request.meta.get(KIND)
        if kind == "article":
            self._article_fetch_failed(request, cause)
        elif kind in ("feed", "listing", "sitemap"):
            self._entry_failure(chain[0], kind, cause, bool(request.meta.get(DISCOVERED)))


def failure_cause(failure: Failure, url: str, kind: str) -> str:
    """A failed request in words, for the crawl log and the health verdict."""
    host = host_of(url)
    if isinstance(failure.value, Dropped):
        return failure.value.cause
    if isinstance(failure.value, HttpError):
        return f"{kind} answered HTTP {failure.value.response.status}"
    if failure.check(DNSLookupError, CannotResolveHostError):
        return f"DNS lookup failed for {host}"
    if failure.check(ConnectionRefusedError, DownloadConnectionRefusedError):
        return f"connection refused by {host}"
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return f"{kind} timed out ({host})"
    if failure.check(ResponseDataLossError):
        return f"{kind} body cut off (fewer bytes than Content-Length; {host})"
    if failure.check(DownloadCancelledError) and "max size" in failure.getErrorMessage():
        return f"{kind} larger than the max page size ({host})"
    if failure.check(zlib.error, OSError, EOFError) and not failure.check(ConnectionLost):
        return f"{kind} body does not decompress ({failure.getErrorMessage()[:120]}; {host})"
    if failure.check(
        ResponseFailed, ResponseNeverReceived, ConnectionLost, ConnectionDone, DownloadFailedError
    ):
        return f"{kind} connection to {host} lost before the answer was complete"
    return f"{kind} failed: {failure.getErrorMessage() or type(failure.value).__name__}"


def _kept_headers(response: Response) -> dict[str, str]:
    kept = {}
    for name in KEPT_HEADERS:
        value = response.headers.get(name)
        if value:
            kept[name] = value.decode("latin-1")
    return kept


def extract_stored(
    row: Article, rules: ExtractionRules, template: TemplateLines
) -> tuple[bytes, Extracted]:
    """Extract a stored page from the inputs the store kept (body, encoding, headers, the
    feed and listing dates): the body and the result; raises ExtractionError."""
    body = zlib.decompress(row.raw_html or b"")
    extracted = extract(
        body,
        row.url,
        rules,
        stored_hints(row),
        content_type=stored_content_type(row),
        template=template,
    )
    return body, extracted


def stored_hints(row: Article) -> DateHints:
    """The dates the feed and the listing gave a stored page's link."""
    return DateHints(feed=row.feed_date, listing=row.listing_date)


def stored_content_type(row: Article) -> str | None:
    """The content type to decode a stored page with: its header, with the charset the
    response was decoded with when the header named none."""
    headers = dict(row.raw_headers or {})
    content_type = headers.get("Content-Type")
    if row.raw_encoding and content_type and "charset" not in content_type.lower():
        return f"{content_type}; charset={row.raw_encoding}"
    return content_type or (f"text/html; charset={row.raw_encoding}" if row.raw_encoding else None)
