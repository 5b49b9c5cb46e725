"""Downloader middlewares: skip known articles, count what the sources really answered."""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from db.repository import Repository
from scraper.extensions import CRAWLER_RECORD

logger = logging.getLogger(__name__)

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
