"""Which sources exist: every spider class Scrapy's spider loader finds in ``spiders/``."""

from __future__ import annotations

from functools import lru_cache
from typing import cast

from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from scraper.spiders import SourceSpider

SPIDER_MODULES = ["spiders"]  # as in scraper.settings


@lru_cache(maxsize=1)
def spider_classes() -> dict[str, type[SourceSpider]]:
    # Only the spider modules matter here; no need to load the whole (config-reading) settings.
    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": SPIDER_MODULES}))
    return {name: cast(type[SourceSpider], loader.load(name)) for name in loader.list()}
