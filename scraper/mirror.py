"""Replay mode: send every request to a mirror (``CLUSTERWATCH_MIRROR``) instead of the site.

``SCHEME://SITEHOST/PATH?QUERY`` is fetched from ``MIRROR/SITEHOST/PATH?QUERY`` and the
response keeps the original URL. This lives in the download handler, below every
middleware, so robots.txt, the HTTP cache, redirects, dedup and items all see the real URLs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response


def mirror_url(mirror: str, url: str) -> str:
    parts = urlsplit(url)
    target = f"{mirror.rstrip('/')}/{parts.netloc}{parts.path or '/'}"
    return f"{target}?{parts.query}" if parts.query else target


class MirrorDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler):
        mirror = crawler.settings.get("CLUSTERWATCH_MIRROR")
        if not mirror:
            raise NotConfigured("no mirror configured")
        super().__init__(crawler)
        self.mirror: str = mirror

    async def download_request(self, request: Request) -> Response:
        routed = request.replace(url=mirror_url(self.mirror, request.url))
        response = await super().download_request(routed)
        return response.replace(url=request.url, request=request)
