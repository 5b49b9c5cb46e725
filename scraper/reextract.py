"""Re-extraction: the stored pages run through today's extraction, relevance and story
grouping again — after a rule change — and the articles are updated in place.

The same steps as a crawl (``extract`` on the stored page inputs: body bytes, the content
type with the charset the response was decoded with, the feed date; then the pipeline
steps of ``scraper.pipelines``), only the page comes from the store instead of the network.
GUIDs stay; a published entry whose lead changed gets an ``updated`` date; a page stored as
failed that extracts now is recovered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from scrapy.settings import Settings

from db.models import FAILED, Article
from db.repository import Repository
from scraper import classify
from scraper.dedup import token_f1
from scraper.extract import ExtractionError, TemplateLines
from scraper.extract.furniture import MIN_PAGES, MIN_SHARE
from scraper.pipelines import (
    article_record,
    classify_item,
    not_an_article,
    source_order,
    story_decider,
    story_thresholds,
)
from scraper.sources import SourceSpec
from scraper.spiders import SourceSpider, extract_stored, stored_hints

CHANGED = "changed"
RECOVERED = "recovered"
UNCHANGED = "unchanged"
STILL_FAILED = "still failed"
FAILS_NOW = "fails now"  # a stored article the new rules cannot extract: kept as it was


@dataclass
class Change:
    source: str
    canonical_url: str
    outcome: str
    title_before: str
    title_after: str
    date_before: datetime | None
    date_after: datetime | None
    text_f1: float | None  # the old text against the new one (1.0: the same words)
    relevance_before: str | None
    relevance_after: str | None
    reason: str | None = None

    @property
    def relevance_flipped(self) -> bool:
        return (
            self.relevance_before is not None
            and self.relevance_after is not None
            and self.relevance_before != self.relevance_after
        )


def crawl_settings() -> Settings:
    """The Scrapy settings a crawl runs with (relevance rules, story thresholds)."""
    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    return settings


def reextract(
    repository: Repository,
    spiders: dict[str, type[SourceSpider]],
    source: str | None = None,
    since: datetime | None = None,
    dry_run: bool = False,
    settings: Settings | None = None,
) -> Iterator[Change]:
    """Re-extract every stored page (of ``source``, first seen ``since``); one Change each."""
    settings = settings or crawl_settings()
    rules = classify.rules_from_settings(settings)
    thresholds = story_thresholds(settings)
    order = source_order(settings)
    templates: dict[str, TemplateLines] = {}
    for row in repository.stored_pages(source, since):
        spider_cls = spiders.get(row.source)
        if spider_cls is None:
            continue  # a source no longer configured: its pages stay as they are
        spider = spider_cls()
        if row.source not in templates:
            hashes, _pages = repository.frequent_lines(row.source, MIN_PAGES, MIN_SHARE)
            templates[row.source] = TemplateLines(frozenset(hashes))
        failed = row.state == FAILED
        try:
            body, extracted = extract_stored(row, spider.extraction, templates[row.source])
        except ExtractionError as error:
            yield _change(row, STILL_FAILED if failed else FAILS_NOW, reason=str(error))
            if failed and not dry_run:
                # mark_rules_version words the reason ("extraction failed: …") itself.
                repository.mark_rules_version(row.canonical_url, spider.rules_version, str(error))
            continue
        item = spider.announcement(
            extracted,
            row.url,
            row.canonical_url,
            body,
            row.raw_encoding,
            dict(row.raw_headers or {}),
            stored_hints(row),
            row.link_text,
        )
        why = not_an_article(item)
        if why is not None:
            yield _change(row, STILL_FAILED if failed else FAILS_NOW, reason=why)
            continue
        classify_item(item, rules)
        record = article_record(item, row.crawl_run_id)
        decide = story_decider(item, record.content_hash, thresholds)
        after = _change(row, RECOVERED if failed else CHANGED, record.title, record.published_at)
        after.relevance_after = record.relevance
        after.text_f1 = None if failed else token_f1(record.text, row.text)
        if not failed and _same_content(row, record.title, record.text, record.html, after):
            after.outcome = UNCHANGED
            if _same_classification(row, record.relevance, record.topics):
                yield after
                continue
            after.outcome = CHANGED
        if not dry_run:
            if failed:
                repository.add_article(record, decide, order)
            elif not repository.replace_article(record, decide, order):
                after.outcome = UNCHANGED
        yield after


def _same_content(row: Article, title: str, text: str, html: str, change: Change) -> bool:
    return (
        row.title == title
        and row.text == text
        and row.html == html
        and row.published_at == change.date_after
    )


def _same_classification(row: Article, relevance: str, topics: list[str]) -> bool:
    return row.relevance == relevance and list(row.topics or []) == list(topics)


def _change(
    row: Article,
    outcome: str,
    title: str | None = None,
    date: datetime | None = None,
    reason: str | None = None,
) -> Change:
    failed = row.state == FAILED
    return Change(
        source=row.source,
        canonical_url=row.canonical_url,
        outcome=outcome,
        title_before="" if failed else row.title,
        title_after=title if title is not None else ("" if failed else row.title),
        date_before=None if failed else row.published_at,
        date_after=date if title is not None else (None if failed else row.published_at),
        text_f1=None,
        relevance_before=None if failed else row.relevance,
        relevance_after=None,
        reason=reason,
    )


def spiders_of(specs: dict[str, SourceSpec]) -> dict[str, type[SourceSpider]]:
    from scraper.registry import spider_class

    return {name: spider_class(spec) for name, spec in specs.items()}
