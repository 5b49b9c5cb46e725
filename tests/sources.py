"""The sources under test: every built-in one and every one declared only in
tests/sources.toml, each with the replayed tree and expected output that cover it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from scraper.sources import SourceSpec, builtin_specs, registry

TESTS = Path(__file__).resolve().parent
SOURCES_TOML = TESTS / "sources.toml"
SITES_CONFIG = TESTS / "sites_config"
EXPECTED_CONFIG = TESTS / "expected_config"


def configured_sources() -> dict[str, dict[str, Any]]:
    with SOURCES_TOML.open("rb") as handle:
        sources: dict[str, dict[str, Any]] = tomllib.load(handle)["sources"]
    return sources


def registered() -> dict[str, SourceSpec]:
    """Every source the registry knows with tests/sources.toml as the configuration."""
    return registry(configured_sources())


def trees_of(name: str) -> tuple[Path, Path]:
    """(replayed sites, expected output) of a registered source."""
    if name in builtin_specs():
        return TESTS / "sites", TESTS / "expected"
    return SITES_CONFIG, EXPECTED_CONFIG


__all__ = ["SOURCES_TOML", "builtin_specs", "registered", "trees_of"]
