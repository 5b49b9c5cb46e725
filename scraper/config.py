"""The one settings object of clusterwatch (TOML file + ``CLUSTERWATCH_*`` environment).

Scrapy's settings module, the CLI and the service all read :func:`load_config`, so
``scrapy crawl X`` and ``clusterwatch crawl X`` behave the same.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tomllib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from scraper.sources import SourceError, SourceSpec, builtin_specs, check_override, registry

CONFIG_ENV = "CLUSTERWATCH_CONFIG"
DEFAULT_CONFIG_FILE = "clusterwatch.toml"
# A feed name becomes a file name and a URL path segment: a safe charset, bounded length.
NAME_MAX = 64
FEED_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{NAME_MAX - 1}}}$")
ENV_PREFIX = "CLUSTERWATCH_"
# CLUSTERWATCH_* variables that are not settings: the config file's path, and the trigger
# the scheduler hands to its crawl processes.
NON_SETTING_ENV = frozenset({CONFIG_ENV, "CLUSTERWATCH_TRIGGER", "CLUSTERWATCH_JOB_ID"})
# The operator's TOML as deployed inside a worker's egg (``clusterwatch workers deploy``):
# read when neither $CLUSTERWATCH_CONFIG nor ./clusterwatch.toml is there.
DEPLOYED_CONFIG = "deployed.toml"

# The ids of the health rules (``monitor.health.rules``; a test keeps both in step). Listed
# here so the config can refuse a misspelt ``skip_rules`` entry without importing monitor/.
HEALTH_RULE_IDS = (
    "run.failed",
    "entry.unreachable",
    "entry.failed",
    "extraction.failed",
    "articles.fetch_failed",
    "extraction.nothing_stored",
    "extraction.drift",
    "fields.coverage",
    "links.lost",
    "errors.max",
    "run.stale",
)


class ConfigError(ValueError):
    """A bad configuration, as one line naming the file, key or variable at fault."""


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

    min_article_links: int = Field(default=1, ge=0)
    max_errors: int = Field(default=5, ge=0)
    # Over the article pages a run fetched, not over the items that survived validation.
    min_field_coverage: float = Field(default=0.9, ge=0, le=1)
    max_extraction_failure_share: float = Field(default=0.2, ge=0, le=1)
    # Article requests that got no usable answer (status, timeout, reset, redirect loop …).
    max_fetch_failure_share: float = Field(default=0.2, ge=0, le=1)
    max_fallback_share: float = Field(default=0.5, ge=0, le=1)
    stale_after_intervals: float = Field(default=2.0, gt=0)
    skip_rules: list[str] = []  # rule ids (see `monitor.health.rules`) not applied here


class HealthConfig(HealthThresholds):
    sources: dict[str, HealthThresholds] = {}


class RelevanceConfig(BaseModel):
    """``[relevance]``: additions to the relevance rules (scraper/classify.py)."""

    model_config = {"extra": "forbid"}

    threshold: float = Field(default=3.0, gt=0)
    # Regexes (case-insensitive) → weight: more cluster words, more other senses.
    terms: dict[str, float] = {}
    other_senses: dict[str, float] = {}


class StoriesConfig(BaseModel):
    """``[stories]``: when two copies are one announcement, and which copy leads."""

    model_config = {"extra": "forbid"}

    containment: float = Field(default=0.8, gt=0, le=1)
    title_similarity: float = Field(default=0.4, ge=0, le=1)
    edited_jaccard: float = Field(default=0.7, gt=0, le=1)
    edited_containment: float = Field(default=0.85, gt=0, le=1)
    # Lead-version ties: the announcing organisation's own site before portals.
    source_order: list[str] = ["clib", "bmwe", "clusterplattform", "openpr"]


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
    # Worker processes extracting the crawl's article pages (scraper/pool.py); unset: one
    # per core, 0: on the crawl's reactor thread.
    crawl_workers: int | None = Field(default=None, ge=0)
    # Article pages extracted on the crawl's own thread before the pool starts (its start-up
    # costs more than a few pages).
    crawl_pool_after: int = Field(default=20, ge=0)
    # Articles stored per transaction, and the longest an item waits for its batch (s).
    store_batch: int = Field(default=50, gt=0)
    store_batch_seconds: float = Field(default=1.0, ge=0)
    # Words that alone make an item relevant (each weighs the threshold); the scored rules
    # (scraper/classify.py, [relevance]) decide everything else.
    relevance_keywords: list[str] = []
    relevance: RelevanceConfig = RelevanceConfig()
    # Stories: the shingle Jaccard similarity from which two copies are one story.
    near_duplicate_threshold: float = Field(default=0.8, gt=0, le=1)
    stories: StoriesConfig = StoriesConfig()
    # Failure memory: hours before the 1st, 2nd, 3rd … retry of a failed page (last repeats).
    retry_backoff_hours: list[float] = Field(default=[24.0, 168.0, 672.0], min_length=1)
    feed_max_entries: int = Field(default=100, gt=0)
    # Unset: the feeds' self links follow http_host/http_port (set it behind a proxy).
    feed_base_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, lt=65536)
    crawl_timeout_minutes: float = Field(default=30, gt=0)
    # On SIGTERM running crawls get this long to close (Scrapy's graceful stop), then SIGKILL.
    shutdown_grace_seconds: float = Field(default=20, ge=0)
    feed_rebuild_minutes: float = Field(default=15, gt=0)
    jitter_seconds: int = Field(default=60, ge=0)
    # Sources falling due within crawl_group_wait_seconds of each other run in one crawl
    # process (python -m scraper.crawl_many), up to crawl_group_size of them; 1: one
    # `scrapy crawl` process per source. Local launcher only (a Scrapyd job runs one spider).
    crawl_group_size: int = Field(default=20, ge=1)
    crawl_group_wait_seconds: float = Field(default=10, ge=0)
    alert_urls: list[str] = []
    # How crawls start: "local" (a `scrapy crawl` process here) or "scrapyd" (a job on one
    # of the Scrapyd workers below, the one with the most free slots).
    launcher: Literal["local", "scrapyd"] = "local"
    scrapyd_urls: list[str] = []
    scrapyd_project: str = "clusterwatch"
    # Crawls one worker runs at once (its Scrapyd max_proc; daemonstatus.json omits it).
    scrapyd_slots: int = Field(default=4, gt=0)
    # [sources.<name>]: an override of a built-in source (any field) or a new source.
    sources: dict[str, dict[str, Any]] = {}
    feeds: dict[str, FeedDefinition] = {}
    health: HealthConfig = HealthConfig()

    @field_validator("sources")
    @classmethod
    def _sources_are_specs(cls, sources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # Unknown fields are refused here; whether a new source is complete, in
        # check_source_names (after the typo check on its name).
        return {name: check_override(name, block) for name, block in sources.items()}

    @field_validator("feeds")
    @classmethod
    def _feed_names_are_file_names(
        cls, value: dict[str, FeedDefinition]
    ) -> dict[str, FeedDefinition]:
        for name in value:
            if not FEED_NAME.fullmatch(name):
                raise ValueError(
                    f"feed name {name[:80]!r}: use up to {NAME_MAX} letters, digits, '-' and '_' "
                    f"(it becomes /feeds/<name>.xml)"
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
        path = config_path()
        if path is None:
            deployed = deployed_config()
            if deployed is not None:
                from pydantic_settings import InitSettingsSource

                return (
                    init_settings,
                    env_settings,
                    InitSettingsSource(settings_cls, init_kwargs=deployed),
                )
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, path))

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clusterwatch.db').resolve()}"

    @property
    def base_url(self) -> str:
        """Where the service is reached: ``feed_base_url``, else the configured host/port."""
        if self.feed_base_url:
            return self.feed_base_url.rstrip("/")
        host = self.http_host
        if host in ("0.0.0.0", "::", ""):
            host = "localhost"  # a wildcard bind is not an address a reader can use
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.http_port}"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def feeds_dir(self) -> Path:
        return self.data_dir / "feeds"

    def source_specs(self) -> dict[str, SourceSpec]:
        """Every source (built-in ones with their overrides, and configured ones), by name."""
        return registry(self.sources)

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


def deployed_config() -> dict[str, Any] | None:
    """The TOML a worker's egg carries (``scraper/deployed.toml``), if one is active.

    Scrapyd puts the deployed egg on ``sys.path``; it is looked for there, not only in the
    imported ``scraper`` package, because a worker with clusterwatch installed imports the
    installed copy first.
    """
    resource = resources.files("scraper").joinpath(DEPLOYED_CONFIG)
    if resource.is_file():
        return tomllib.loads(resource.read_text("utf-8"))
    member = f"scraper/{DEPLOYED_CONFIG}"
    for entry in sys.path:
        if not entry.endswith(".egg") or not zipfile.is_zipfile(entry):
            continue
        with zipfile.ZipFile(entry) as egg:
            if member in egg.namelist():
                return tomllib.loads(egg.read(member).decode("utf-8"))
    return None


@lru_cache(maxsize=1)
def load_config(**overrides: Any) -> Config:
    """The process-wide configuration (cached; call ``load_config.cache_clear()`` in tests).

    Every problem comes out as one :class:`ConfigError` naming the file and line, the
    section and key or the environment variable, with a "did you mean" where one fits.
    """
    check_environment(os.environ)
    try:
        path = config_path()
    except FileNotFoundError as error:
        raise ConfigError(str(error)) from None
    toml = _read_toml(path)
    try:
        config = Config(**overrides)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, path, toml)) from None
    known = known_sources()
    check_source_names(config, known, path)
    check_feed_definitions(config, list(config.source_specs()), path)
    return config


def known_sources() -> list[str]:
    """The names of the built-in sources."""
    return sorted(builtin_specs())


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing."""
    options = list(choices)
    lowered = {choice.lower(): choice for choice in options}
    if word.lower() in lowered:
        return f" (did you mean {lowered[word.lower()]!r}?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message carries "(at line N, column M)"; add which file.
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file: {error.strerror}") from None


