"""Generic discovery on entry pages: the next listing page, feed links, sitemaps in robots.txt.

A listing's next page is found in layers, first hit wins, so a redesign that breaks the
source's declared XPaths still reaches page 2:

1. ``declared``  — the source's ``next_page_xpaths`` (each yielding an href or an element);
2. ``rel-next``  — ``<link rel="next">`` / ``<a rel="next">``;
3. ``label``     — an ``<a>`` whose whole label (``aria-label``; else ``title`` or visible
   text) says next page: "weiter", "nächste Seite", "next", "›", "»", "ältere Beiträge" …;
4. ``class``     — a next/forward class token on the ``<a>`` or an ancestor up to 3 levels
   (``li.forward > a``, ``a.next.page-numbers``);
5. ``numbered``  — a link to the same listing (same path; page number in the query, in a
   ``/page/N/`` path or ``;page=N``) numbered current page + 1;
6. ``wordpress`` — on a WordPress archive, a link to ``…/page/<current + 1>/``.

Every layer refuses the page itself, an earlier page of the same listing, another host,
``javascript:``/``mailto:`` and fragment-only links. Pure functions over HTML text (lxml).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

__all__ = ["NextPage", "feed_links", "next_page", "sitemaps_from_robots"]

LAYERS = ("declared", "rel-next", "label", "class", "numbered", "wordpress")

# XPath namespaces parsel registers, so declared XPaths written for Scrapy work here too.
_XPATH_NS = {"re": "http://exslt.org/regular-expressions", "set": "http://exslt.org/sets"}

# -- labels -------------------------------------------------------------------------------
_FORWARD_ARROWS = "›»>→⟩❯❱▶▸►⇒〉⟫"
_BACKWARD_ARROWS = "‹«<←⟨❮❰◀◂◄⇐〈⟪"
# Whole labels (lower case, arrows and whitespace trimmed) that mean "the next page".
_NEXT_WORDS = frozenset(
    {
        "weiter",
        "vor",
        "vorwärts",
        "nächste",
        "nächster",
        "nächstes",
        "nächste seite",
        "zur nächsten seite",
        "nächste ergebnisse",
        "weitere ergebnisse",
        "ältere beiträge",
        "ältere einträge",
        "ältere artikel",
        "ältere meldungen",
        "ältere nachrichten",
        "ältere news",
        "next",
        "next page",
        "older posts",
        "older entries",
    }
)
# Words that are also common outside pagination ("weiter" as read-more): a link with such a
# label only counts when it points into the same listing.
_AMBIGUOUS_WORDS = frozenset({"weiter", "vor", "next", "nächste", "nächster", "nächstes", ""})
# Labels that name another page than the next one (a "»" may mean the last page).
_OTHER_WORDS = re.compile(
    r"\b(zurück|vorherige|vorige|erste|letzte|previous|prev|first|last|neuere|newer)\b"
)

# -- classes --------------------------------------------------------------------------------
_NEXT_CLASSES = frozenset(
    {
        "next",
        "forward",
        "pager-next",
        "page-next",
        "pagination-next",
        "pagination__next",
        "pager__item--next",
        "next-page",
        "nextpostslink",  # WP-PageNavi
    }
)
_DISABLED_CLASSES = frozenset({"disabled", "is-disabled", "inactive"})
_CURRENT_CLASSES = frozenset({"current", "active", "is-active", "selected", "current-page"})
_CLASS_DEPTH = 3

# -- page numbers ---------------------------------------------------------------------------
_PATH_PAGE = re.compile(r"/page/(\d{1,5})/?$", re.IGNORECASE)
_MATRIX_PAGE = re.compile(r";page=(\d{1,5})", re.IGNORECASE)
_QUERY_PAGE_NAMES = frozenset(
    {"page", "p", "paged", "pageno", "page_no", "pagenum", "seite", "pg", "currentpage"}
)
# GSB: gtp=<id>_list%253D<n> (``=`` encoded twice); after decoding ``<id>_list=<n>``.
_GSB_PAGE = re.compile(r"^(?P<id>.*?)=(?P<n>\d{1,5})$")
_NUMBER_LABEL = re.compile(r"^(?:seite|page|s\.)?\s*(\d{1,4})$")
_TRAILING_NUMBER = re.compile(r"(\d{1,4})$")
_REJECTED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:")
_CONTROL_WS = re.compile(r"[\t\n\r]")


@dataclass(frozen=True)
class NextPage:
    url: str
    layer: str


@dataclass(frozen=True)
class _Marker:
    """Where a URL carries its page number: ``kind`` names the place (comparable only with
    the same kind), ``number`` the value as written (may be zero-based)."""

    kind: str
    number: int


@dataclass(frozen=True)
class _Page:
    url: str  # the page's own URL, fragment removed
    base: str  # what relative hrefs resolve against (``<base href>`` or url)
    host: str
    listing: tuple[str, str]  # (host, path without page marker): "the same listing"
    marker: _Marker | None
    doc: Any  # lxml root element


@dataclass(frozen=True)
class _Candidate:
    url: str
    element: Any
    order: int


# ------------------------------------------------------------------------------------------
# public API


def next_page(html: str, url: str, declared_xpaths: Sequence[str] = ()) -> NextPage | None:
    """The next page of the listing ``html`` (served at ``url``), or None on the last page."""
    page = _page(html, url)
    if page is None:
        return None
    layers: tuple[tuple[str, Callable[[_Page], str | None]], ...] = (
        ("declared", lambda p: _declared(p, declared_xpaths)),
        ("rel-next", _rel_next),
        ("label", _label),
        ("class", _class),
        ("numbered", _numbered),
        ("wordpress", _wordpress),
    )
    for layer, find in layers:
        found = find(page)
        if found is not None:
            return NextPage(found, layer)
    return None


def feed_links(html: str, url: str) -> list[str]:
    """RSS/Atom feeds the page announces (``<link rel="alternate" type=…>``): absolute URLs,
    in page order, without duplicates. Feeds may live on another host (FeedBurner).
    Comment feeds (WordPress announces one beside the posts feed) are no news feeds."""
    doc = _parse(html)
    if doc is None:
        return []
    base = _base_url(doc, url)
    found: list[str] = []
    for link in doc.iter("link"):
        rel = _tokens(link.get("rel"))
        kind = (link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" not in rel or kind not in _FEED_TYPES:
            continue
        if _COMMENTS.search(link.get("href") or "") or _COMMENTS.search(link.get("title") or ""):
            continue
        absolute = _absolute(link.get("href"), base)
        if absolute is not None and absolute not in found:
            found.append(absolute)
    return found


_LINK_DATE = re.compile(
    r"(?<!\d)\d{1,2}\.\s?\d{1,2}\.\s?\d{4}(?:,?\s+\d{1,2}:\d{2})?|"
    r"(?<!\d)\d{1,2}\.\s*[A-Za-zÄÖÜäöü]+\.?\s+\d{4}|\d{4}-\d{2}-\d{2}"
)
_ITEM_ANCESTORS = 3


def link_dates(html: str, url: str) -> dict[str, str]:
    """For each link of a listing, the date written next to it (the smallest enclosing
    element, up to three levels up, that shows exactly one date): the ``listing`` date
    layer for articles whose page has none. Values are the date texts, as written."""
    doc = _parse(html)
    if doc is None:
        return {}
    base = _base_url(doc, url)
    found: dict[str, str] = {}
    for link in doc.iter("a"):
        target = _absolute(link.get("href"), base)
        if target is None or target in found:
            continue
        node = link
        for _ in range(_ITEM_ANCESTORS + 1):
            dates = _LINK_DATE.findall(node.text_content())
            if len(dates) == 1:
                found[target] = dates[0]
                break
            if len(dates) > 1:
                break  # the element holds several items: no date is this link's
            parent = node.getparent()
            if parent is None:
                break
            node = parent
    return found


_COMMENTS = re.compile(r"comments?|kommentar", re.IGNORECASE)
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE)


def sitemaps_from_robots(robots_txt: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, in order, without duplicates."""
    found: list[str] = []
    for line in robots_txt.lstrip("\ufeff").splitlines():
        match = _SITEMAP_LINE.match(line)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


