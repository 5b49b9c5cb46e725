"""Article extraction: trafilatura plus the per-source rules a spider declares.

A source declares where its article body sits (``body_xpaths``, first match wins), what to
prune inside it (captions, credits, link lists, contact boxes), how to read its title and
date, and text patterns to strip. trafilatura turns the pruned body into clean text; when
the declared container is missing (a changed layout), it falls back to the whole page and
says so, so the crawl log shows the drift instead of silently publishing boilerplate.
"""

from __future__ import annotations

import copy
import html as html_lib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import nh3
import trafilatura
from lxml import etree
from lxml import html as lxml_html

logger = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")
GERMAN_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("januar", "jan"),
            ("februar", "feb"),
            ("märz", "maerz", "mär", "mrz"),
            ("april", "apr"),
            ("mai",),
            ("juni", "jun"),
            ("juli", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt"),
            ("november", "nov"),
            ("dezember", "dez"),
        ],
        start=1,
    )
    for name in names
}
_NUMERIC_DATE = re.compile(
    r"(?<!\d)(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?:\s*Uhr)?)?"
)
_WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})\.\s*([A-Za-zÄÖÜäöü]+)\.?\s+(\d{4})")
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})[_\-]")


# Pruned on every source: page furniture that is never article text.
COMMON_PRUNE = (
    "//script",
    "//style",
    "//noscript",
    "//form",
    "//nav",
    "//figure",
    "//figcaption",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' caption ')]",
    "//*[contains(@class, 'share') or contains(@class, 'social')]",
)


@dataclass(frozen=True)
class ExtractionRules:
    """What a spider declares about its article pages."""

    body_xpaths: tuple[str, ...] = ()
    prune_xpaths: tuple[str, ...] = ()
    title_xpaths: tuple[str, ...] = ()
    date_xpaths: tuple[str, ...] = ()
    topics_xpath: str | None = None
    # Regexes removed from the start of the text / whole lines dropped (boilerplate that
    # sits inside the body container on the real site).
    strip_prefixes: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class DateHints:
    """Dates known from where the link was found."""

    feed: datetime | None = None
    listing: datetime | None = None


@dataclass
class Extracted:
    title: str
    text: str
    html: str
    language: str | None
    published_at: datetime | None
    date_source: str | None
    topics: list[str] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)
    used_fallback: bool = False


class ExtractionError(ValueError):
    """The page holds no article (empty body, no title)."""


def extract(
    page: str | bytes,
    url: str,
    rules: ExtractionRules,
    hints: DateHints = DateHints(),
) -> Extracted:
    tree = _parse(page)
    title = _first_text(tree, rules.title_xpaths)
    published, date_source = _page_date(tree, rules.date_xpaths)
    topics = _texts(tree, rules.topics_xpath) if rules.topics_xpath else []
    alternates = _alternates(tree, url)

    prune = [*COMMON_PRUNE, *rules.prune_xpaths]
    body = _declared_body(tree, rules.body_xpaths, prune)
    used_fallback = body is None and bool(rules.body_xpaths)
    if used_fallback:
        logger.warning("declared article body not found on %s; using generic extraction", url)
    doc = trafilatura.bare_extraction(
        lxml_html.tostring(tree if body is None else body, encoding="unicode"),
        url=url,
        with_metadata=not title or published is None,
        include_comments=False,
        include_tables=True,
        include_images=False,
        prune_xpath=prune if body is None else None,
        deduplicate=False,
        favor_precision=body is None,
    )
    raw_text = getattr(doc, "text", None)
    if not raw_text:
        raise ExtractionError(f"no article text found on {url}")
    if not title:
        title = _normalise_space(getattr(doc, "title", None) or "")
    if not title:
        raise ExtractionError(f"no title found on {url}")
    # The headline is not body text, even where a generic extraction picks it up.
    paragraphs = [p for p in _clean_paragraphs(str(raw_text), rules) if p != title]
    if not paragraphs:
        raise ExtractionError(f"no article text besides the title on {url}")

    if published is None:
        published, date_source = _fallback_date(url, hints, getattr(doc, "date", None))
    text = "\n\n".join(paragraphs)
    return Extracted(
        title=title,
        text=text,
        html=to_safe_html(paragraphs),
        language=detect_language(text),
        published_at=published,
        date_source=date_source,
        topics=topics,
        alternates=alternates,
        used_fallback=used_fallback,
    )


# -- parsing helpers ------------------------------------------------------------------


def _parse(page: str | bytes) -> lxml_html.HtmlElement:
    if isinstance(page, bytes):
        page = page.decode("utf-8", errors="replace")
    # lxml refuses str input that still declares an encoding.
    page = re.sub(r"^\s*<\?xml[^>]*\?>", "", page)
    return lxml_html.document_fromstring(page)