def check_environment(environ: Mapping[str, str]) -> None:
    """Refuse ``CLUSTERWATCH_*`` variables that name no setting (a typo would be ignored)."""
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in NON_SETTING_ENV:
            continue
        parts = [part.lower() for part in upper.removeprefix(ENV_PREFIX).split("__")]
        problem = _unknown_part(Config, parts)
        if problem is None:
            continue
        position, choices = problem
        known = [
            ENV_PREFIX + "__".join([*(p.upper() for p in parts[:position]), c.upper()])
            for c in choices
        ]
        raise ConfigError(f"unknown environment variable {name}{did_you_mean(upper, known)}")


def _unknown_part(model: type[BaseModel], parts: Sequence[str]) -> tuple[int, list[str]] | None:
    """Where a settings path leaves the schema: (index of the bad part, valid names there)."""
    annotation: Any = model
    for index, part in enumerate(parts):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = annotation.model_fields
            if part not in fields:
                return index, sorted(fields)
            annotation = fields[part].annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]  # any key: a source name, checked later
        else:
            return index, []  # a plain value has no sub-keys
    return None


def describe_validation_error(
    error: ValidationError, path: Path | None, toml: Mapping[str, Any]
) -> str:
    """pydantic's errors as one line: where (file + section + key, or variable) and what."""
    problems = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        where = _where(loc, path, toml)
        if item["type"] == "extra_forbidden":
            problem = _unknown_part(Config, loc)
            choices = problem[1] if problem else []
            problems.append(f"{where}: unknown key{did_you_mean(loc[-1], choices)}")
        else:
            message = item["msg"].removeprefix("Value error, ")
            got = repr(item.get("input"))
            problems.append(f"{where}: {message}" + ("" if got in message else f" (got {got})"))
    return "; ".join(problems)


