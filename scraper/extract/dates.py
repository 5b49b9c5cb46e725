"""Dates: German and ISO parsing, and the page's publication date in layers.

Layers, first plausible value wins: ``declared`` (the source's date XPaths) → ``meta``
(``article:published_time``, ``DC.date`` …) → ``jsonld`` (``datePublished``) → ``time``
(``time[datetime]`` in the main content) → ``htmldate`` (on the whole page; accepted only
when it agrees with a feed/listing/URL date within a few days, its guesses are loose) →
``feed`` → ``listing`` → ``url``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import html as lxml_html

from scraper.extract.model import DateHints
from scraper.extract.page import json_ld_values, main_scope, meta_values, xpath_texts

BERLIN = ZoneInfo("Europe/Berlin")
GERMAN_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("januar", "jan", "january"),
            ("februar", "feb", "february"),
            ("märz", "maerz", "mär", "mrz", "march", "mar"),
            ("april", "apr"),
            ("mai", "may"),
            ("juni", "jun", "june"),
            ("juli", "jul", "july"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt", "october", "oct"),
            ("november", "nov"),
            ("dezember", "dez", "december", "dec"),
        ],
        start=1,
    )
    for name in names
}
NUMERIC_DATE = re.compile(
    r"(?<!\d)(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?:\s*Uhr)?)?"
)
WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})\.\s*([A-Za-zÄÖÜäöü]+)\.?\s+(\d{4})")
ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
URL_DATE = re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})[_\-]")
META_DATES = (
    "article:published_time",
    "og:article:published_time",
    "datePublished",
    "DC.date",
    "DC.date.issued",
    "DC.Date",
    "dcterms.issued",
    "dcterms.created",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
)
# htmldate guesses from the whole page; trust it only near what the feed/listing/URL says.
HTMLDATE_AGREEMENT = timedelta(days=3)
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


def parse_date(value: str) -> datetime | None:
    """A German or ISO date/time as an aware UTC datetime (wall times are Europe/Berlin)."""
    value = value.strip()
    iso = ISO_DATE.search(value)
    if iso and not NUMERIC_DATE.search(value):
        text = iso.group(0).replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            return to_utc(parsed)
    match = NUMERIC_DATE.search(value)
    if match:
        day, month, year, hour, minute = match.groups()
        return local(int(year), int(month), int(day), hour, minute)
    match = WORD_DATE.search(value)
    if match:
        day, month_name, year = match.groups()
        month = GERMAN_MONTHS.get(month_name.lower())
        if month:
            return local(int(year), month, int(day), None, None)
    return None


def local(
    year: int, month: int, day: int, hour: str | None = None, minute: str | None = None
) -> datetime | None:
    try:
        wall = datetime(year, month, day, int(hour or 0), int(minute or 0), tzinfo=BERLIN)
    except ValueError:
        return None
    return wall.astimezone(UTC)


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=BERLIN)
    return value.astimezone(UTC)


def local_date(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=BERLIN).astimezone(UTC)


def plausible(value: datetime | None) -> bool:
    return value is not None and EARLIEST <= value <= datetime.now(UTC) + timedelta(days=2)


def page_date(
    tree: lxml_html.HtmlElement, url: str, xpaths: tuple[str, ...], hints: DateHints
) -> tuple[datetime | None, str | None]:
    for layer, candidates in _page_candidates(tree, xpaths):
        for text in candidates:
            parsed = parse_date(text)
            if plausible(parsed):
                return parsed, layer
    reference = hints.feed or hints.listing or url_date(url)
    guessed = _htmldate(tree)
    if guessed is not None and (
        reference is None or abs(guessed - reference) <= HTMLDATE_AGREEMENT
    ):
        return with_visible_time(tree, guessed), "htmldate"
    for layer, hinted in (("feed", hints.feed), ("listing", hints.listing)):
        if hinted is not None:
            return hinted.astimezone(UTC), layer
    from_url = url_date(url)
    if from_url is not None:
        return from_url, "url"
    return None, None


def _page_candidates(
    tree: lxml_html.HtmlElement, xpaths: tuple[str, ...]
) -> list[tuple[str, list[str]]]:
    declared = [text for xpath in xpaths for text in xpath_texts(tree, xpath)]
    scope = main_scope(tree) or [tree]
    times = [
        str(t.get("datetime"))
        for node in scope
        for t in node.iter("time")
        if (t.get("datetime") or "").strip()
    ]
    return [
        ("declared", declared),
        ("meta", meta_values(tree, *META_DATES)),
        ("jsonld", json_ld_values(tree, "datePublished")),
        ("time", times),
    ]


def with_visible_time(tree: lxml_html.HtmlElement, day: datetime) -> datetime:
    """htmldate knows days only: take the wall time the page shows next to that day."""
    wanted = day.astimezone(BERLIN).date()
    for match in NUMERIC_DATE.finditer(tree.text_content()):
        if match.group(4) is None:
            continue
        parsed = parse_date(match.group(0))
        if parsed is not None and parsed.astimezone(BERLIN).date() == wanted:
            return parsed
    return day


def url_date(url: str) -> datetime | None:
    match = URL_DATE.search(url)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    return local(year, month, day)


def _htmldate(tree: lxml_html.HtmlElement) -> datetime | None:
    from htmldate import find_date

    try:
        found = find_date(
            lxml_html.tostring(tree, encoding="unicode"),
            extensive_search=True,
            original_date=True,
            outputformat="%Y-%m-%d",
        )
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    try:
        guessed = local_date(date.fromisoformat(found))
    except ValueError:
        return None
    return guessed if plausible(guessed) else None
