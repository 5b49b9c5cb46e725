"""The headline in layers, cleaned of what CMSs glue to it.

Layers, first plausible value wins: ``declared`` (the source's title XPaths) → ``meta``
(``og:title``, ``twitter:title``, JSON-LD ``headline``) → ``h1`` (the ``h1`` inside
``main``/``article``, else the page's only ``h1``) → ``lead-in`` (when no headline element
is plausible: the short text right before the first body paragraph, where old CMSs put
the headline in a styled ``div``/``span``; images and their captions are skipped) →
``trafilatura`` (its metadata title of the whole page) → ``html-title`` (``<title>``
without the site-name suffix).

A date or a type word ("Meldung", "Pressemitteilung") glued to the start or end is removed.
A value is implausible when empty, too short or long, only a type word, the site's name, or
one of the source's template lines (a line on most of its pages is not a headline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from lxml import html as lxml_html

from scraper.extract.page import (
    first_xpath_text,
    json_ld,
    json_ld_values,
    main_scope,
    meta_values,
    node_text,
    normalise_space,
)

TYPE_WORDS = (
    "Meldung",
    "Kurzmeldung",
    "Pressemitteilung",
    "Pressemeldung",
    "Pressemitteilungen",
    "Presseinformation",
    "Nachricht",
    "Nachrichten",
    "News",
    "Aktuelles",
    "Artikel",
    "Press release",
    "Termin",
)
_TYPE = "|".join(re.escape(w) for w in TYPE_WORDS)
_DATE = r"\d{1,2}\.\s?\d{1,2}\.\s?\d{4}(?:,?\s+\d{1,2}:\d{2}(?:\s*Uhr)?)?|\d{4}-\d{2}-\d{2}"
_SEP = r"[\s:|·•–—-]*"
_LEADING = re.compile(rf"^(?:(?:{_TYPE})(?=$|[\s:|·•–—-]|\d){_SEP}|(?:{_DATE}){_SEP})+", re.I)
_TRAILING = re.compile(rf"(?:{_SEP}(?:{_DATE}))+$")
_SUFFIX_SEPARATORS = re.compile(r"\s+(?:[|–—-]|::|·)\s+")
MIN_CHARS = 4
MAX_CHARS = 300
IsTemplate = Callable[[str], bool]


def clean_title(value: str) -> str:
    value = normalise_space(value)
    previous = None
    while previous != value:
        previous = value
        value = _LEADING.sub("", value)
        value = _TRAILING.sub("", value).strip()
    return value.strip(" :|-–—")


def strip_site_suffix(
    title: str, site_names: list[str], blind: bool = False, host_label: str = ""
) -> str:
    """ "Headline - Site name" → "Headline": cut the parts at either end that the page names
    as its site (or that carry the host's name); with ``blind`` (``<title>``, which CMSs
    always suffix) at least the last part. The headline keeps its own dashes."""
    names = {n.lower() for n in site_names}

    def is_site(part: str) -> bool:
        squashed = re.sub(r"\W", "", part.lower())
        named = bool(host_label and host_label in squashed and len(part.split()) <= 4)
        return part.strip().lower() in names or named

    cuts = list(_SUFFIX_SEPARATORS.finditer(title))
    start, end = 0, len(title)
    while cuts and is_site(title[cuts[-1].end() : end]):
        end = cuts.pop().start()
    if end == len(title) and cuts:
        if is_site(title[: cuts[0].start()]):
            start = cuts[0].end()  # "Site - Headline"
        elif blind:
            end = cuts.pop().start()  # CMSs append the site's name, whatever it is called
            while cuts and is_site(title[cuts[-1].end() : end]):
                end = cuts.pop().start()
    return title[start:end].strip()


def host_label(url: str) -> str:
    """ "www.clib2021.de" → "clib2021": the name a site calls itself by, often."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return re.sub(r"\W", "", host.split(".")[0]) if "." in host else ""


def site_names(tree: lxml_html.HtmlElement) -> list[str]:
    names = meta_values(tree, "og:site_name", "application-name")
    for item in json_ld(tree):
        publisher = item.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            names.append(normalise_space(publisher["name"]))
    return names


# The page's own statements of its headline are never template lines.
TRUSTED_LAYERS = ("declared", "meta")