# ------------------------------------------------------------------------------------------
# layers


def _declared(page: _Page, xpaths: Sequence[str]) -> str | None:
    for xpath in xpaths:
        results = page.doc.xpath(xpath, namespaces=_XPATH_NS)
        if not isinstance(results, list):
            results = [results]
        for result in results:
            href = result.get("href") if isinstance(result, etree._Element) else result
            if isinstance(href, str):
                accepted = _accept(page, href)
                if accepted is not None:
                    return accepted
    return None


def _rel_next(page: _Page) -> str | None:
    for element in page.doc.iter("link", "a", "area"):
        if "next" in _tokens(element.get("rel")):
            accepted = _accept(page, element.get("href"))
            if accepted is not None:
                return accepted
    return None


def _label(page: _Page) -> str | None:
    best: list[tuple[tuple[int, ...], str]] = []
    for candidate in _anchors(page):
        word = _next_label(candidate.element)
        if word is None:
            continue
        same = _same_listing(page, candidate.url)
        if not same and word in _AMBIGUOUS_WORDS:
            continue
        best.append(
            ((_number_rank(page, candidate.url), 0 if same else 1, candidate.order), candidate.url)
        )
    return min(best)[1] if best else None


def _class(page: _Page) -> str | None:
    best: list[tuple[tuple[int, ...], str]] = []
    for candidate in _anchors(page):
        depth = _next_class_depth(candidate.element)
        if depth is None:
            continue
        rank = (depth, _number_rank(page, candidate.url), candidate.order)
        best.append((rank, candidate.url))
    return min(best)[1] if best else None


