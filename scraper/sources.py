"""Sources as data: one :class:`SourceSpec` per source, one merge of the operator's
``[sources.<name>]`` over the built-in specs, and one registry that answers "which sources
exist" for ``scrapy list``, the scheduler, the CLI, the status page and the tests.

Built-in specs are module-level ``SourceSpec`` objects in the modules named by
``SPEC_MODULES`` (``spiders/``), found the way Scrapy finds spider classes — by walking the
package, not by a static import (``spiders`` sits above ``scraper``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_type_hints

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic import model_validator as _model_validator
from pydantic.fields import FieldInfo
from scrapy.utils.misc import walk_modules_iter

from scraper.extract import ExtractionRules

SPEC_MODULES = ("spiders",)
# A source name is a feed name, a file name and a crawl_runs.spider value (64 characters).
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"article_pattern is not a regular expression: {error}") from error
    return pattern


class SourceSpec(BaseModel):
    """Everything that makes a source: identity, where its articles are announced, what an
    article URL looks like, how to page through listings and how to extract its pages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    label: str = ""
    hosts: tuple[str, ...] = Field(min_length=1)  # canonical host first, then aliases
    feeds: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_pattern: Annotated[str, AfterValidator(_compiles)] = Field(min_length=1)  # a regex
    # (regex, replacement) on the URL path: several paths that name one article.
    canonical_rewrites: tuple[tuple[str, str], ...] = ()
    next_page_xpaths: tuple[str, ...] = ()
    relevance: Literal["all", "keywords"] = "all"
    # Minutes between scheduled crawls; fractions are allowed (short intervals in tests).
    interval_minutes: int | float = Field(default=60, gt=0)
    extraction: ExtractionRules = ExtractionRules()
    enabled: bool = True

    @_model_validator(mode="before")
    @classmethod
    def _label_defaults_to_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("label") and data.get("name"):
            data = {**data, "label": data["name"]}
        return data

    @field_validator("hosts")
    @classmethod
    def _lower_hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(h.lower() for h in hosts)

    @_model_validator(mode="after")
    def _has_entry_point(self) -> SourceSpec:
        if not (self.feeds or self.listings or self.sitemaps):
            raise ValueError("a source needs at least one of feeds, listings, sitemaps")
        return self

    @property
    def entry_points(self) -> list[str]:
        return [*self.feeds, *self.listings, *self.sitemaps]

    @property
    def declared_fields(self) -> frozenset[str]:
        """The provenance fields the extraction rules declare XPaths for (health judges
        drift on those)."""
        rules = self.extraction
        declared = {
            "title": rules.title_xpaths,
            "date": rules.date_xpaths,
            "body": rules.body_xpaths,
        }
        return frozenset(field for field, xpaths in declared.items() if xpaths)


def _optional(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: (annotation | None, None) for name, annotation in fields.items()}


def _constrained(field: FieldInfo) -> Any:
    """A field's type with its constraints (gt=0, the regex check …), for the override."""
    return Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation


_STRICT = ConfigDict(extra="forbid")
_RULE_TYPES = get_type_hints(ExtractionRules)
# Every field of the extraction rules, each optional: ``[sources.x.extraction]``.
ExtractionOverride: type[BaseModel] = create_model(
    "ExtractionOverride",
    __config__=_STRICT,
    **_optional(
        {
            f.name: get_type_hints(ExtractionRules)[f.name]
            for f in dataclasses.fields(ExtractionRules)
        }
    ),
)
# Every field of SourceSpec but the name (the TOML key), each optional: ``[sources.x]``.
SourceOverride: type[BaseModel] = create_model(
    "SourceOverride",
    __config__=_STRICT,
    **_optional(
        {
            name: (ExtractionOverride if name == "extraction" else _constrained(field))
            for name, field in SourceSpec.model_fields.items()
            if name != "name"
        }
    ),
)


class SourceError(ValueError):
    """A ``[sources.<name>]`` block that does not make a valid source (one line, by name)."""


def check_override(name: str, block: Mapping[str, Any]) -> dict[str, Any]:
    """A ``[sources.<name>]`` block as given, checked field by field: unknown fields and bad
    values are refused by name."""
    known = set(SourceOverride.model_fields)
    unknown = sorted(set(block) - known)
    if unknown:
        raise SourceError(
            f"[sources.{name}]: unknown field(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    rules = block.get("extraction")
    if isinstance(rules, Mapping):
        known_rules = set(ExtractionOverride.model_fields)
        unknown = sorted(set(rules) - known_rules)
        if unknown:
            raise SourceError(
                f"[sources.{name}.extraction]: unknown field(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known_rules))})"
            )
    try:
        SourceOverride.model_validate(dict(block))
    except ValidationError as error:
        raise SourceError(f"[sources.{name}]: {_problems(error)}") from error
    return dict(block)


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'source'}: {e['msg']}" for e in error.errors()
    )


def merge(
    base: SourceSpec | None, name: str, override: BaseModel | Mapping[str, Any]
) -> SourceSpec:
    """The source ``name``: ``base`` (a built-in spec, or None for a new source) with every
    field the override sets replacing the built-in one; extraction rules field by field."""
    if not isinstance(override, BaseModel):
        override = SourceOverride.model_validate(dict(override))
    changes = override.model_dump(exclude_unset=True)
    data: dict[str, Any] = base.model_dump() if base is not None else {"name": name}
    extraction = changes.pop("extraction", None)
    data.update({k: v for k, v in changes.items() if v is not None})
    if extraction:
        rules = dict(data.get("extraction") or {})
        rules.update({k: v for k, v in extraction.items() if v is not None})
        tupled: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in rules.items()
        }
        data["extraction"] = ExtractionRules(**tupled)
    try:
        return SourceSpec.model_validate(data)
    except ValidationError as error:
        kind = "override of" if base is not None else "new source"
        raise SourceError(f"[sources.{name}] ({kind} {name!r}): {_problems(error)}") from error


def builtin_specs(modules: tuple[str, ...] = SPEC_MODULES) -> dict[str, SourceSpec]:
    """The built-in sources: every module-level SourceSpec in ``modules``."""
    found: dict[str, SourceSpec] = {}
    for package in modules:
        for module in walk_modules_iter(package):
            for value in vars(module).values():
                if isinstance(value, SourceSpec):
                    if value.name in found and found[value.name] is not value:
                        raise SourceError(f"two built-in sources are named {value.name!r}")
                    found[value.name] = value
    return found


def registry(overrides: Mapping[str, BaseModel | Mapping[str, Any]]) -> dict[str, SourceSpec]:
    """Every source, by name (sorted): the built-in ones with the operator's overrides merged,
    and the sources the configuration declares."""
    specs = builtin_specs()
    for name, override in overrides.items():
        if not re.fullmatch(NAME_PATTERN, name):
            raise SourceError(
                f"[sources.{name[:80]}]: a source name is up to 64 lower-case letters, digits, _"
            )
        specs[name] = merge(specs.get(name), name, override)
    return dict(sorted(specs.items()))
