"""The shapes extraction takes and gives: declared rules, date hints, the result."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ExtractionRules:
    """What a source declares about its article pages: the first extraction layer.

    Every rule is a hint that makes extraction exact; none is the only way to a field.
    """

    body_xpaths: tuple[str, ...] = ()
    prune_xpaths: tuple[str, ...] = ()
    title_xpaths: tuple[str, ...] = ()
    date_xpaths: tuple[str, ...] = ()
    topics_xpath: str | None = None
    # Regexes removed from the start of the text / whole lines dropped (boilerplate that
    # sits inside the body container on the real site).
    strip_prefixes: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()
    # The source's language when it always publishes in one (skips detection).
    language: str | None = None

    def digest(self) -> str:
        """Changes whenever a rule changes: failed pages are retried at once after that."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DateHints:
    """Dates known from where the link was found (the page's own date wins)."""

    feed: datetime | None = None
    listing: datetime | None = None


@dataclass
class Extracted:
    title: str
    text: str  # paragraphs, headings and list items separated by a blank line
    html: str  # the same, as sanitised HTML (headings, lists, links kept)
    language: str | None
    published_at: datetime | None  # UTC
    # Provenance: the layer each field came from (see scraper/extract/__init__.py).
    title_source: str
    date_source: str | None
    body_source: str
    language_source: str | None
    topics: list[str] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)
    # Hashes of every candidate text line before template-line removal: what the store
    # counts to learn the source's template lines.
    line_hashes: list[str] = field(default_factory=list)

    @property
    def provenance(self) -> dict[str, str | None]:
        return {
            "title": self.title_source,
            "date": self.date_source,
            "body": self.body_source,
            "language": self.language_source,
        }

    @property
    def used_fallback(self) -> bool:
        return self.body_source != "declared"


class ExtractionError(ValueError):
    """The page holds no article. ``field`` names what was missing: title | text | page."""

    def __init__(self, message: str, field: str = "page"):
        super().__init__(message)
        self.field = field
