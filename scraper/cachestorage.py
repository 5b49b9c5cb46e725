"""A Scrapy HTTP-cache storage backend in the database (``HTTPCACHE_STORAGE``).

With several workers sharing one PostgreSQL, a per-machine cache directory would make the
first crawl of a source on each worker a full download; in the store, a recrawl on any
worker sends If-None-Match / If-Modified-Since and gets a 304. Only the storage lives here:
*what* may be cached and when it is revalidated stays the policy's job (``HTTPCACHE_POLICY``,
RFC2616 with the settings in ``scraper.settings``), so both compose. Article pages are
requested with ``dont_cache`` and never reach it; what it holds are entry points (feeds,
listings, sitemaps, robots.txt), stored whole because on a 304 the policy answers the
spider with the cached body.
"""

from __future__ import annotations

import logging
import time

from scrapy import Request, Spider
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from w3lib.http import headers_dict_to_raw, headers_raw_to_dict

from db.httpcache import HttpCacheStore

logger = logging.getLogger(__name__)


class DatabaseCacheStorage:
    def __init__(self, settings: BaseSettings):
        self.url: str = settings["CLUSTERWATCH_DATABASE_URL"]
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.store: HttpCacheStore | None = None

    def open_spider(self, spider: Spider) -> None:
        self.store = HttpCacheStore(self.url)
        assert spider.crawler is not None
        self._fingerprinter = spider.crawler.request_fingerprinter
        logger.debug("HTTP cache in the database", extra={"spider": spider})

    def close_spider(self, spider: Spider) -> None:
        self.store = None

    def _key(self, request: Request) -> str:
        return self._fingerprinter.fingerprint(request).hex()

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        assert self.store is not None
        entry = self.store.get(self._key(request))
        if entry is None:
            return None
        stored = entry.stored_at.timestamp()
        if 0 < self.expiration_secs < time.time() - stored:
            return None  # expired: fetched afresh
        headers = Headers(headers_raw_to_dict(entry.headers))
        cls = responsetypes.from_args(headers=headers, url=entry.url, body=entry.body)
        request.meta["cache_timestamp"] = stored
        return cls(url=entry.url, status=entry.status, headers=headers, body=entry.body)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        assert self.store is not None
        self.store.put(
            self._key(request),
            spider.name,
            response.url,
            response.status,
            headers_dict_to_raw(response.headers) or b"",
            response.body,
        )
