"""The sources the service knows: the one registry (``scraper.sources``), read through the
configuration — built-in sources with the operator's overrides, and configured ones."""

from __future__ import annotations

from scraper.config import Config
from scraper.sources import SourceSpec


def list_sources(config: Config) -> list[SourceSpec]:
    return list(config.source_specs().values())


def get_source(config: Config, name: str) -> SourceSpec:
    specs = config.source_specs()
    if name not in specs:
        raise KeyError(f"unknown source {name!r} (known: {', '.join(specs)})")
    return specs[name]
