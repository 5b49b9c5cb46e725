"""Downloader middlewares: skip known articles, count what the sources really answered,
count and name every request dropped on purpose, follow RFC 9309 on robots.txt errors and
honour Retry-After."""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any, Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import offsite, redirect, retry, robotstxt
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer
from twisted.internet import error as internet_error
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from db.repository import Repository
from scraper.urls import host_of

logger = logging.getLogger(__name__)

CRAWLER_RECORD = "cw_crawler"  # log record attribute: the crawler a record belongs to
KIND = "cw_kind"  # request meta: "article" | "feed" | "listing" | "sitemap"
CANONICAL = "cw_canonical"
UPSTREAM = "cw_upstream"


class KnownArticleMiddleware:
    """An article whose canonical URL is stored is never fetched again.

    Sits before robots.txt and the cache (low priority number), so a known article costs
    no request at all — not even a robots.txt lookup.
    """

    def __init__(self, repository: Repository, stats: StatsCollector):
        self.repository = repository
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get("CLUSTERWATCH_DATABASE_URL")
        if not url or crawler.stats is None:
            raise NotConfigured("no database configured")
        return cls(Repository(url), crawler.stats)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        canonical = request.meta.get(CANONICAL)
        if (
            request.meta.get(KIND) == "article"
            and canonical
            and self.repository.is_known(canonical)
        ):
            self.stats.inc_value("clusterwatch/skipped_known")
            raise IgnoreRequest(f"known article {canonical}")


class UpstreamStatsMiddleware:
    """Counts requests that really left for the source and the statuses it answered.

    Sits next to the download handler (after the HTTP cache), so cache hits are not counted
    and a 5xx is seen even when the cache then serves the stored copy.
    """

    def __init__(self, stats: StatsCollector, crawler: Crawler | None = None):
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        # Cache hits skip this method but still pass process_response: mark real requests.
        request.meta[UPSTREAM] = True
        self.stats.inc_value("clusterwatch/upstream/requests")
        kind = request.meta.get(KIND, "other")
        self.stats.inc_value(f"clusterwatch/upstream/requests/{kind}")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if not request.meta.pop(UPSTREAM, False):
            return response
        self.stats.inc_value(f"clusterwatch/upstream/status/{response.status}")
        # What really came over the wire (a 304 has no body; the cache then serves one).
        self.stats.inc_value("clusterwatch/upstream/bytes", len(response.body))
        if response.status in (403, 429) or response.status >= 500:
            # Bot protection and overload are the source's problem, not a crash: say so.
            logger.warning(
                "source problem: %s answered HTTP %s",
                request.url,
                response.status,
                extra={CRAWLER_RECORD: self.crawler},
            )
            self.stats.inc_value("clusterwatch/upstream/problems")
        return response


# -- dropped requests: every request the crawl decides not to make is counted by reason ---------

DROPPED = "clusterwatch/dropped/"  # + reason: robots, offsite, redirect_loop, duplicate


class Dropped(IgnoreRequest):
    """A request dropped on purpose, with the reason (a stat key) and the cause in words."""

    def __init__(self, reason: str, cause: str):
        super().__init__(cause)
        self.reason = reason
        self.cause = cause


class OffsiteMiddleware(offsite.OffsiteMiddleware):
    """Scrapy's off-site filter (redirects to other hosts and to loopback addresses
    included), its drops counted and named."""

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        # Scrapy also filters when a request is scheduled, where a drop reaches no errback
        # (an article redirected off-site would vanish unrecorded): filter only below.
        return

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        # Scrapy lets every dont_filter request through; but dont_filter only means "not a
        # duplicate" (Scrapy's retries, the failure memory's refetches) — a retried article
        # redirected off-site must not leave the site either.
        assert self.crawler.spider is not None
        if request.meta.get("allow_offsite") or self.should_follow(request, self.crawler.spider):
            return
        self.stats.inc_value("offsite/filtered")
        self.stats.inc_value(DROPPED + "offsite")
        origin = request.meta.get("redirect_urls") or []
        via = f" (redirected from {origin[0]})" if origin else ""
        raise Dropped("offsite", f"off-site request to {host_of(request.url)}{via}")


