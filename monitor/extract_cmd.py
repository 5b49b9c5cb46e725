"""``clusterwatch extract``: what extraction makes of saved pages or URLs, field by field,
with the layer each field came from — the tool for an operator whose source drifts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scraper.config import Config
from scraper.extract import BERLIN, Extracted, ExtractionError, ExtractionRules, extract
from scraper.mirror import mirror_url
from scraper.registry import spider_classes

MAX_BYTES = 20 * 1024 * 1024


class InputError(ValueError):
    """A page that cannot be read or fetched (one line for the user)."""


@dataclass
class Page:
    url: str
    body: bytes
    content_type: str | None
    origin: str  # the file or URL as the user gave it


def rules_for(source: str | None) -> tuple[ExtractionRules, str]:
    """The source's declared rules, or none at all (generic mode)."""
    if source is None:
        return ExtractionRules(), "generic"
    classes = spider_classes()
    if source not in classes:
        raise InputError(f"unknown source {source!r} (known: {', '.join(sorted(classes))})")
    return classes[source].extraction, source


def read_pages(inputs: list[str], url: str | None, config: Config) -> Iterator[Page | InputError]:
    for given in inputs:
        try:
            if given.startswith(("http://", "https://")):
                yield fetch(given, config)
            else:
                yield read_file(Path(given), url)
        except InputError as error:
            yield error


def read_file(path: Path, url: str | None) -> Page:
    try:
        body = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from error
    return Page(url or path.resolve().as_uri(), body, None, str(path))


def fetch(url: str, config: Config) -> Page:
    """GET ``url`` — through the mirror when one is configured, like every crawl."""
    target = mirror_url(config.mirror, url) if config.mirror else url
    request = urllib.request.Request(target, headers={"User-Agent": config.user_agent})
    try:
        with urllib.request.urlopen(request, timeout=config.download_timeout) as response:
            body = response.read(MAX_BYTES + 1)
            content_type = response.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        raise InputError(f"{url}: answered HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(f"{url}: cannot fetch ({reason})") from error
    if len(body) > MAX_BYTES:
        raise InputError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    return Page(url, body, content_type, url)


def run_extraction(page: Page, rules: ExtractionRules) -> Extracted:
    return extract(page.body, page.url, rules, content_type=page.content_type)


def as_json(page: Page, result: Extracted | None, error: str | None) -> dict[str, Any]:
    if result is None:
        return {"url": page.url, "input": page.origin, "error": error}
    return {
        "url": page.url,
        "input": page.origin,
        "title": result.title,
        "published": result.published_at.isoformat() if result.published_at else None,
        "published_local": (
            result.published_at.astimezone(BERLIN).isoformat() if result.published_at else None
        ),
        "language": result.language,
        "text": result.text,
        "html": result.html,
        "title_source": result.title_source,
        "date_source": result.date_source,
        "body_source": result.body_source,
        "language_source": result.language_source,
    }


def extract_all(
    inputs: list[str], source: str | None, url: str | None, config: Config
) -> Iterator[tuple[Page | None, dict[str, Any]]]:
    """One JSON-ready record per input, in order; errors are records too."""
    rules, _mode = rules_for(source)
    for item in read_pages(inputs, url, config):
        if isinstance(item, InputError):
            yield None, {"url": None, "input": str(item).split(":", 1)[0], "error": str(item)}
            continue
        try:
            result = run_extraction(item, rules)
        except ExtractionError as error:
            yield item, as_json(item, None, f"extraction failed: {error}")
            continue
        yield item, as_json(item, result, None)


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)