def _where(loc: Sequence[str], path: Path | None, toml: Mapping[str, Any]) -> str:
    """``clusterwatch.toml line 4: [health] max_error`` or ``CLUSTERWATCH_HEALTH__MAX_ERROR``."""
    node: Any = toml
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            break
        node = node[part]
    else:
        section, key = loc[:-1], loc[-1] if loc else ""
        line = _line_of(path, section, key) if path else None
        at = f"{path} line {line}" if line else str(path)
        return f"{at}: [{'.'.join(section)}] {key}" if section else f"{at}: {key}"
    return ENV_PREFIX + "__".join(part.upper() for part in loc)


def _line_of(path: Path, section: Sequence[str], key: str) -> int | None:
    """The line of ``key = …`` under ``[section]`` (a plain scan: good enough for a hint)."""
    current: list[str] = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return None
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            current = [p.strip().strip("\"'") for p in line.strip("[]").split(".")]
        elif current == list(section) and line.split("=", 1)[0].strip().strip("\"'") == key:
            return number
    return None


def check_source_names(config: Config, known: Sequence[str], path: Path | None) -> None:
    """``[sources.<name>]`` and ``[health.sources.<name>]`` must name a known source."""
    where = f"{path}: " if path else ""
    for name, block in config.sources.items():
        if name not in known and "hosts" not in block:  # neither a built-in nor a new source
            raise ConfigError(
                f"{where}[sources.{name}]: unknown source {name!r}"
                f"{did_you_mean(name, known)}; known: {', '.join(known)} (a new source "
                "declares hosts, article_pattern and a feed, listing or sitemap)"
            )
    try:
        known = list(config.source_specs())
    except SourceError as error:
        raise ConfigError(f"{where}{error}") from None
    for name in config.health.sources:
        if name not in known:
            raise ConfigError(
                f"{where}[health.sources.{name}]: unknown source {name!r}"
                f"{did_you_mean(name, known)}; known: {', '.join(known)}"
            )
    skipped = {rule for name in known for rule in config.thresholds(name).skip_rules}
    for rule in sorted(skipped - set(HEALTH_RULE_IDS)):
        raise ConfigError(
            f"{where}skip_rules: unknown health rule {rule!r}"
            f"{did_you_mean(rule, HEALTH_RULE_IDS)}; rules: {', '.join(HEALTH_RULE_IDS)}"
        )


def check_feed_definitions(config: Config, known: Sequence[str], path: Path | None) -> None:
    """``[feeds.<name>]`` must name known topics, programmes, regions and sources, and not
    take the name of a built-in feed (``all``, a source)."""
    from scraper.classify import topic_key, topic_names

    where = f"{path}: " if path else ""
    for name, definition in config.feeds.items():
        problems = []
        if name == "all" or name in known:
            problems.append(f"the name {name!r} is taken by a built-in feed")
        for kind, match in (
            ("topic", definition.topics),
            ("programme", definition.programmes),
            ("region", definition.regions),
        ):
            for term in match.terms():
                if topic_key(kind, term) is None:
                    hint = did_you_mean(term, topic_names(kind))
                    problems.append(f"unknown {kind} {term!r}{hint}")
        for term in definition.sources.terms():
            if term not in known:
                problems.append(f"unknown source {term!r}{did_you_mean(term, known)}")
        if any(not term.strip() for term in definition.keywords.terms()):
            problems.append("empty keyword")
        if problems:
            raise ConfigError(
                f"{where}[feeds.{name}]: {'; '.join(problems)} (known sources: "
                f"{', '.join(known)}; topics: see README, Named filtered feeds)"
            )