def plausible(
    value: str, names: list[str], is_template: IsTemplate | None, layer: str = ""
) -> bool:
    if not MIN_CHARS <= len(value) <= MAX_CHARS:
        return False
    if value.lower() in {w.lower() for w in TYPE_WORDS} | {n.lower() for n in names}:
        return False
    if layer in TRUSTED_LAYERS:
        return True
    return not (is_template and is_template(value))


def _h1(tree: lxml_html.HtmlElement) -> str:
    for scope in main_scope(tree):
        for h1 in scope.iter("h1"):
            text = node_text(h1)
            if text:
                return text
    headings = [node_text(h) for h in tree.iter("h1")]
    headings = [h for h in headings if h]
    return headings[0] if len(headings) == 1 else ""


_LEAD_IN_TAGS = ("p", "div", "td", "li", "section", "article", "span", "h2", "h3", "h4", "h5")
LEAD_IN_PROBE = 60


def holder_of(tree: lxml_html.HtmlElement, paragraph: str) -> lxml_html.HtmlElement | None:
    """The deepest element whose text starts with ``paragraph``."""
    probe = normalise_space(paragraph)[:LEAD_IN_PROBE]
    if len(probe) < 20:
        return None
    holder = None
    for element in tree.iter(*_LEAD_IN_TAGS):
        if node_text(element).startswith(probe):
            holder = element  # iter is document order: the last match is the deepest
    return holder


def preceding_texts(holder: lxml_html.HtmlElement) -> Iterator[str]:
    """Texts of the elements before ``holder`` in reading order, nearest first."""
    for text, _element in preceding_elements(holder):
        yield text


def preceding_elements(
    holder: lxml_html.HtmlElement,
) -> Iterator[tuple[str, lxml_html.HtmlElement]]:
    """(text, element) of the elements before ``holder``, nearest first; image boxes are
    skipped."""
    node: lxml_html.HtmlElement | None = holder
    while node is not None:
        for previous in node.itersiblings(preceding=True):
            if not isinstance(previous.tag, str) or previous.tag in ("script", "style"):
                continue
            if previous.tag in ("img", "figure", "picture") or any(
                True for _ in previous.iter("img", "picture", "figure")
            ):
                continue  # an image box: its caption is not the headline or the lead
            text = node_text(previous)
            if text:
                yield text, previous
        node = node.getparent()
        if node is not None and node.tag in ("body", "html"):
            return


def lead_in(tree: lxml_html.HtmlElement, first_paragraph: str) -> str:
    """The nearest short text before the element holding the body's first paragraph."""
    holder = holder_of(tree, first_paragraph)
    if holder is None or any(True for _ in holder.iterancestors("h1")):
        return ""
    for text in preceding_texts(holder):
        return text if len(text) <= MAX_CHARS else ""
    return ""


def _candidates(
    tree: lxml_html.HtmlElement,
    xpaths: tuple[str, ...],
    metadata_title: Callable[[], str],
    first_paragraph: str,
    label: str,
) -> Iterator[tuple[str, str]]:
    yield "declared", first_xpath_text(tree, xpaths)
    for value in meta_values(tree, "og:title", "twitter:title") + json_ld_values(tree, "headline"):
        yield "meta", value
    yield "h1", _h1(tree)
    yield "lead-in", lead_in(tree, first_paragraph)
    yield "trafilatura", metadata_title()
    title = tree.find(".//title")
    if title is not None:
        yield "html-title", strip_site_suffix(node_text(title), site_names(tree), True, label)


def page_title(
    tree: lxml_html.HtmlElement,
    xpaths: tuple[str, ...],
    metadata_title: Callable[[], str],
    is_template: IsTemplate | None = None,
    first_paragraph: str = "",
    url: str = "",
) -> tuple[str, str] | None:
    names = site_names(tree)
    label = host_label(url)
    for layer, raw in _candidates(tree, xpaths, metadata_title, first_paragraph, label):
        value = clean_title(raw) if raw else ""
        if layer in ("meta", "trafilatura"):
            value = clean_title(strip_site_suffix(value, names, False, label)) if value else ""
        if value and plausible(value, names, is_template, layer):
            return value, layer
    return None
