"""Scrapy settings, read from clusterwatch's one configuration object.

``scrapy crawl X`` and ``clusterwatch crawl X`` therefore behave the same. Every setting is
derived by :func:`scrapy_settings`; the :class:`scraper.addons.ClusterwatchSettings` add-on
derives them again when ``-s CLUSTERWATCH_*`` overrides are given on the command line.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from scraper.config import Config, ConfigError, load_config
from scraper.sources import SPEC_MODULES

# Settings our components read that are not fields of the configuration object. A
# `-s CLUSTERWATCH_*` naming neither is refused as a typo (scraper.addons): list new ones here.
SCRAPY_ONLY = frozenset(
    {
        "CLUSTERWATCH_LOGS_DIR",
        "CLUSTERWATCH_PROGRESS_SECONDS",
        "CLUSTERWATCH_RUN_LOG_LEVEL",
        "CLUSTERWATCH_CRAWL_LOG",
        "CLUSTERWATCH_RELEVANCE_TERMS",
        "CLUSTERWATCH_RELEVANCE_OTHER_SENSES",
        "CLUSTERWATCH_RELEVANCE_THRESHOLD",
        "CLUSTERWATCH_STORY_CONTAINMENT",
        "CLUSTERWATCH_STORY_TITLE_SIMILARITY",
        "CLUSTERWATCH_STORY_SOURCE_ORDER",
        "CLUSTERWATCH_STORY_EDITED_JACCARD",
        "CLUSTERWATCH_STORY_EDITED_CONTAINMENT",
        "CLUSTERWATCH_RETRY_AFTER_MAX",
        # What a launcher tells its crawl (scraper.extensions.CrawlLog records them).
        "CLUSTERWATCH_TRIGGER",
        "CLUSTERWATCH_JOB_ID",
        "CLUSTERWATCH_RUN_LAUNCHER",
        "CLUSTERWATCH_RUN_WORKER",
    }
)


def relevance_terms(config: Config) -> dict[str, float]:
    """The operator's extra relevance terms; each plain keyword weighs the whole threshold."""
    terms = {rf"\b{re.escape(k)}": config.relevance.threshold for k in config.relevance_keywords}
    terms.update(config.relevance.terms)
    return terms


def scrapy_settings(config: Config) -> dict[str, Any]:
    """Every Scrapy setting that depends on the configuration."""
    return {
        # -- clusterwatch's own settings (read by our components in from_crawler) ----------
        "CLUSTERWATCH_DATA_DIR": str(config.data_dir.resolve()),
        "CLUSTERWATCH_DATABASE_URL": config.db_url,
        "CLUSTERWATCH_MIRROR": config.mirror,
        "CLUSTERWATCH_LOGS_DIR": str(config.logs_dir.resolve()),
        "CLUSTERWATCH_RELEVANCE_KEYWORDS": list(config.relevance_keywords),
        "CLUSTERWATCH_RELEVANCE_TERMS": relevance_terms(config),
        "CLUSTERWATCH_RELEVANCE_OTHER_SENSES": dict(config.relevance.other_senses),
        "CLUSTERWATCH_RELEVANCE_THRESHOLD": config.relevance.threshold,
        "CLUSTERWATCH_NEAR_DUPLICATE_THRESHOLD": config.near_duplicate_threshold,
        "CLUSTERWATCH_STORY_CONTAINMENT": config.stories.containment,
        "CLUSTERWATCH_STORY_TITLE_SIMILARITY": config.stories.title_similarity,
        "CLUSTERWATCH_STORY_EDITED_JACCARD": config.stories.edited_jaccard,
        "CLUSTERWATCH_STORY_EDITED_CONTAINMENT": config.stories.edited_containment,
        "CLUSTERWATCH_STORY_SOURCE_ORDER": list(config.stories.source_order),
        "CLUSTERWATCH_RETRY_BACKOFF_HOURS": list(config.retry_backoff_hours),
        "CLUSTERWATCH_CRAWL_WORKERS": config.crawl_workers,
        "CLUSTERWATCH_CRAWL_POOL_AFTER": config.crawl_pool_after,
        "CLUSTERWATCH_STORE_BATCH": config.store_batch,
        "CLUSTERWATCH_STORE_BATCH_SECONDS": config.store_batch_seconds,
        # -- politeness ----------------------------------------------------------------------
        "USER_AGENT": config.user_agent,
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency_per_domain,
        "DOWNLOAD_TIMEOUT": config.download_timeout,
        "DOWNLOAD_MAXSIZE": config.max_page_bytes,
        "DOWNLOAD_WARNSIZE": config.max_page_bytes // 2,
        "AUTOTHROTTLE_ENABLED": config.autothrottle and not config.mirror,
        # Replay mode: the download handler routes to the mirror (it switches itself off,
        # NotConfigured, without one; then Scrapy's own handler downloads).
        "DOWNLOAD_HANDLERS": (
            {
                "http": "scraper.mirror.MirrorDownloadHandler",
                "https": "scraper.mirror.MirrorDownloadHandler",
            }
            if config.mirror
            else {}
        ),
    }