def _numbered(page: _Page) -> str | None:
    numbered: list[tuple[int, _Candidate]] = []  # (number in the link text, link)
    unlabelled: list[_Candidate] = []  # same-listing links with a page marker, no number text
    for candidate in _anchors(page):
        if not _same_listing(page, candidate.url):
            continue
        number = _number_text(candidate.element)
        if number is not None:
            numbered.append((number, candidate))
        elif _marker(candidate.url) is not None:
            unlabelled.append(candidate)
    offset = _marker_offset(numbered)
    # Pagination links (a page number in the URL) first: the current page is read near them.
    ordered = sorted(numbered, key=lambda nc: _marker(nc[1].url) is None)
    current = _current_page(page, [c.element for _, c in ordered], offset)
    for number, candidate in numbered:
        if number == current + 1:
            return candidate.url
    if offset is None:
        return None
    for candidate in unlabelled:
        marker = _marker(candidate.url)
        if (
            marker is not None
            and marker.number + offset == current + 1
            and (page.marker is None or page.marker.kind == marker.kind)
        ):
            return candidate.url
    return None


def _wordpress(page: _Page) -> str | None:
    path = urlsplit(page.url).path
    is_wordpress = path.endswith("/") or page.doc.xpath(
        "boolean(//*[contains(@href, '/wp-content/') or contains(@src, '/wp-content/')])"
    )
    if not is_wordpress:
        return None
    match = _PATH_PAGE.search(path)
    current = int(match.group(1)) if match else 1
    base = _PATH_PAGE.sub("/", path) if match else path
    if not base.endswith("/"):
        return None
    target = f"{base}page/{current + 1}/"
    for candidate in _anchors(page):
        if urlsplit(candidate.url).path == target:
            return candidate.url
    return None


# ------------------------------------------------------------------------------------------
# helpers: the page and its links


def _parse(html: str) -> Any:
    if not html or not html.strip():
        return None
    parser = lxml_html.HTMLParser(encoding="utf-8")
    try:
        return lxml_html.fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def _page(html: str, url: str) -> _Page | None:
    doc = _parse(html)
    if doc is None:
        return None
    own = _defragment(url.strip())
    host = _host(own)
    return _Page(own, _base_url(doc, own), host, _listing(own), _marker(own), doc)


def _base_url(doc: Any, url: str) -> str:
    for href in doc.xpath("//base/@href"):
        cleaned = _clean_href(str(href))
        if cleaned and not cleaned.lower().startswith(_REJECTED_SCHEMES):
            return urljoin(url, cleaned)
    return url


