"""The one settings object of clusterwatch (TOML file + ``CLUSTERWATCH_*`` environment).

Scrapy's settings module, the CLI and the service all read :func:`load_config`, so
``scrapy crawl X`` and ``clusterwatch crawl X`` behave the same.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "CLUSTERWATCH_CONFIG"
DEFAULT_CONFIG_FILE = "clusterwatch.toml"
FEED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class SourceOverride(BaseModel):
    """Per-source settings an operator may change without touching code."""

    model_config = {"extra": "forbid"}

    enabled: bool = True
    feeds: list[str] | None = None
    listings: list[str] | None = None
    sitemaps: list[str] | None = None
    article_pattern: str | None = None
    # Minutes between scheduled crawls; fractions are allowed (short intervals in tests),
    # whole numbers stay ints.
    interval_minutes: int | float | None = Field(default=None, gt=0)
    relevance: str | None = Field(default=None, pattern="^(all|keywords)$")


class Match(BaseModel):
    """One part of a feed query: every ``all`` term, at least one ``any`` term (when any
    are given) and no ``not`` term. A plain list in the TOML means ``any``."""

    model_config = {"extra": "forbid", "populate_by_name": True}

    all: list[str] = []
    any: list[str] = []
    none: list[str] = Field(default=[], alias="not")

    @model_validator(mode="before")
    @classmethod
    def _list_means_any(cls, value: Any) -> Any:
        return {"any": value} if isinstance(value, list) else value

    def terms(self) -> list[str]:
        return [*self.all, *self.any, *self.none]


class FeedDefinition(BaseModel):
    """``[feeds.<name>]``: a named filtered feed over the published stories. The parts are
    combined with AND; topics are keys ("field:Energie") or bare names ("Energie"),
    programmes and regions bare names ("go-cluster", "Sachsen"), sources source names,
    keywords words matched in the lead's title and text ignoring case."""

    model_config = {"extra": "forbid"}

    title: str = Field(min_length=1)
    topics: Match = Match()
    programmes: Match = Match()
    regions: Match = Match()
    sources: Match = Match()
    keywords: Match = Match()
    min_score: float | None = None


class HealthThresholds(BaseModel):
    """spidermon-style health thresholds; ``[health.sources.<name>]`` overrides them."""

    model_config = {"extra": "forbid"}

    min_article_links: int = 1
    max_errors: int = 5
    min_field_coverage: float = Field(default=0.9, ge=0, le=1)
    stale_after_intervals: float = Field(default=2.0, gt=0)


class HealthConfig(HealthThresholds):
    sources: dict[str, HealthThresholds] = {}


class Config(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLUSTERWATCH_",
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
    )

    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CLUSTERWATCH_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    mirror: str | None = None
    user_agent: str = (
        "clusterwatch/0.1 (+https://github.com/clusterwatch/clusterwatch; cluster news monitor)"
    )
    contact_url: str = "https://github.com/clusterwatch/clusterwatch"
    download_timeout: int = Field(default=30, gt=0)
    max_page_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    concurrency_per_domain: int = Field(default=2, gt=0)
    autothrottle: bool = True
    relevance_keywords: list[str] = ["cluster", "kompetenznetz", "innovationsnetzwerk"]
    near_duplicate_threshold: float = Field(default=0.8, gt=0, le=1)
    # Failure memory: hours before the 1st, 2nd, 3rd … retry of a failed page (last repeats).
    retry_backoff_hours: list[float] = Field(default=[24.0, 168.0, 672.0], min_length=1)
    feed_max_entries: int = Field(default=100, gt=0)
    feed_base_url: str = "http://127.0.0.1:8080"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, lt=65536)
    crawl_timeout_minutes: float = Field(default=30, gt=0)
    feed_rebuild_minutes: float = Field(default=15, gt=0)
    jitter_seconds: int = Field(default=60, ge=0)
    alert_urls: list[str] = []
    sources: dict[str, SourceOverride] = {}
    feeds: dict[str, FeedDefinition] = {}
    health: HealthConfig = HealthConfig()

    @field_validator("feeds")
    @classmethod
    def _feed_names_are_file_names(
        cls, value: dict[str, FeedDefinition]
    ) -> dict[str, FeedDefinition]:
        for name in value:
            if not FEED_NAME.match(name):
                raise ValueError(
                    f"feed name {name!r}: use letters, digits, '-' and '_' (it becomes "
                    f"/feeds/{name}.xml)"
                )
        return value

    @field_validator("mirror")
    @classmethod
    def _mirror_is_base_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"mirror must be an http(s) base URL, got {value!r}")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments > environment > TOML file > defaults.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_path()))

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clusterwatch.db').resolve()}"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def feeds_dir(self) -> Path:
        return self.data_dir / "feeds"

    @property
    def httpcache_dir(self) -> Path:
        return self.data_dir / "httpcache"

    def source(self, name: str) -> SourceOverride:
        return self.sources.get(name, SourceOverride())

    def thresholds(self, name: str) -> HealthThresholds:
        base = self.health.model_dump(exclude={"sources"})
        override = self.health.sources.get(name)
        if override is not None:
            base.update(override.model_dump(exclude_unset=True))
        return HealthThresholds(**base)


def config_path() -> Path | None:
    """The TOML file to read: ``$CLUSTERWATCH_CONFIG``, else ./clusterwatch.toml if present."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"{CONFIG_ENV}={explicit}: no such config file")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


@lru_cache(maxsize=1)
def load_config(**overrides: Any) -> Config:
    """The process-wide configuration (cached; call ``load_config.cache_clear()`` in tests)."""
    return Config(**overrides)
