"""Which sources exist, as Scrapy spiders: one spider class per :class:`SourceSpec` of the
registry (built-in specs merged with ``[sources.*]``), and the Scrapy spider loader
(``SPIDER_LOADER_CLASS``) that serves them to ``scrapy list/crawl/parse`` and Scrapyd."""

from __future__ import annotations

import builtins
from typing import Any, Self

from scrapy import Request
from scrapy.settings import BaseSettings

from scraper.config import Config, load_config
from scraper.sources import SourceSpec
from scraper.spiders import SourceSpider


def spider_class(spec: SourceSpec) -> type[SourceSpider]:
    """The spider for ``spec``: the one base spider with the spec as its declaration."""
    attributes: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": spec.label or spec.name,
        "name": spec.name,
        "spec": spec,
        "label": spec.label or spec.name,
        "hosts": spec.hosts,
        "feeds": spec.feeds,
        "listings": spec.listings,
        "sitemaps": spec.sitemaps,
        "article_pattern": spec.article_pattern,
        "next_page_xpaths": spec.next_page_xpaths,
        "relevance": spec.relevance,
        "interval_minutes": spec.interval_minutes,
        "canonical_rewrites": spec.canonical_rewrites,
        "extraction": spec.extraction,
    }
    class_name = "".join(part.capitalize() for part in spec.name.split("_")) + "Spider"
    return type(class_name, (SourceSpider,), attributes)


def specs(config: Config | None = None) -> dict[str, SourceSpec]:
    """Every registered source by name (the configuration's, default: the process's)."""
    return (config or load_config()).source_specs()


def spider_classes(config: Config | None = None) -> dict[str, type[SourceSpider]]:
    return {name: spider_class(spec) for name, spec in specs(config).items()}


class SourceSpiderLoader:
    """Scrapy's spider-loader interface over the registry (``SPIDER_LOADER_CLASS``)."""

    def __init__(self, classes: dict[str, type[SourceSpider]]):
        self._classes = classes

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        return cls(spider_classes())

    def load(self, spider_name: str) -> type[SourceSpider]:
        try:
            return self._classes[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._classes)

    def find_by_request(self, request: Request) -> builtins.list[str]:
        return [name for name, cls in self._classes.items() if cls.handles_request(request)]