def _normalise_space(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _node_text(node: object) -> str:
    if isinstance(node, str):
        return _normalise_space(node)
    if isinstance(node, etree._Element):
        return _normalise_space(node.text_content())
    return ""


def _texts(tree: lxml_html.HtmlElement, xpath: str) -> list[str]:
    result = tree.xpath(xpath)
    nodes = result if isinstance(result, list) else [result]
    return [t for t in (_node_text(n) for n in nodes) if t]


def _first_text(tree: lxml_html.HtmlElement, xpaths: Iterable[str]) -> str:
    for xpath in xpaths:
        texts = _texts(tree, xpath)
        if texts:
            return texts[0]
    return ""


def _declared_body(
    tree: lxml_html.HtmlElement, xpaths: tuple[str, ...], prune: list[str]
) -> lxml_html.HtmlElement | None:
    """The source's declared article container, pruned, as a document of its own.

    The declaration is authoritative: after pruning, class and id attributes are removed so
    trafilatura's generic class-name heuristics (which drop e.g. a ``div.teaser`` lead)
    cannot second-guess it.
    """
    for xpath in xpaths:
        found = [n for n in tree.xpath(xpath) if isinstance(n, lxml_html.HtmlElement)]
        if not found:
            continue
        wrapper = lxml_html.Element("html")
        article = etree.SubElement(etree.SubElement(wrapper, "body"), "article")
        for node in found:
            article.append(_detached_copy(node))
        for rule in prune:
            for node in wrapper.xpath(rule):
                if isinstance(node, etree._Element) and node.getparent() is not None:
                    _drop(node)
        for node in wrapper.iter():
            if isinstance(node.tag, str):
                node.attrib.pop("class", None)
                node.attrib.pop("id", None)
        return wrapper
    return None


def _drop(node: etree._Element) -> None:
    """Remove a node but keep its tail text (the text that follows it in its parent)."""
    parent = node.getparent()
    assert parent is not None
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _detached_copy(node: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    # Pruning works on the copy; the page tree stays intact for title and date rules.
    copied = copy.deepcopy(node)
    copied.tail = None
    return copied


def _alternates(tree: lxml_html.HtmlElement, url: str) -> list[str]:
    hrefs = tree.xpath('//link[@rel="alternate"][@hreflang][@href]/@href')
    found = []
    for href in hrefs:
        absolute = urljoin(url, str(href))
        if absolute.split("#")[0] != url.split("#")[0] and absolute not in found:
            found.append(absolute)
    return found


def _clean_paragraphs(text: str, rules: ExtractionRules) -> list[str]:
    drop = [re.compile(p) for p in rules.drop_lines]
    paragraphs = []
    for raw in text.split("\n"):
        line = _normalise_space(raw)
        if not line or any(p.search(line) for p in drop):
            continue
        paragraphs.append(line)
    if paragraphs:
        first = paragraphs[0]
        for prefix in rules.strip_prefixes:
            first = re.sub(f"^(?:{prefix})", "", first).lstrip()
        paragraphs[0] = first
    return [p for p in paragraphs if p]


def to_safe_html(paragraphs: Iterable[str]) -> str:
    """Paragraphs as HTML, sanitised: a feed never carries a source's raw markup."""
    body = "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
    return nh3.clean(body, tags={"p"})


# -- dates ----------------------------------------------------------------------------


def parse_date(value: str) -> datetime | None:
    """A German or ISO date/time as an aware UTC datetime (wall times are Europe/Berlin)."""
    value = value.strip()
    iso = _ISO_DATE.search(value)
    if iso and not _NUMERIC_DATE.search(value):
        text = iso.group(0).replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            return _to_utc(parsed)
    match = _NUMERIC_DATE.search(value)
    if match:
        day, month, year, hour, minute = match.groups()
        return _local(int(year), int(month), int(day), hour, minute)
    match = _WORD_DATE.search(value)
    if match:
        day, month_name, year = match.groups()
        month = GERMAN_MONTHS.get(month_name.lower())
        if month:
            return _local(int(year), month, int(day), None, None)
    return None


def _local(
    year: int, month: int, day: int, hour: str | None, minute: str | None
) -> datetime | None:
    try:
        local = datetime(year, month, day, int(hour or 0), int(minute or 0), tzinfo=BERLIN)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=BERLIN)
    return value.astimezone(UTC)


def _page_date(
    tree: lxml_html.HtmlElement, xpaths: Iterable[str]
) -> tuple[datetime | None, str | None]:
    for xpath in xpaths:
        for text in _texts(tree, xpath):
            parsed = parse_date(text)
            if parsed is not None:
                return parsed, "page"
    return None, None


def _fallback_date(
    url: str, hints: DateHints, guessed: str | None
) -> tuple[datetime | None, str | None]:
    if hints.feed is not None:
        return hints.feed.astimezone(UTC), "feed"
    if hints.listing is not None:
        return hints.listing.astimezone(UTC), "listing"
    match = _URL_DATE.search(url)
    if match:
        year, month, day = (int(g) for g in match.groups())
        parsed = _local(year, month, day, None, None)
        if parsed is not None:
            return parsed, "url"
    if guessed:
        try:
            return _local_date(date.fromisoformat(guessed[:10])), "page"
        except ValueError:
            pass
    return None, None


def _local_date(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=BERLIN).astimezone(UTC)


# -- language -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _identifier() -> object:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(["de", "en", "fr", "nl", "it", "es", "pl", "da", "sv"])
    return identifier


def detect_language(text: str) -> str | None:
    if len(text) < 20:
        return None
    language, _probability = _identifier().classify(text)  # type: ignore[attr-defined]
    return str(language)
