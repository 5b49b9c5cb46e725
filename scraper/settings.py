"""Scrapy settings, read from clusterwatch's one configuration object.

``scrapy crawl X`` and ``clusterwatch crawl X`` therefore behave the same.
"""

from __future__ import annotations

from scraper.config import load_config
from scraper.sources import SPEC_MODULES

_config = load_config()

BOT_NAME = "clusterwatch"
# Sources are data (scraper/sources.py): one spider class per SourceSpec, config-only
# sources included, for scrapy list/crawl/parse and Scrapyd alike.
SPIDER_LOADER_CLASS = "scraper.registry.SourceSpiderLoader"
SPIDER_MODULES = list(SPEC_MODULES)

# -- clusterwatch's own settings (read by our components in from_crawler) -----------------
CLUSTERWATCH_DATA_DIR = str(_config.data_dir.resolve())
CLUSTERWATCH_DATABASE_URL = _config.db_url
CLUSTERWATCH_MIRROR = _config.mirror
CLUSTERWATCH_LOGS_DIR = str(_config.logs_dir.resolve())
CLUSTERWATCH_RELEVANCE_KEYWORDS = list(_config.relevance_keywords)
CLUSTERWATCH_NEAR_DUPLICATE_THRESHOLD = _config.near_duplicate_threshold
CLUSTERWATCH_RETRY_BACKOFF_HOURS = list(_config.retry_backoff_hours)

# -- politeness ------------------------------------------------------------------------------
USER_AGENT = _config.user_agent
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = _config.concurrency_per_domain
DOWNLOAD_TIMEOUT = _config.download_timeout
DOWNLOAD_MAXSIZE = _config.max_page_bytes
DOWNLOAD_WARNSIZE = _config.max_page_bytes // 2
AUTOTHROTTLE_ENABLED = _config.autothrottle and not _config.mirror
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 2
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False

# -- conditional GET for feeds and listings (RFC2616 policy; see DESIGN.md for the traps) -----
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
HTTPCACHE_DIR = str(_config.httpcache_dir.resolve())
HTTPCACHE_IGNORE_RESPONSE_CACHE_CONTROLS = ["no-cache", "no-store"]
HTTPCACHE_GZIP = True

# -- components -------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "scraper.middlewares.KnownArticleMiddleware": 50,
    "scraper.middlewares.UpstreamStatsMiddleware": 950,
}
ITEM_PIPELINES = {
    "scraper.pipelines.ValidatePipeline": 100,
    "scraper.pipelines.RelevancePipeline": 200,
    "scraper.pipelines.StorePipeline": 300,
}
EXTENSIONS = {
    "scraper.extensions.CrawlLog": 10,
}
if _config.mirror:
    DOWNLOAD_HANDLERS = {
        "http": "scraper.mirror.MirrorDownloadHandler",
        "https": "scraper.mirror.MirrorDownloadHandler",
    }

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
