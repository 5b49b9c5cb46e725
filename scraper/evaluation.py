"""Extraction quality against replayed pages: used by the quality gate test, the regen
script and the benchmark. Reads a replayed tree directly (no HTTP, no crawl)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from scrapy.http import HtmlResponse

from scraper.classify import DEFAULT_RULES, RuleSet, score
from scraper.dedup import token_f1, tokens
from scraper.extract import (
    Extracted,
    ExtractionRules,
    TemplateLines,
    extract,
    learn_template,
)
from scraper.registry import spider_classes
from scraper.replaytree import ReplayTree

# Re-exported for the quality gate and scripts.
__all__ = ["spider_classes", "token_f1", "tokens"]

MAX_REDIRECTS = 5


@dataclass
class Expected:
    path: Path
    source: str
    data: dict[str, Any]

    @property
    def url(self) -> str:
        return str(self.data["url"])


def load_expected(root: Path, source: str) -> list[Expected]:
    folder = root / source
    return [
        Expected(p, source, json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(folder.glob("*.json"))
        if p.name != "manifest.json"
    ]


def fetch_replayed(tree: ReplayTree, url: str) -> HtmlResponse:
    """The page the site would answer for ``url``, following replayed redirects."""
    for _ in range(MAX_REDIRECTS):
        resolved = tree.resolve_url(url)
        if resolved.location is not None:
            url = urljoin(url, resolved.location)
            continue
        if resolved.file is None:
            raise FileNotFoundError(f"no replayed page for {url}")
        return HtmlResponse(
            url,
            body=resolved.file.read_bytes(),
            headers={"Content-Type": resolved.content_type or "text/html"},
        )
    raise RuntimeError(f"too many redirects for {url}")


def extract_expected(
    tree: ReplayTree,
    item: Expected,
    template: TemplateLines | None = None,
    rules: ExtractionRules | None = None,
) -> Extracted:
    """Extract a replayed page as the crawl would: its bytes, content type and the source's
    rules (or other ``rules``, e.g. none for generic mode)."""
    response = fetch_replayed(tree, item.url)
    return extract(
        response.body,
        response.url,
        spider_classes()[item.source].extraction if rules is None else rules,
        content_type=_content_type(response),
        template=template,
    )


def source_template(tree: ReplayTree, items: list[Expected]) -> TemplateLines:
    """The template lines a crawl of these pages would have learned."""
    return learn_template(fetch_replayed(tree, item.url).body for item in items)


def _content_type(response: HtmlResponse) -> str | None:
    value = response.headers.get("Content-Type")
    return value.decode("latin-1") if value else None


def relevant(source: str, extracted: Extracted, rules: RuleSet = DEFAULT_RULES) -> bool:
    if spider_classes()[source].relevance == "all":
        return True
    return score(extracted.title, extracted.text, rules).relevant
