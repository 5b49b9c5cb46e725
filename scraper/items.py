"""The item a spider yields for every article page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scraper.pool import Prepared

# What `scrapy crawl X -O items.jsonl|.csv` exports: the text fields, never the raw bytes.
EXPORT_FIELDS = [
    "source",
    "url",
    "canonical_url",
    "title",
    "published_at",
    "language",
    "text",
    "html",
    "topics",
    "alternates",
    "relevant",
    "relevance_score",
    "title_source",
    "date_source",
    "body_source",
    "language_source",
]


@dataclass
class Announcement:
    source: str
    url: str  # the URL the page was fetched from (after redirects)
    canonical_url: str
    title: str
    text: str
    html: str
    language: str | None
    published_at: datetime | None  # UTC
    relevance_mode: str  # "all" | "keywords": decided by the source's declaration
    # Provenance: the extraction layer of each field (see scraper/extract/__init__.py).
    title_source: str = "declared"
    date_source: str | None = None
    body_source: str = "declared"
    language_source: str | None = None
    # The page inputs, kept for re-extraction.
    raw_html: bytes = b""
    raw_encoding: str | None = None
    raw_headers: dict[str, str] = field(default_factory=dict)
    feed_date: datetime | None = None
    listing_date: datetime | None = None
    link_text: str | None = None  # the listing's or feed's words for the link (linktext.py)
    rules_version: str | None = None
    line_hashes: list[str] = field(default_factory=list)
    relevant: bool | None = None  # set by RelevancePipeline
    relevance_score: float | None = None
    relevance_terms: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)  # canonical URLs of translations
    # Computed with the extraction in a worker (scraper/pool.py): the story fingerprint and
    # the compressed raw page, so the store does not compute them on the reactor thread.
    prepared: Prepared | None = field(default=None, repr=False, compare=False)
