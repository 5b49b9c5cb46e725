"""Reading a page: decoding, parsing, and the generic signals every CMS emits in its head."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode

from scraper.text import printable

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACE = re.compile(r"\s+")


def decode(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Text and encoding of a response body, the way browsers (and Scrapy) decide it:
    BOM, then the Content-Type header, then the page's own declaration, then detection."""
    encoding, text = html_to_unicode(content_type, body)
    return text, encoding


MISLABEL_FALLBACK = "windows-1252"  # what a page mislabelled as UTF-8 is, nearly always


class Undecodable(ValueError):
    """A body that is valid neither in its declared charset nor in the fallback."""


def repaired_content_type(body: bytes, content_type: str | None) -> str | None:
    """The content type to decode a body with when its declared UTF-8 is wrong, else None.

    A body labelled UTF-8 that is not valid UTF-8 would decode with U+FFFD replacement
    characters — text corrupted for good once stored. Windows-1252 bytes are by far the most
    common cause (the WHATWG encoding standard's default for legacy pages), so such a body
    is decoded as Windows-1252 when it is valid there; otherwise it is refused
    (``Undecodable``). Single-byte charsets decode any byte and are taken as declared.
    """
    encoding, _text = html_to_unicode(content_type, body)
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        return None
    try:
        body.decode("utf-8")
        return None
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        body.decode(MISLABEL_FALLBACK)
    except UnicodeDecodeError:
        raise Undecodable(
            f"text is valid neither as the declared UTF-8 ({utf8_error.reason} at byte "
            f"{utf8_error.start}) nor as {MISLABEL_FALLBACK}"
        ) from None
    mime = (content_type or "text/html").split(";")[0].strip() or "text/html"
    return f"{mime}; charset={MISLABEL_FALLBACK}"


def parse(page: str | bytes, content_type: str | None = None) -> lxml_html.HtmlElement:
    if isinstance(page, bytes):
        page, _ = decode(page, content_type)
    # lxml refuses str input that still declares an encoding, and fails on control
    # characters and lone surrogates when a tree is modified (scraper/text.py).
    page = printable(_XML_DECLARATION.sub("", page))
    if not page.strip():
        raise ValueError("empty page")
    try:
        return lxml_html.document_fromstring(page)
    except etree.ParserError as error:
        raise ValueError(str(error)) from error


def normalise_space(value: str) -> str:
    return _SPACE.sub(" ", value).strip()


def node_text(node: object) -> str:
    if isinstance(node, str):
        return normalise_space(node)
    if isinstance(node, etree._Element):
        return normalise_space(node.text_content())
    return ""


def xpath_texts(tree: lxml_html.HtmlElement, xpath: str) -> list[str]:
    try:
        result = tree.xpath(xpath)
    except etree.XPathError:
        return []
    nodes = result if isinstance(result, list) else [result]
    return [t for t in (node_text(n) for n in nodes) if t]


def first_xpath_text(tree: lxml_html.HtmlElement, xpaths: Iterable[str]) -> str:
    for xpath in xpaths:
        texts = xpath_texts(tree, xpath)
        if texts:
            return texts[0]
    return ""


def meta_values(tree: lxml_html.HtmlElement, *names: str) -> list[str]:
    """Contents of ``<meta property|name|itemprop=…>`` for the given names, in page order."""
    wanted = {n.lower() for n in names}
    found = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in wanted and (meta.get("content") or "").strip():
            found.append(normalise_space(meta.get("content") or ""))
    return found


def json_ld(tree: lxml_html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page (``@graph`` members included); broken blocks skipped."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if not isinstance(item, dict):
                continue
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                stack.extend(graph)


def json_ld_values(tree: lxml_html.HtmlElement, key: str) -> list[str]:
    values = []
    for item in json_ld(tree):
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            values.append(normalise_space(value))
    return values


def main_scope(tree: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The page's main content elements, where a CMS marks them (article, main, role=main)."""
    for xpath in ("//article", "//main", "//*[@role='main']", "//*[@itemprop='articleBody']"):
        found = [n for n in tree.xpath(xpath) if isinstance(n, lxml_html.HtmlElement)]
        if found:
            return found
    return []