class RedirectMiddleware(redirect.RedirectMiddleware):
    """Scrapy's redirects; a request that exceeds REDIRECT_MAX_TIMES is a redirect loop."""

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(DROPPED + "redirect_loop")
            first = (request.meta.get("redirect_urls") or [request.url])[0]
            raise Dropped(
                "redirect_loop", f"redirect loop: more than {self.max_redirect_times} from {first}"
            ) from None


class DisallowAll(RobotParser):
    """RFC 9309 §2.3.1.4: a robots.txt that is unreachable (5xx, network error, timeout)
    means the whole site is disallowed — for this run; the next run asks again."""

    def __init__(self, cause: str):
        self.cause = cause

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> Self:
        return cls("robots.txt unreadable")

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's robots.txt handling, with RFC 9309's error rules: a 5xx or an unreachable
    robots.txt disallows the host for the run (Scrapy allows everything); robots.txt is
    revalidated on every run (entry-point headers); drops are counted and named."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            scheme = urlparse_cached(request).scheme
            robots_request = Request(
                f"{scheme}://{netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                headers={"Cache-Control": "max-age=0"},
                meta={"dont_obey_robotstxt": True, KIND: "robots"},
                callback=NO_CALLBACK,
            )
            assert self.crawler.engine is not None
            try:
                response = await self.crawler.engine.download_async(robots_request)
                if response.status >= 500:
                    self._disallow(netloc, f"robots.txt answered HTTP {response.status}")
                else:
                    await self._parse_robots(response, netloc, request)
            except Exception as error:  # any download failure: the host is unreachable
                cause = failure_words(error) or type(error).__name__
                self._disallow(netloc, f"robots.txt unreachable ({cause})")
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            # Not the Deferred's result: with several requests waiting, the first one's
            # Future adapter consumes it and the others would get None ("allow all").
            await maybe_deferred_to_future(parser)
            parser = self._parsers[netloc]
        assert not isinstance(parser, Deferred)
        return parser

    def _disallow(self, netloc: str, cause: str) -> None:
        logger.error("%s for %s: disallowing the whole host for this run (RFC 9309)", cause, netloc)
        self._stats.inc_value("clusterwatch/robots/unavailable")
        waiting = self._parsers[netloc]
        parser = DisallowAll(f"{cause}: host disallowed for this run")
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            self._stats.inc_value(DROPPED + "robots")
            if isinstance(rp, DisallowAll):
                raise Dropped("robots", rp.cause) from None
            raise Dropped("robots", f"robots.txt of {host_of(request.url)} disallows it") from None


def failure_words(error: BaseException) -> str:
    """A download exception in a few words (Twisted's messages are long or empty)."""
    if isinstance(
        error,
        TimeoutError | defer.TimeoutError | internet_error.TimeoutError | DownloadTimeoutError,
    ):
        return "timed out"
    if isinstance(error, internet_error.ConnectionRefusedError | DownloadConnectionRefusedError):
        return "connection refused"
    if isinstance(error, internet_error.DNSLookupError | CannotResolveHostError):
        return "DNS lookup failed"
    if isinstance(
        error,
        ResponseFailed
        | ResponseNeverReceived
        | internet_error.ConnectionLost
        | DownloadFailedError
        | ResponseDataLossError,
    ):
        return "connection lost"
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else ""


# -- Retry-After ----------------------------------------------------------------------------


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


class RetryAfterMiddleware(retry.RetryMiddleware):
    """Scrapy's retries, honouring Retry-After on 429/503: the retry waits as long as the
    server asked, up to CLUSTERWATCH_RETRY_AFTER_MAX seconds; a longer wait is not retried
    in this run (the failure memory retries the page after its back-off)."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("CLUSTERWATCH_RETRY_AFTER_MAX", 60.0)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        wait = None
        if response.status in (429, 503) and not request.meta.get("dont_retry"):
            wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            return super().process_response(request, response)
        assert self.crawler.stats is not None
        if wait > self.max_wait:
            self.crawler.stats.inc_value("clusterwatch/retry_after/too_long")
            logger.warning(
                "%s answered %s with Retry-After %.0fs (more than %.0fs): not retried this run",
                request.url,
                response.status,
                wait,
                self.max_wait,
            )
            return response
        self.crawler.stats.inc_value("clusterwatch/retry_after/waited")
        logger.info(
            "%s answered %s: waiting %.1fs (Retry-After)", request.url, response.status, wait
        )
        from twisted.internet import reactor  # the installed one (never install at import)

        await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return super().process_response(request, response)
