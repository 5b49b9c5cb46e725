"""The item a spider yields for every article page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    date_source: str | None  # page | feed | listing | url
    raw_html: bytes
    relevance_mode: str  # "all" | "keywords": decided by the source's declaration
    relevant: bool | None = None  # set by RelevancePipeline
    topics: list[str] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)  # canonical URLs of translations
