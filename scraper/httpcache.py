"""The HTTP cache of feeds and listings: conditional GET that never keeps a broken answer.

Scrapy's ``RFC2616Policy`` with three changes, each for a way a cache turns one bad answer
into a lasting one:

- only complete 2xx answers are stored: not an error page, not a body cut short (Scrapy's
  ``partial`` / ``dataloss`` flags, or fewer bytes than Content-Length), not a body that
  does not decompress as its Content-Encoding says (the cache stores bodies *before*
  decompression; a garbage gzip stored with the real ETag would be revalidated by 304s and
  served for good);
- a stored answer is never fresh by heuristics: every use is revalidated (feeds, listings
  and robots.txt must show the site's state now — the 304 keeps it cheap);
- a server error is never papered over with the stored copy, and neither is a failed
  download (``HttpCacheMiddleware``'s "error recovery"): a source that is down must count
  as down, and the stale copy only holds links the store knows already.
"""

from __future__ import annotations

import gzip
import logging
import zlib

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Response

logger = logging.getLogger(__name__)

INCOMPLETE_FLAGS = frozenset({"partial", "dataloss"})


def incomplete(response: Response) -> str | None:
    """Why a response's body is not the whole answer, or None."""
    if INCOMPLETE_FLAGS.intersection(response.flags):
        return "body cut off (connection closed before the end)"
    if "cached" in response.flags:
        return None  # checked when stored; a 304's headers may since have freshened it
    length = response.headers.get("Content-Length")
    encoded = response.headers.get("Content-Encoding")
    if length and not encoded and length.isdigit() and int(length) != len(response.body):
        return f"body cut off ({len(response.body)} of {int(length)} bytes)"
    return None


def undecodable(response: Response) -> str | None:
    """Why a response's body does not decompress as its Content-Encoding says, or None."""
    encoding = (response.headers.get("Content-Encoding") or b"").decode("latin-1").lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            gzip.decompress(response.body)
        elif encoding == "deflate":
            try:
                zlib.decompress(response.body)
            except zlib.error:
                zlib.decompress(response.body, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error) as error:
        return f"body is not valid {encoding} ({error})"
    return None


class VerifiedRFC2616Policy(RFC2616Policy):
    def should_cache_response(self, response: Response, request: Request) -> bool:
        if not 200 <= response.status < 300:
            return False
        problem = incomplete(response) or undecodable(response)
        if problem:
            logger.warning("not caching %s: %s", response.url, problem)
            return False
        return super().should_cache_response(response, request)

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        # The parent adds If-None-Match / If-Modified-Since when it finds the copy stale;
        # when it finds it fresh, they are added here.
        if super().is_cached_response_fresh(cachedresponse, request):
            self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        if response.status >= 500:
            return False  # the error goes to the spider, which records it
        return super().is_cached_response_valid(cachedresponse, response, request)


class NoStaleHttpCacheMiddleware(HttpCacheMiddleware):
    """Scrapy's cache middleware without serving the stored copy when a download fails."""

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        request.meta.pop("cached_response", None)
        return None