def _clean_href(href: str) -> str:
    return _CONTROL_WS.sub("", href.strip())


def _absolute(href: str | None, base: str) -> str | None:
    if href is None:
        return None
    cleaned = _clean_href(href)
    if not cleaned or cleaned.startswith("#") or cleaned.lower().startswith(_REJECTED_SCHEMES):
        return None
    absolute = _defragment(urljoin(base, cleaned))
    if urlsplit(absolute).scheme not in ("http", "https"):
        return None
    return absolute


def _accept(page: _Page, href: str | None) -> str | None:
    """``href`` as an absolute URL if it may be the next page: same host, not this page,
    not an earlier page of the same listing."""
    absolute = _absolute(href, page.base)
    if absolute is None or _host(absolute) != page.host:
        return None
    if _same_url(absolute, page.url) or _is_earlier(page, absolute):
        return None
    return absolute


def _anchors(page: _Page) -> Iterator[_Candidate]:
    for order, element in enumerate(page.doc.iter("a", "area")):
        accepted = _accept(page, element.get("href"))
        if accepted is not None:
            yield _Candidate(accepted, element, order)


def _defragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _host(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return host if port is None or port == default else f"{host}:{port}"


def _same_url(a: str, b: str) -> bool:
    return _url_key(a) == _url_key(b)


def _url_key(url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    path = re.sub(r";jsessionid=[^/?#]*", "", _unquote_all(parts.path), flags=re.I) or "/"
    query = tuple(sorted(parse_qsl(_unquote_all(parts.query), keep_blank_values=True)))
    return _host(url), path, query


def _unquote_all(text: str) -> str:
    for _ in range(3):  # GSB encodes twice
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


# ------------------------------------------------------------------------------------------
# helpers: page numbers


def _marker(url: str) -> _Marker | None:
    """Where ``url`` carries its page number, if it does in a known way."""
    parts = urlsplit(url)
    path_match = _PATH_PAGE.search(parts.path)
    if path_match:
        return _Marker("path", int(path_match.group(1)))
    matrix = _MATRIX_PAGE.search(parts.path)
    if matrix:
        return _Marker("matrix", int(matrix.group(1)))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        lowered = name.lower()
        if lowered == "gtp":
            gsb = _GSB_PAGE.match(_unquote_all(value))
            if gsb:
                return _Marker(f"gtp:{gsb.group('id')}", int(gsb.group("n")))
        elif _is_page_param(lowered) and value.isdigit():
            return _Marker(f"q:{lowered}", int(value))
    return None


def _is_page_param(name: str) -> bool:
    return name in _QUERY_PAGE_NAMES or name.endswith(("[page]", "[currentpage]"))


def _listing(url: str) -> tuple[str, str]:
    path = urlsplit(url).path
    path = _PATH_PAGE.sub("/", path)
    path = _MATRIX_PAGE.sub("", path)
    path = re.sub(r";jsessionid=[^/?#]*", "", _unquote_all(path), flags=re.I)
    return _host(url), path or "/"


def _same_listing(page: _Page, url: str) -> bool:
    return _listing(url) == page.listing


def _is_earlier(page: _Page, url: str) -> bool:
    """``url`` is this or an earlier page of this page's listing (as far as the URLs say)."""
    if not _same_listing(page, url) or page.marker is None:
        return False
    marker = _marker(url)
    if marker is None:
        return True  # the listing without a page number is its first page
    return marker.kind == page.marker.kind and marker.number <= page.marker.number


def _number_rank(page: _Page, url: str) -> int:
    """0 when the URLs say ``url`` is the page right after this one, 1 when they cannot say,
    2 when they say it is a later page (a "»" to the last page)."""
    marker = _marker(url)
    if marker is None or not _same_listing(page, url):
        return 1
    if page.marker is None:
        return 0 if marker.number <= 2 else 2  # from page 1: page 2 (or 1, zero-based)
    if marker.kind != page.marker.kind:
        return 1
    return 0 if marker.number == page.marker.number + 1 else 2


def _marker_offset(numbered: list[tuple[int, _Candidate]]) -> int | None:
    """Page number in the link text minus the number in its URL, when the numbered links
    agree on it (1 for zero-based ``pageNo``), else None."""
    offsets = set()
    for number, candidate in numbered:
        marker = _marker(candidate.url)
        if marker is not None:
            offsets.add(number - marker.number)
    return offsets.pop() if len(offsets) == 1 else None


def _current_page(page: _Page, numbered_links: list[Any], offset: int | None) -> int:
    """The current page: as the page marks it, else from the URL, else 1."""
    marked = _marked_current(page.doc, numbered_links)
    if marked is not None:
        return marked
    if page.marker is not None:
        return page.marker.number + (offset or 0)
    return 1


def _marked_current(doc: Any, numbered_links: list[Any]) -> int | None:
    """The current page as the pagination marks it: ``aria-current``, a current/active
    class, or a bare number that is no link ("<span>2</span>"). Looked for only around the
    numbered links (up to 3 levels up), so a highlighted year tab elsewhere does not count."""
    areas: list[Any] = []
    for level in range(1, _CLASS_DEPTH + 1):
        for link in numbered_links:
            ancestor = link
            for _ in range(level):
                ancestor = ancestor.getparent() if ancestor is not None else None
            if ancestor is not None and not any(ancestor is a for a in areas):
                areas.append(ancestor)
    for area in areas:
        for element in area.xpath(".//*[@aria-current='page' or @aria-current='true']"):
            number = _trailing_number(element)
            if number is not None:
                return number
        for element in area.iter():
            if isinstance(element.tag, str) and _tokens(element.get("class")) & _CURRENT_CLASSES:
                number = _number_text(element)
                if number is not None:
                    return number
        for element in area.iter("span", "strong", "em", "b", "li", "p", "div"):
            if element.xpath("boolean(ancestor-or-self::a or .//a)"):
                continue
            number = _number_text(element)
            if number is not None:
                return number
    return None


def _number_text(element: Any) -> int | None:
    match = _NUMBER_LABEL.match(_normalise(element.text_content()))
    return int(match.group(1)) if match else None


def _trailing_number(element: Any) -> int | None:
    text = _normalise(element.text_content())
    match = _TRAILING_NUMBER.search(text)
    return int(match.group(1)) if match and len(text) <= 40 else None


# ------------------------------------------------------------------------------------------
# helpers: labels and classes


def _normalise(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "").replace("\u00a0", " ").replace("\u200b", "")
    return " ".join(text.split()).lower()


def _next_label(element: Any) -> str | None:
    """The next-page word ``element`` is labelled with ("" for arrows only), or None."""
    aria = element.get("aria-label")
    if aria is not None and aria.strip():
        labels = [aria]
    else:
        text = element.text_content()
        if not text.strip():
            text = " ".join(str(alt) for alt in element.xpath(".//img/@alt"))
        labels = [element.get("title") or "", text]
    words = [_label_word(label) for label in labels]
    if any(_OTHER_WORDS.search(_normalise(label)) for label in labels):
        return None
    return next((w for w in words if w is not None), None)


def _label_word(label: str) -> str | None:
    text = _normalise(label)
    if not text or any(c in _BACKWARD_ARROWS for c in text):
        return None
    stripped = text.strip(_FORWARD_ARROWS + " .:").strip()
    if not stripped:
        return ""  # arrows only
    return stripped if stripped in _NEXT_WORDS else None


def _next_class_depth(element: Any) -> int | None:
    """0 when the link itself has a next/forward class, n when its n-th ancestor has."""
    node = element
    for depth in range(_CLASS_DEPTH + 1):
        if node is None or not isinstance(node.tag, str):
            return None
        classes = _tokens(node.get("class"))
        if classes & _DISABLED_CLASSES or node.get("aria-disabled") == "true":
            return None
        if classes & _NEXT_CLASSES:
            return depth
        node = node.getparent()
    return None


def _tokens(value: str | None) -> set[str]:
    return set((value or "").lower().split())