try:
    _config = load_config()
except ConfigError as _error:
    # `scrapy …` would print a long traceback for an exception here: one line instead.
    sys.stderr.write(f"clusterwatch: configuration error: {_error}\n")
    raise SystemExit(2) from None

BOT_NAME = "clusterwatch"
# Sources are data (scraper/sources.py): one spider class per SourceSpec, config-only
# sources included, for scrapy list/crawl/parse and Scrapyd alike.
SPIDER_LOADER_CLASS = "scraper.registry.SourceSpiderLoader"
SPIDER_MODULES = list(SPEC_MODULES)

globals().update(scrapy_settings(_config))

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
# Items processed in parallel per response: an article page yields one item, entry pages
# yield requests only. Scrapy starts this many tasks for every callback's output (100 by
# default: ~0.5 ms of reactor CPU per page for nothing).
CONCURRENT_ITEMS = 1
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 2
CLUSTERWATCH_RETRY_AFTER_MAX = 60.0  # seconds a 429/503 Retry-After is waited for, at most
COOKIES_ENABLED = True
# No consoles into a crawl process: telnet, and Scrapy 2.19's remote control (which runs
# Python code posted to it over HTTP).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# -- conditional GET for feeds and listings (RFC2616 policy; see DESIGN.md for the traps) -----
HTTPCACHE_ENABLED = True
# RFC2616Policy that stores only complete, decodable 2xx answers and always revalidates
# (scraper/httpcache.py: why each change).
HTTPCACHE_POLICY = "scraper.httpcache.VerifiedRFC2616Policy"
# The storage, separate from the policy: in the store, not on one machine's disk, so a
# recrawl on any worker revalidates (scraper/cachestorage.py).
HTTPCACHE_STORAGE = "scraper.cachestorage.DatabaseCacheStorage"
HTTPCACHE_IGNORE_RESPONSE_CACHE_CONTROLS = ["no-cache", "no-store"]
HTTPCACHE_GZIP = True

# -- components -------------------------------------------------------------------------------
ADDONS = {
    "scraper.addons.ClusterwatchSettings": 0,
}
DOWNLOADER_MIDDLEWARES = {
    "scraper.middlewares.KnownArticleMiddleware": 50,
    # Scrapy's own, subclassed: drops counted by reason, RFC 9309 robots.txt errors,
    # Retry-After, and a cache that never serves a stale copy for an error.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "scraper.middlewares.OffsiteMiddleware": 51,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scraper.middlewares.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scraper.middlewares.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "scraper.middlewares.RedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "scraper.httpcache.NoStaleHttpCacheMiddleware": 900,
    "scraper.middlewares.UpstreamStatsMiddleware": 950,
}
ITEM_PIPELINES = {
    "scraper.pipelines.ValidatePipeline": 100,
    "scraper.pipelines.RelevancePipeline": 200,
    "scraper.pipelines.StorePipeline": 300,
}
EXTENSIONS = {
    "scraper.extensions.CrawlLog": 10,
    # log_count/* per crawler, not per process (several crawls may share one: crawl_many)
    "scrapy.extensions.logcount.LogCount": None,
    "scraper.extensions.AttributedLogCount": 0,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
