"""The sources the service knows: every spider ``scrapy list`` knows, with the operator's
overrides from the configuration applied."""

from __future__ import annotations

from dataclasses import dataclass

from scraper.config import Config
from scraper.registry import spider_classes


@dataclass(frozen=True)
class SourceInfo:
    name: str
    label: str
    interval_minutes: float
    enabled: bool
    relevance: str
    hosts: tuple[str, ...]
    # Fields the source declares extraction rules for (health judges drift on those).
    declared_fields: frozenset[str] = frozenset({"title", "date", "body"})


def list_sources(config: Config) -> list[SourceInfo]:
    sources = []
    for name, spider in sorted(spider_classes().items()):
        override = config.source(name)
        sources.append(
            SourceInfo(
                name=name,
                label=spider.label or name,
                interval_minutes=override.interval_minutes or spider.interval_minutes,
                enabled=override.enabled,
                relevance=override.relevance or spider.relevance,
                hosts=spider.hosts,
                declared_fields=declared_fields(spider.extraction),
            )
        )
    return sources


def get_source(config: Config, name: str) -> SourceInfo:
    for source in list_sources(config):
        if source.name == name:
            return source
    known = ", ".join(s.name for s in list_sources(config))
    raise KeyError(f"unknown source {name!r} (known: {known})")


def declared_fields(rules: object) -> frozenset[str]:
    """The provenance field names a source's extraction rules declare XPaths for."""
    names = {"title": "title_xpaths", "date": "date_xpaths", "body": "body_xpaths"}
    return frozenset(field for field, attr in names.items() if getattr(rules, attr, None))
